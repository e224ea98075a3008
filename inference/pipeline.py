"""The live path: a capture thread and an inference thread joined by a latest-wins slot.

    source.read() ──▶ [LatestSlot] ──▶ segment ─▶ compose ──▶ publish ─▶ [LatestSlot] ──▶ view
      capture thread     drops old       inference thread               drops old    GUI thread

Neither hand-over queues: when the network is slower than the source, the frame waiting in
the slot is replaced and counted as dropped. The view side is notified only when the output
slot goes from empty to full, so the GUI event queue holds at most one pending frame.

Review (:class:`~.player.ClipPlayer`) processes with :meth:`Pipeline.process` on its own
worker and hands its frames over through the same :meth:`Pipeline.publish`, so the view,
the frame hooks (the recorder), the drop count and the latency figures are one path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..capture.frame import Frame
from ..capture.source import EndOfStream, FrameSource, SourceError
from .ood import ENGLISH, GateWords, OodGate, draw_gate_line, draw_lines, draw_mark, gate_lines
from .overlay import Overlay, OverlayStyle
from .segmenter import Segmentation, Segmenter
from .slot import LatestSlot
from .stats import LatencyStats, Timings
from .temporal import TemporalFilter

StatusCallback = Callable[[str, str], None]  # (kind, plain-words message)


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
class _Segmented:
    """A frame between segmenting and composing (see :meth:`Pipeline.segment_ahead`)."""

    frame: Frame
    seg: Segmentation | None
    image: np.ndarray | None  # the device route's finished picture, else None
    on_device: bool
    seg_model: Segmenter | None
    overlay: Overlay | None
    heat: np.ndarray | None
    heat_ms: float
    cam_cls: str | None
    cam_age: int | None
    timings: Timings


class Pipeline:
    def __init__(
        self,
        source: FrameSource | None,
        segmenter: Segmenter | None,
        style: OverlayStyle | None = None,
        on_status: StatusCallback | None = None,
        on_result: Callable[[], None] | None = None,
        keep_all_stats: bool = False,
    ) -> None:
        self.source = source
        self.segmenter = segmenter
        self.style = style or OverlayStyle()
        self.overlay = Overlay(segmenter.card, self.style) if segmenter else None
        self.on_status = on_status or (lambda kind, msg: None)
        self.on_result = on_result or (lambda: None)  # "a result is waiting" notification
        self.frames_in: LatestSlot[Frame] = LatestSlot()
        self.results: LatestSlot[Result] = LatestSlot()
        self.stats = LatencyStats(keep_all=keep_all_stats)
        #: review frames decoded but not shown because processing fell behind the clip's
        #: timing (the live path's drops are counted by its slots)
        self.skipped = 0
        self.frame_hooks: list[Callable[[Result], None]] = []  # recorder, CAM feeder, ...
        #: optional capture-thread filter (e.g. the ROI crop); returning None holds a frame back
        self.frame_filter: Callable[[Frame], Frame | None] | None = None
        self.heat_provider: (
            Callable[[Frame], tuple[np.ndarray | None, str | None, int | None]] | None
        ) = None
        self._lock = threading.Lock()  # guards segmenter/overlay/style swaps
        self._infer_lock = threading.Lock()  # one thread at a time uses the segmenter
        self._ctl = threading.RLock()  # guards starting and ending runs
        self._shutdown = threading.Event()
        self._infer_thread: threading.Thread | None = None
        self._run: tuple[threading.Event, threading.Thread] | None = None
        self.last_error: str | None = None
        self._source_gen = 0  # counts input switches (set_source)
        #: hides the overlay on pictures unlike the training data (0.5 s hold while frames flow)
        self.ood_gate = OodGate()
        self.show_ood = False  # "Show anyway": off by default, reset on a source or model change
        #: the words of the gate's lines on the picture (the app sets its translation)
        self.gate_words: GateWords = ENGLISH
        #: smooths the overlay over frames (Bedside's default); None: each frame on its own
        self.temporal: TemporalFilter | None = None

    # ---- figures -------------------------------------------------------------
    @property
    def dropped(self) -> int:
        return self.frames_in.dropped + self.results.dropped + self.skipped

    @property
    def running(self) -> bool:
        """True while a live capture run is active (review and batch call process() instead)."""
        return self._run is not None

    @property
    def _threads(self) -> list[threading.Thread]:
        return [t for t in ((self._run[1] if self._run else None), self._infer_thread) if t]

    # ---- control ---------------------------------------------------------------
    def start(self) -> None:
        """Start the inference thread (once) and a capture run for the current source."""
        with self._ctl:
            if self._infer_thread is None or not self._infer_thread.is_alive():
                self._shutdown.clear()
                self.frames_in.reopen()
                self._infer_thread = threading.Thread(
                    target=self._infer_loop, name="sonolive-infer", daemon=True
                )
                self._infer_thread.start()
            if self._run is None and self.source is not None:
                self._start_capture(self.source)

    def _start_capture(self, src: FrameSource) -> None:
        stop = threading.Event()
        t = threading.Thread(
            target=self._capture_loop, args=(src, stop), name="sonolive-capture", daemon=True
        )
        self._run = (stop, t)
        t.start()

    def _end_capture(self) -> None:
        """Ask the capture run to end without waiting for it: a source stuck in read() or
        open() must not hold up the caller (often the GUI thread). The capture thread closes
        its own source when it leaves, and never hands over a frame after being asked to stop."""
        if self._run is not None:
            self._run[0].set()
            self._run = None

    def stop(self, timeout: float = 1.0) -> None:
        """Shut everything down (window close); waits at most ``timeout`` per thread."""
        with self._ctl:
            run = self._run
            self._end_capture()
            self._shutdown.set()
            self.frames_in.close()
            threads = [t for t in (run[1] if run else None, self._infer_thread) if t]
            self._infer_thread = None
        for t in threads:
            t.join(timeout)

    def set_segmenter(self, segmenter: Segmenter | None) -> None:
        """Swap the model without stopping the threads (None: show frames without overlay)."""
        overlay = Overlay(segmenter.card) if segmenter else None  # finds fonts: not under the lock
        with self._lock:
            if overlay is not None:
                overlay.style = self.style  # the style now, not as it was before the build
            self.segmenter = segmenter
            self.overlay = overlay
            self.reset_ood()

    def reset_ood(self) -> None:
        """A new source or model: the gate starts afresh and "Show anyway" is off again; the
        temporal filter forgets the old picture."""
        self.ood_gate.reset()
        self.show_ood = False
        t = self.temporal
        if t is not None:
            t.reset()

    def set_temporal(self, on: bool) -> None:
        """Turn the temporal filter on (a fresh one) or off; takes effect on the next frame."""
        if on and self.temporal is None:
            self.temporal = TemporalFilter()
        elif not on:
            self.temporal = None

    def set_source(self, source: FrameSource | None) -> None:
        """Switch input without blocking: the old run ends in the background."""
        with self._ctl:
            live = self._run is not None
            self._end_capture()
            self.source = source
            self._source_gen += 1  # a frame of the old input still in flight is not shown
            self.frames_in.clear()
            self.results.clear()
            self.reset_ood()
            if live and source is not None:
                self._start_capture(source)

    def redo(self, frame: Frame) -> None:
        """Compose ``frame`` again on the inference thread, for a setting changed while no new
        frame comes (the end of a clip, a frozen source); latest wins as ever."""
        frame.mark_entered()
        self.frames_in.put(frame)

    def set_style(self, style: OverlayStyle) -> None:
        with self._lock:
            self.style = style
            if self.overlay is not None:
                self.overlay.style = style

    # ---- threads -----------------------------------------------------------------
    def _capture_loop(self, src: FrameSource, stop: threading.Event) -> None:
        try:
            self._capture(src, stop)
        finally:
            try:
                src.close()
            except Exception:  # noqa: BLE001 - closing must never take the app down
                pass

    def _capture(self, src: FrameSource, stop: threading.Event) -> None:
        try:
            src.open()
        except SourceError as e:
            self._status("error", str(e))
            return
        except Exception as e:  # noqa: BLE001
            self._status("error", f"The input could not be opened: {e}")
            return
        if stop.is_set():
            return
        self._status("live", src.describe())
        lost = False
        while not stop.is_set():
            try:
                frame = src.read()
                filt = self.frame_filter
                if filt is not None:
                    frame = filt(frame)
            except EndOfStream:
                self._status("end", src.describe())
                break
            except SourceError as e:
                if not lost and not stop.is_set():
                    self.frames_in.clear()  # never show a frame from before the outage
                    self.results.clear()
                    self._status("lost", str(e))
                lost = True
                time.sleep(0.05)
                continue
            except Exception as e:  # noqa: BLE001 - a broken source must not kill the app
                self._status("error", f"The source failed: {e}")
                time.sleep(0.2)
                continue
            if stop.is_set():
                break  # switched away while this frame was being read: drop it
            if lost:
                lost = False
                self._status("live", src.describe())
            if frame is None:
                continue
            frame.mark_entered()
            self.prepare_input(frame)
            self.frames_in.put(frame)

    def prepare_input(self, frame: Frame) -> None:
        """Make the network's input ahead, on the thread that reads frames, where it overlaps
        the previous frame's forward pass (the CPU path; the device path resizes on the GPU)."""
        seg = self.segmenter  # read once: a model swap may replace it meanwhile
        prep = seg.host_preprocessor if seg is not None else None
        if prep is None:
            return
        t0 = time.perf_counter()
        try:
            x = prep(frame.pixels)
        except Exception:  # noqa: BLE001 - the inference thread will try (and report) again
            return
        frame.net_input = (prep.key, x, (time.perf_counter() - t0) * 1000)

    def _infer_loop(self) -> None:
        while not self._shutdown.is_set():
            gen = self._source_gen
            frame = self.frames_in.take(timeout=0.1)
            if frame is None:
                continue
            try:
                result = self.process(frame, smooth=True)
            except Exception as e:  # noqa: BLE001 - the loop must outlive any one frame
                self._status("error", f"A frame could not be processed: {e}")
                continue
            if result is None or gen != self._source_gen:
                continue  # the input was switched (or review took over) meanwhile
            self.publish(result)

    def publish(self, result: Result) -> None:
        """Hand a finished frame to the view: the frame hooks (the recorder, …) first, then
        the latest-wins output slot, with ``on_result`` when the slot goes from empty to
        full. The live inference thread and the review player both publish here; while a
        live run is on, it owns the view and the recorder, and a review frame is dropped."""
        if result.origin == "review" and self.running:
            return
        self._run_frame_hooks(result)
        if not self.results.put(result):
            self.on_result()

    def _run_frame_hooks(self, result: Result) -> None:
        """A failing hook is reported in plain words and never stops the frames."""
        for hook in list(self.frame_hooks):
            try:
                hook(result)
            except Exception as e:  # noqa: BLE001
                self._status("error", f"{getattr(hook, '__name__', 'hook')}: {e}")

    def process(
        self, frame: Frame, decide_now: bool = False, smooth: bool = False
    ) -> Result | None:
        """Segment and compose one frame (also used directly by review and batch export).

        ``decide_now``: this frame alone decides whether it is like the training data (a
        paused or stepped review frame, an exported frame), instead of the 0.5 s hold that
        keeps a flowing picture from blinking. ``smooth``: the frame follows the previous one
        (the live loop, a batch run in order), so the temporal filter, when on, applies;
        review's random access leaves it off.

        Serialised: the live inference thread and a review worker never share the segmenter
        at the same moment.
        """
        with self._infer_lock:
            return self._finish(self._segment(frame, smooth), decide_now)

    def _segment(self, frame: Frame, smooth: bool = False) -> _Segmented:
        """Segment (and on the device route compose) one frame.

        A segmenter on the device route (CUDA, or ``route="device"``) takes the
        fast path, :meth:`Segmenter.segment_compose`; otherwise the CPU overlay composes.
        When the GPU runs out of memory or is lost, the frame is tried once more on the CPU
        segmenter that replaces it.
        """
        with self._lock:
            seg_model, overlay, style = self.segmenter, self.overlay, self.style
        seg = None
        image = None
        t_heat = time.perf_counter()
        heat, cam_cls, cam_age = (None, None, None)
        provider = self.heat_provider  # read once: the GUI thread may clear it meanwhile
        if provider is not None:
            try:
                heat, cam_cls, cam_age = provider(frame)
            except Exception:  # noqa: BLE001 - no heatmap this frame, masks go on
                heat, cam_cls, cam_age = (None, None, None)
        heat_ms = (time.perf_counter() - t_heat) * 1000
        on_device = False
        smoother = self.temporal if smooth else None  # read once: the GUI may switch it
        tm = Timings.of(frame)
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
                replacement = self._inference_failed(seg_model, e)
                if replacement is None:
                    break
                with self._lock:
                    seg_model, overlay, style = self.segmenter, self.overlay, self.style
        return _Segmented(
            frame, seg, image, on_device, seg_model, overlay, heat, heat_ms, cam_cls, cam_age, tm
        )

    def segment_ahead(self, frame: Frame, smooth: bool = False) -> _Segmented:
        """The first half of :meth:`process` (segmenting, on the device route composing too):
        a batch job infers frame n+1 while another thread composes frame n with
        :meth:`compose_segmented`. Each frame's gate verdict is its own (``decide_now``)."""
        with self._infer_lock:
            return self._segment(frame, smooth)

    def compose_segmented(self, part: _Segmented) -> Result:
        """The second half of :meth:`process` for a :meth:`segment_ahead` result."""
        return self._finish(part, decide_now=True)

    def _finish(self, part: _Segmented, decide_now: bool) -> Result:
        """Gate and compose a segmented frame (the CPU overlay, or the device route's picture)."""
        frame, seg, image, on_device = part.frame, part.seg, part.image, part.on_device
        seg_model, overlay, heat, heat_ms = part.seg_model, part.overlay, part.heat, part.heat_ms
        cam_cls, cam_age, tm = part.cam_cls, part.cam_age, part.timings
        verdict = seg.in_distribution if seg else None
        if decide_now:
            hidden = self.ood_gate.decide_now(verdict)
        else:
            hidden = self.ood_gate.update(verdict, frame.timestamp)
        anyway = hidden and self.show_ood
        weight = 1.0 if anyway else self.ood_gate.overlay_weight(frame.timestamp)
        if hidden and not anyway and seg_model is not None and weight <= 0.0:
            t0 = time.perf_counter()  # masks, names and CAM give way to one plain line
            image = draw_gate_line(frame.pixels, seg_model.card, self.gate_words)
            t1 = time.perf_counter()
            tm.compose = heat_ms + (t1 - t0) * 1000
            cam_cls = cam_age = None
        elif on_device and image is not None:
            tm.compose += heat_ms  # segment_compose timed the rest
            t1 = time.perf_counter()
        else:
            t0 = time.perf_counter()
            if overlay is not None and seg is not None:
                image = overlay.compose(frame.pixels, seg.labels, heat, frame.timestamp).image
            else:
                image = frame.pixels
            t1 = time.perf_counter()
            tm.compose = heat_ms + (t1 - t0) * 1000
        if anyway and image is not None:
            image = draw_mark(np.array(image), self.gate_words)
        elif 0.0 < weight < 1.0 and image is not None and seg_model is not None:
            # fading: the overlay gives way (or returns) over a few frames, never blinks
            image = cv2.addWeighted(image, weight, frame.pixels, 1.0 - weight, 0.0)
            if hidden:
                image = draw_lines(image, gate_lines(seg_model.card, self.gate_words))
        return Result(
            frame=frame,
            image=image,
            seg=seg,
            model_name=seg_model.card.name if seg_model else "",
            cam_class=cam_cls,
            cam_age=cam_age,
            t_composed=t1,
            ood_hidden=hidden,
            ood_shown_anyway=anyway,
            timings=tm,
        )

    def _inference_failed(self, seg_model: Segmenter, e: Exception) -> Segmenter | None:
        """Turn an inference error into a message; on a GPU failure (out of memory, a
        device-side error, a lost device) switch to a float32 CPU segmenter and return it."""
        from .segmenter import cpu_fallback
        from .torch_device import gpu_failure_kind

        msg = str(e)
        kind = gpu_failure_kind(e) if seg_model.falls_back_to_cpu else None
        if kind is not None:
            if self.segmenter is not seg_model:
                return None  # the model was changed meanwhile; nothing to replace
            try:
                cpu = cpu_fallback(seg_model)
                self.set_segmenter(cpu)
                self.last_error = None
                self._status(
                    "warning",
                    "The GPU ran out of memory; segmentation continues on the CPU."
                    if kind == "oom"
                    else "The GPU stopped working; segmentation continues on the CPU.",
                )
                return cpu
            except Exception as e2:  # noqa: BLE001
                msg = f"{msg}; CPU fallback failed too: {e2}"
        if self.last_error != msg:
            self.last_error = msg
            self._status(
                "error", f"Segmentation failed, showing the picture without overlay: {msg}"
            )
        return None

    def _status(self, kind: str, msg: str) -> None:
        try:
            self.on_status(kind, msg)
        except Exception:  # noqa: BLE001
            pass
