"""The ROI stage: crops every live frame to the ultrasound image before anything else sees it.

A scanner's video output carries menus, a depth scale and burned-in patient text around the
ultrasound image. :class:`RoiStage` is a ``Frame -> Frame | None`` filter that runs on the
pipeline's capture thread (``Pipeline.frame_filter``):

* **detecting** - while no ROI is fixed, the first ``detect_frames`` frames feed a
  :class:`~.roi.RoiDetector` and are **held back** (the filter returns ``None``, so the
  pipeline neither segments, shows nor records them). Showing the full screen for that
  half second would put the patient's name on screen and in a recording, which the ROI
  exists to prevent; a short wait for the first picture is the better trade.
* **locked** - once the detector has a ROI it is locked, and every frame is cropped to it
  with :func:`~.roi.crop` (``frame.roi`` then holds the ROI in source coordinates).
* **full** - when nothing large moves during detection (a frozen or blank screen), frames
  pass through uncropped and the detector keeps listening on a rolling window; it locks as
  soon as an image shows up. :attr:`RoiStage.state` says which of these applies, so the UI
  can tell the user to adjust the ROI by hand.

:meth:`set_roi` fixes a user-adjusted ROI (from the GUI thread), :meth:`reset` starts the
detection over. A change of the input resolution also starts it over (a fixed ROI that no
longer fits the frame is dropped). A half-size copy of the latest *full* frame is kept
every ``keep_every`` frames as :attr:`last_full` for the ROI editor (about 0.3 ms at 1080p).

Simulated sources need no stage: their pictures have no chrome.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from .frame import Frame
from .roi import Roi, RoiDetector, crop

DETECTING, LOCKED, FULL = "detecting", "locked", "full"


def parse_roi(value: object) -> Roi | None:
    """``"x,y,w,h"`` (or a 4-sequence, as QSettings may hand back) -> ROI, else ``None``."""
    if value is None:
        return None
    try:
        parts = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[arg-type]
        x, y, w, h = (int(round(float(p))) for p in parts)
    except (TypeError, ValueError):
        return None
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        return None
    return (x, y, w, h)


def format_roi(roi: Roi) -> str:
    return ",".join(str(int(v)) for v in roi)


class RoiStage:
    """Crop frames to the detected (or user-set) ultrasound ROI; see the module docstring.

    ``detect_frames``: frames watched before the ROI is locked; ``fixed_roi``: a ROI to use
    from the start (no detection); ``keep_every``/``keep_step``: how often and how coarsely
    :attr:`last_full` is kept.
    """

    def __init__(
        self,
        detect_frames: int = 30,
        fixed_roi: Roi | None = None,
        *,
        keep_every: int = 10,
        keep_step: int = 2,
    ) -> None:
        self.detect_frames = max(2, int(detect_frames))
        self.keep_every = max(1, int(keep_every))
        self.keep_step = max(1, int(keep_step))
        self._lock = threading.Lock()
        self._detector = RoiDetector(history=self.detect_frames)
        self._roi: Roi | None = tuple(int(v) for v in fixed_roi) if fixed_roi else None  # type: ignore[assignment]
        self._user = fixed_roi is not None
        self._seen = 0
        self._count = 0
        self._shape: tuple[int, int] | None = None
        self._full: np.ndarray | None = None
        #: frames held back while detecting (for the status line and tests)
        self.held_back = 0

    # ------------------------------------------------------------------ GUI-thread side
    @property
    def roi(self) -> Roi | None:
        """The ROI in use (full-frame pixels), ``None`` while detecting or showing full."""
        return self._roi

    @property
    def user_set(self) -> bool:
        """True when the ROI was set by hand (or restored), not detected."""
        return self._user

    @property
    def state(self) -> str:
        with self._lock:
            if self._roi is not None:
                return LOCKED
            return DETECTING if self._seen < self.detect_frames else FULL

    @property
    def frame_size(self) -> tuple[int, int] | None:
        """``(width, height)`` of the incoming full frames, once one was seen."""
        s = self._shape
        return None if s is None else (s[1], s[0])

    @property
    def last_full(self) -> np.ndarray | None:
        """A recent full (uncropped) frame at 1/:attr:`scale` size, RGB, or ``None``."""
        return self._full

    @property
    def scale(self) -> int:
        """:attr:`last_full` pixels are this many full-frame pixels apart."""
        return self.keep_step

    def set_roi(self, roi: Roi | None) -> None:
        """Use ``roi`` (full-frame pixels) from the next frame on; ``None`` re-detects."""
        if roi is None:
            self.reset()
            return
        x, y, w, h = (int(v) for v in roi)
        if w <= 0 or h <= 0:
            raise ValueError(f"empty ROI {roi}")
        with self._lock:
            self._roi = (max(0, x), max(0, y), w, h)
            self._user = True

    def reset(self) -> None:
        """Forget the ROI and detect it again from the next frames."""
        with self._lock:
            self._detector.reset()
            self._roi = None
            self._user = False
            self._seen = 0

    # ------------------------------------------------------------------ capture thread
    def __call__(self, frame: Frame) -> Frame | None:
        t0 = time.perf_counter()
        px = frame.pixels
        shape = (int(px.shape[0]), int(px.shape[1]))
        self._count += 1
        if self._full is None or self._count % self.keep_every == 0 or shape != self._shape:
            s = self.keep_step
            self._full = np.ascontiguousarray(px[::s, ::s])
        with self._lock:
            if shape != self._shape:
                if self._shape is not None or not self._fits(self._roi, shape):
                    # a new resolution (or a restored ROI that does not fit): start over
                    self._detector.reset()
                    self._roi = None
                    self._user = False
                    self._seen = 0
                self._shape = shape
            roi = self._roi
            if roi is None:
                self._detector.update(px)
                self._seen += 1
                if self._seen >= self.detect_frames:
                    roi = self._roi = self._detector.roi()
                if roi is None:
                    if self._seen < self.detect_frames:
                        self.held_back += 1
                        return None
                    return frame  # nothing moves: the full picture, until something does
        out = crop(frame, roi)
        out.timings.capture += (time.perf_counter() - t0) * 1e3
        return out

    @staticmethod
    def _fits(roi: Roi | None, shape: tuple[int, int]) -> bool:
        if roi is None:
            return True
        x, y, w, h = roi
        return x < shape[1] and y < shape[0] and w > 0 and h > 0


class SourceRoiFilter:
    r"""``Pipeline.frame_filter`` that keeps one :class:`RoiStage` per source.

    ``get_source()`` names the source now feeding the pipeline; the first frame from a new
    source takes the stage :meth:`prepare`\ d for it, or one from ``make_stage(source)``
    (``None``: no stage, e.g. for a simulated source). Runs on the capture thread.
    """

    def __init__(self, get_source, make_stage) -> None:  # noqa: ANN001 - plain callables
        self._get_source = get_source
        self._make_stage = make_stage
        self._lock = threading.Lock()
        self._source: object | None = None
        self._stage: RoiStage | None = None
        self._prepared: dict[int, tuple[object, RoiStage | None]] = {}

    def prepare(self, source: object, stage: RoiStage | None) -> None:
        """Use ``stage`` for ``source`` (call before the source starts)."""
        with self._lock:
            self._prepared = {id(source): (source, stage)}

    def stage_for(self, source: object) -> RoiStage | None:
        """The stage of ``source`` (made now if it has none yet)."""
        with self._lock:
            if source is not self._source:
                hit = self._prepared.pop(id(source), None)
                if hit is not None and hit[0] is source:
                    self._stage = hit[1]
                else:
                    self._stage = self._make_stage(source) if source is not None else None
                self._source = source
            return self._stage

    @property
    def stage(self) -> RoiStage | None:
        """The stage of the current source."""
        return self.stage_for(self._get_source())

    def __call__(self, frame: Frame) -> Frame | None:
        stage = self.stage_for(self._get_source())
        return frame if stage is None else stage(frame)


__all__ = ["DETECTING", "FULL", "LOCKED", "RoiStage", "SourceRoiFilter", "format_roi", "parse_roi"]
