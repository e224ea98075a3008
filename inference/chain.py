"""The one stage chain every frame goes through: live, Review and ``process``.

    ROI ─▶ prepare ─▶ segment ─▶ gate ─▶ compose ─▶ sinks (frame hooks, the view's slot)
    └ the thread that reads frames ┘ └ the inference thread ┘ └ the thread that publishes ┘

Each stage has one job and a declared name (:data:`STAGE_NAMES`); it takes a frozen
:class:`Job` and returns a new one (``dataclasses.replace``), never changing the one it got, so
a frame's state at each step is the job in hand. The chain is built in one place
(:class:`StageChain`, owned by :class:`~.pipeline.Pipeline`); the live capture and inference
threads, the review player and the batch reader/writer only decide which thread runs which
part (:meth:`StageChain.enter`, :meth:`StageChain.segment`, :meth:`StageChain.finish`).

The stages read what may change while frames flow (the model, the style, the gate's
settings, the CAM heat) from one :class:`ChainSettings`, which only its pipeline writes.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..capture.frame import Frame
from .gate.marks import ENGLISH, GateWords, draw_gate_line, draw_lines, draw_mark, gate_lines
from .gate.ood import OodGate
from .overlay import Overlay, OverlayStyle
from .segmenter import Segmentation, Segmenter
from .stats import LatencyStats, Timings
from .temporal import TemporalFilter

STAGE_NAMES = ("roi", "prepare", "segment", "gate", "compose")

#: the ROI choice of a source: the frame cropped to the ultrasound image, or None to hold
#: the frame back (the region is still being detected)
RoiFn = Callable[[Frame], "Frame | None"]
#: the CAM heat for a frame: (map or None, class name or None, frames between map and frame)
HeatFn = Callable[[Frame], "tuple[np.ndarray | None, str | None, int | None]"]
#: a failed inference: returns the segmenter to retry with (the CPU fallback), or None
FailFn = Callable[[Segmenter, Exception], "Segmenter | None"]


@dataclass(frozen=True)
class Job:
    """One frame on its way through the chain. Stages return a new job; the frame's
    per-stage durations go into its one :class:`Timings` record."""

    frame: Frame
    timings: Timings
    decide_now: bool = False  # judged alone against the training data (no 0.5 s hold)
    smooth: bool = False  # follows the previous frame: the temporal filter may apply
    # segment
    seg_model: Segmenter | None = None
    overlay: Overlay | None = None
    style: OverlayStyle | None = None
    heat: np.ndarray | None = None
    heat_ms: float = 0.0
    cam_class: str | None = None
    cam_age: int | None = None
    seg: Segmentation | None = None
    image: np.ndarray | None = None  # the device route's finished picture, then the result
    on_device: bool = False
    # gate
    hidden: bool = False
    anyway: bool = False
    weight: float = 1.0
    # compose
    t_composed: float = 0.0

    @classmethod
    def enter(cls, frame: Frame, decide_now: bool = False, smooth: bool = False) -> Job:
        """A job for ``frame`` entering the pipeline now (its added latency counts from here)."""
        tm = Timings(capture=frame.capture_ms, t_enter=time.perf_counter())
        return cls(frame=frame, timings=tm, decide_now=decide_now, smooth=smooth)


@dataclass
class Result:
    """One composed frame on its way to the view."""

    frame: Frame
    image: np.ndarray
    seg: Segmentation | None
    model_name: str = ""
    cam_class: str | None = None
    cam_age: int | None = None  # frames between the CAM's frame and this one
    t_composed: float = 0.0
    #: who published it: "live" (the capture run) or "review" (the clip player)
    origin: str = "live"
    #: review results: which clip the player had open (its count of opened clips), so that
    #: a frame of the previous clip, still in flight, is never taken for the new one's
    clip: int = 0
    ood_hidden: bool = False  # the picture has been unlike the training data for a while
    ood_shown_anyway: bool = False  # ... and the user asked to see the overlay all the same
    timings: Timings = field(default_factory=Timings)

    def finish_handoff(self, stats: LatencyStats | None = None) -> None:
        """Call when the view has the frame: closes the timing record."""
        now = time.perf_counter()
        t = self.timings
        t.handoff = (now - self.t_composed) * 1000
        t.total = t.capture + (now - t.t_enter) * 1000
        if stats is not None:
            stats.add(t)


@dataclass
class ChainSettings:
    """What the stages read while frames flow; written only by the owning pipeline (under
    its lock where a swap must be seen whole)."""

    segmenter: Segmenter | None = None
    overlay: Overlay | None = None
    style: OverlayStyle = field(default_factory=OverlayStyle)
    heat: HeatFn | None = None
    temporal: TemporalFilter | None = None
    show_ood: bool = False
    gate_words: GateWords = ENGLISH
    gate: OodGate = field(default_factory=OodGate)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def model(self) -> tuple[Segmenter | None, Overlay | None, OverlayStyle]:
        with self.lock:
            return self.segmenter, self.overlay, self.style


# ---- the stages ---------------------------------------------------------------------------
class RoiStage:
    """The ultrasound region of the source: crops the frame (or holds it back). The crop is
    charged to capture (the source's ``capture_ms``), so the job enters after it."""

    name = "roi"

    def __call__(self, job: Job, roi: RoiFn | None) -> Job | None:
        if roi is None:
            return job
        frame = roi(job.frame)
        if frame is None:
            return None
        return dataclasses.replace(job, frame=frame, timings=Job.enter(frame).timings)


class PrepareStage:
    """The network's input made ahead, on the thread that reads frames, where it overlaps the
    previous frame's forward pass (the host route; the device route resizes on the GPU)."""

    name = "prepare"

    def __init__(self, settings: ChainSettings) -> None:
        self.settings = settings

    def __call__(self, job: Job) -> Job:
        seg = self.settings.segmenter  # read once: a model swap may replace it meanwhile
        prep = seg.host_preprocessor if seg is not None else None
        if prep is None:
            return job
        t0 = time.perf_counter()
        try:
            x = prep(job.frame.pixels)
        except Exception:  # noqa: BLE001 - the segment stage will try (and report) again
            return job
        frame = dataclasses.replace(job.frame, net_input=(prep.key, x, _ms(t0)))
        return dataclasses.replace(job, frame=frame)


class SegmentStage:
    """The CAM heat for the frame, then the network (on the device route composing too).
    When the GPU runs out of memory or is lost, the frame is tried once more on the
    replacement ``on_failure`` returns (the CPU fallback)."""

    name = "segment"

    def __init__(self, settings: ChainSettings, on_failure: FailFn) -> None:
        self.settings = settings
        self.on_failure = on_failure

    def __call__(self, job: Job) -> Job:
        seg_model, overlay, style = self.settings.model()
        frame, tm = job.frame, job.timings
        t_heat = time.perf_counter()
        heat, cam_cls, cam_age = (None, None, None)
        provider = self.settings.heat  # read once: the GUI thread may clear it meanwhile
        if provider is not None:
            try:
                heat, cam_cls, cam_age = provider(frame)
            except Exception:  # noqa: BLE001 - no heatmap this frame, masks go on
                heat, cam_cls, cam_age = (None, None, None)
        heat_ms = _ms(t_heat)
        smoother = self.settings.temporal if job.smooth else None  # the GUI may switch it
        seg = image = None
        on_device = False
        for _attempt in range(2):
            if seg_model is None:
                break
            on_device = overlay is not None and seg_model.device_route is not None
            try:
                if on_device:
                    seg, image = seg_model.segment_compose(frame, style, heat, smoother, tm)
                else:
                    seg = seg_model.segment(frame, smoother, tm)
                break
            except Exception as e:  # noqa: BLE001 - inference errors become a message
                seg, image = None, None
                if self.on_failure(seg_model, e) is None:
                    break
                seg_model, overlay, style = self.settings.model()
        return dataclasses.replace(
            job,
            seg_model=seg_model,
            overlay=overlay,
            style=style,
            heat=heat,
            heat_ms=heat_ms,
            cam_class=cam_cls,
            cam_age=cam_age,
            seg=seg,
            image=image,
            on_device=on_device,
        )


class GateStage:
    """The training-data gate: hides the overlay on pictures unlike the training data (a
    0.5 s hold while frames flow; ``decide_now`` for a frame looked at alone), fading it
    out and back in, unless the user asked to see it anyway."""

    name = "gate"

    def __init__(self, settings: ChainSettings) -> None:
        self.settings = settings

    def __call__(self, job: Job) -> Job:
        s = self.settings
        verdict = job.seg.in_distribution if job.seg else None
        t = job.frame.timestamp
        hidden = s.gate.decide_now(verdict) if job.decide_now else s.gate.update(verdict, t)
        anyway = hidden and s.show_ood
        weight = 1.0 if anyway else s.gate.overlay_weight(t)
        return dataclasses.replace(job, hidden=hidden, anyway=anyway, weight=weight)


class ComposeStage:
    """The picture: the CPU overlay (masks, contours, names, heat), the device route's
    picture, or one plain line when the gate hides the overlay; then the gate's marks."""

    name = "compose"

    def __init__(self, settings: ChainSettings) -> None:
        self.settings = settings

    def __call__(self, job: Job) -> Job:
        words = self.settings.gate_words
        frame, seg, seg_model, tm = job.frame, job.seg, job.seg_model, job.timings
        image, cam_cls, cam_age = job.image, job.cam_class, job.cam_age
        if job.hidden and not job.anyway and seg_model is not None and job.weight <= 0.0:
            t0 = time.perf_counter()  # masks, names and CAM give way to one plain line
            image = draw_gate_line(frame.pixels, seg_model.card, words)
            t1 = time.perf_counter()
            tm.compose = job.heat_ms + (t1 - t0) * 1000
            cam_cls = cam_age = None
        elif job.on_device and image is not None:
            tm.compose += job.heat_ms  # segment_compose timed the rest
            t1 = time.perf_counter()
        else:
            t0 = time.perf_counter()
            if job.overlay is not None and seg is not None:
                image = job.overlay.compose(
                    frame.pixels, seg.labels, job.heat, frame.timestamp
                ).image
            else:
                image = frame.pixels
            t1 = time.perf_counter()
            tm.compose = job.heat_ms + (t1 - t0) * 1000
        if job.anyway and image is not None:
            image = draw_mark(np.array(image), words)
        elif 0.0 < job.weight < 1.0 and image is not None and seg_model is not None:
            # fading: the overlay gives way (or returns) over a few frames, never blinks
            image = cv2.addWeighted(image, job.weight, frame.pixels, 1.0 - job.weight, 0.0)
            if job.hidden:
                image = draw_lines(image, gate_lines(seg_model.card, words))
        return dataclasses.replace(
            job, image=image, cam_class=cam_cls, cam_age=cam_age, t_composed=t1
        )


# ---- the chain ----------------------------------------------------------------------------
class StageChain:
    """ROI → prepare → segment → gate → compose, built once per pipeline. The callers only
    choose the threads: :meth:`enter` where frames are read, :meth:`segment` and
    :meth:`finish` where they are inferred and composed (one thread or two)."""

    def __init__(self, settings: ChainSettings, on_failure: FailFn) -> None:
        self.settings = settings
        self.roi = RoiStage()
        self.prepare = PrepareStage(settings)
        self.segment_stage = SegmentStage(settings, on_failure)
        self.gate = GateStage(settings)
        self.compose = ComposeStage(settings)

    @property
    def stages(self) -> tuple[object, ...]:
        """The stages in order (their ``name`` s are :data:`STAGE_NAMES`)."""
        return (self.roi, self.prepare, self.segment_stage, self.gate, self.compose)

    def enter(
        self, frame: Frame, roi: RoiFn | None = None, decide_now: bool = False, smooth: bool = False
    ) -> Job | None:
        """ROI and prepare, on the thread that reads frames; None: the ROI holds it back."""
        job = self.roi(Job.enter(frame, decide_now, smooth), roi)
        return None if job is None else self.prepare(job)

    def segment(self, job: Job) -> Job:
        return self.segment_stage(job)

    def finish(self, job: Job) -> Job:
        """Gate and compose a segmented job."""
        return self.compose(self.gate(job))


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


__all__ = [
    "STAGE_NAMES",
    "Result",
    "ChainSettings",
    "ComposeStage",
    "GateStage",
    "Job",
    "PrepareStage",
    "RoiStage",
    "SegmentStage",
    "StageChain",
]
