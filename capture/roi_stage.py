"""The ROI stage: crops every live frame to the ultrasound image before anything else sees it.

A scanner's video output carries menus, a depth scale and burned-in patient text around the
ultrasound image. :class:`RoiStage` is a ``Frame -> Frame | None`` filter that runs on the
pipeline's capture thread (the chain's ROI stage, ``Pipeline.set_roi``):

* **detecting** - until a region is found, the first ``detect_frames`` frames feed a
  :class:`~.roi_follow.RoiFollower` and are **held back** (the filter returns ``None``, so
  the pipeline neither segments, shows nor records them). Showing the full screen for that
  second would put the patient's name on screen and in a recording, which the ROI exists
  to prevent; a short wait for the first picture is the better trade.
* **locked** - the follower holds the region (the union of what moved, grown to the image
  area's edges) and every frame is cropped to it with :func:`~.roi.crop` (``frame.roi``
  then holds the ROI in source coordinates). A depth, zoom or preset change that lasts
  about a second switches to the new region, scaled and letterboxed (:func:`~.roi.fit`)
  into the size of the first one, so a recording keeps one size.
* **full** - when no region is found (a blank or menu screen) the frame passes whole but
  with everything outside the large changing or speckled parts blanked (still chrome, text,
  a clock), so burned-in patient text cannot leave the machine; the follower keeps
  listening. A region found only by its speckle while nothing moves is *uncertain* and is
  blanked the same way inside the crop. :attr:`RoiStage.notice` then says so (and
  :attr:`on_notice` is called, for the window's banner offering Adjust ROI…), until a
  certain region is found or one is set by hand. A picture that is already just the image
  (nothing around it) is a certain region: the whole frame, unblanked.

:meth:`set_roi` fixes a user-adjusted ROI (from the GUI thread), :meth:`reset` starts the
detection over. A change of the input resolution also starts it over (a fixed ROI that no
longer fits the frame is dropped). A half-size copy of the latest *full* frame is kept
every ``keep_every`` frames as :attr:`last_full` for the ROI editor (about 0.3 ms at 1080p).

Simulated sources need no stage: their pictures have no chrome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import cv2
import numpy as np

from .frame import Frame
from .roi import Roi, blank, crop, fit, full_mask
from .roi_follow import RoiFollower
from .source import EndOfStream, SeekableSource

DETECTING, LOCKED, FULL = "detecting", "locked", "full"


def parse_roi(value: object) -> Roi | None:
    """``"x,y,w,h"`` (or a 4-sequence, as QSettings may hand back) -> ROI, else ``None``."""
    if value is None:
        return None
    try:
        parts = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
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
    from the start (no detection, no following); ``fps``: the input rate the follow times
    are counted in; ``keep_every``/``keep_step``: how often and how coarsely
    :attr:`last_full` is kept.
    """

    def __init__(
        self,
        detect_frames: int = 30,
        fixed_roi: Roi | None = None,
        *,
        fps: float = 30.0,
        keep_every: int = 30,
        keep_step: int = 2,
    ) -> None:
        self.detect_frames = max(2, int(detect_frames))
        self.fps = float(fps) if fps and fps > 0 else 30.0
        self.keep_every = max(1, int(keep_every))
        self.keep_step = max(1, int(keep_step))
        self._lock = threading.Lock()
        self._follower = self._new_follower()
        self._user_roi: Roi | None = tuple(int(v) for v in fixed_roi) if fixed_roi else None  # type: ignore[assignment]
        self._out_size: tuple[int, int] | None = None
        self._count = 0
        self._shape: tuple[int, int] | None = None
        self._full: np.ndarray | None = None
        #: frames held back while detecting (for the status line and tests)
        self.held_back = 0
        #: milliseconds this stage took for the last frame (crop, detection, follow check)
        self.last_ms = 0.0
        #: called (on the capture thread) with :attr:`notice` when no region was found or it
        #: is uncertain, and with "" when a certain one is found after all
        self.on_notice: Callable[[str], None] | None = None
        self._told: str | None = None
        #: frames that left with the still text-like areas blanked (no region, or uncertain)
        self.blanked = 0
        self._mask: tuple[int, np.ndarray] | None = None  # (chunks done, full-frame mask)

    def _new_follower(self) -> RoiFollower:
        return RoiFollower(self.fps, detect_s=self.detect_frames / self.fps)

    # ------------------------------------------------------------------ GUI-thread side
    @property
    def roi(self) -> Roi | None:
        """The ROI in use (full-frame pixels), ``None`` while detecting or showing full."""
        if self._user_roi is not None:
            return self._user_roi
        r = self._follower.region
        if r is None or self._is_whole(r):
            return None
        return r

    @property
    def user_set(self) -> bool:
        """True when the ROI was set by hand (or restored), not detected."""
        return self._user_roi is not None

    @property
    def state(self) -> str:
        with self._lock:
            if self.roi is not None:
                return LOCKED
            return FULL if self._follower.decided else DETECTING

    @property
    def notice(self) -> str | None:
        """ "no ultrasound region found; whole frame used" once that happened, else ``None``."""
        return None if self._user_roi is not None else self._follower.notice

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
            self._user_roi = (max(0, x), max(0, y), w, h)
            self._out_size = None

    def finish(self) -> None:
        """Decide now from the frames seen (a clip shorter than the detection time)."""
        with self._lock:
            if self._user_roi is None:
                self._follower.finish()

    def detect_from(self, src: SeekableSource) -> None:
        """Feed a recording's first ``detect_frames`` frames to a stage still detecting, then
        decide (review does this on opening, so that frame 0 is already cropped)."""
        if self.state != DETECTING:
            return
        try:
            frame = src.seek(0)
            for _ in range(self.detect_frames):
                self(frame)
                if self.state != DETECTING:
                    break
                frame = src.read()
        except EndOfStream:
            pass
        self.finish()

    def reset(self) -> None:
        """Forget the ROI and detect it again from the next frames."""
        with self._lock:
            self._follower = self._new_follower()
            self._user_roi = None
            self._out_size = None
            self._mask = None
            self._told = None

    # ------------------------------------------------------------------ capture thread
    def __call__(self, frame: Frame) -> Frame | None:
        t0 = time.perf_counter()
        px = frame.pixels
        shape = (int(px.shape[0]), int(px.shape[1]))
        self._count += 1
        if self._full is None or self._count % self.keep_every == 0 or shape != self._shape:
            self._full = _thumb(px, self.keep_step)
        with self._lock:
            if shape != self._shape:
                if self._shape is not None or not self._fits(self._user_roi, shape):
                    # a new resolution (or a restored ROI that does not fit): start over
                    self._follower = self._new_follower()
                    self._user_roi = None
                    self._out_size = None
                self._shape = shape
            roi = self._user_roi
            mask = None
            if roi is None:
                follower = self._follower
                roi = follower.update(px)
                if follower.notice != self._told:  # told when it comes and when it goes
                    self._told = follower.notice
                    if self.on_notice is not None:
                        self.on_notice(follower.notice or "")
                if roi is None and not follower.decided:
                    self.held_back += 1
                    self.last_ms = (time.perf_counter() - t0) * 1e3
                    return None
                if follower.uncertain:
                    mask = self._keep_mask(follower, shape)
        if mask is not None:  # no region, or an uncertain one: blank the text-like areas
            frame = blank(frame, mask)
            self.blanked += 1
        if roi is None or self._is_whole(roi, shape):
            out = frame  # nothing found (or already just the image): the full picture
        else:
            out = crop(frame, roi)
            if self._out_size is None:
                self._out_size = (out.width, out.height)
            elif self._user_roi is None:
                out = fit(out, self._out_size)  # a new region keeps the first one's size
        self.last_ms = (time.perf_counter() - t0) * 1e3
        out.capture_ms += self.last_ms
        return out

    def _keep_mask(self, follower: RoiFollower, shape: tuple[int, int]) -> np.ndarray:
        """The full-frame keep mask of an uncertain screen, made again once per chunk."""
        done = follower.detector.chunks_done
        if self._mask is None or self._mask[0] != done or self._mask[1].shape != shape:
            keep = follower.keep()
            if keep is None:  # nothing seen yet: keep nothing
                full = np.zeros(shape, np.uint8)
            else:
                full = full_mask(keep[0], keep[1], shape)
            self._mask = (done, full)
        return self._mask[1]

    @property
    def uncertain(self) -> bool:
        """No region was found, or only an uncertain one, and none was set by hand: frames
        leave with the still text-like areas outside the picture blanked."""
        return self._user_roi is None and self._follower.uncertain

    def _is_whole(self, roi: Roi, shape: tuple[int, int] | None = None) -> bool:
        shape = shape or self._shape
        return shape is not None and tuple(roi) == (0, 0, shape[1], shape[0])

    @staticmethod
    def _fits(roi: Roi | None, shape: tuple[int, int]) -> bool:
        if roi is None:
            return True
        x, y, w, h = roi
        return x < shape[1] and y < shape[0] and w > 0 and h > 0


def _thumb(px: np.ndarray, s: int) -> np.ndarray:
    """Every ``s``-th pixel of ``px``; OpenCV's nearest resize picks the same pixels about
    five times faster than a strided copy (1.7 against 8 ms at 1080p, measured under load)."""
    h, w = px.shape[:2]
    if s > 1 and h % s == 0 and w % s == 0:
        return cv2.resize(px, (w // s, h // s), interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(px[::s, ::s])


class SourceRoiFilter:
    r"""The live ROI choice (``Pipeline.set_roi``) that keeps one :class:`RoiStage` per source.

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
