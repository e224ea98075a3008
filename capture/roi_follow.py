"""Hold the detected ultrasound region, and follow the scanner when its layout changes.

:class:`RoiFollower` is the one policy shared by the live ROI stage and ``sonolive
process``. It feeds every frame to a :class:`~.roi.RoiDetector` and:

* **locks** a region once ``detect_s`` of input was seen (:meth:`RoiDetector.roi`), then
  **holds** it: a clip's export keeps its region;
* **follows** a depth, zoom or preset change: after each chunk (half a second) it compares
  the bounding box of what moved with the region. When the movement reaches outside the
  region, or leaves most of it unused, for ``follow_s`` or longer, it detects again from
  those chunks only and switches when the new region differs (IoU below ``min_iou``); a
  smaller region is taken only when what it leaves out became the screen's background (a
  dark or still stretch of the same picture is not a layout change);
* **keeps the last good region** through a screen where nothing moves (a menu, a frozen
  frame, a black signal). When there never was one, or the one found is *uncertain* (found
  by speckle while nothing moved), :attr:`notice` says so and :meth:`keep` tells where a
  frame keeps its pixels (the rest - still text, a clock - is blanked by the stage). A
  region that moves in later replaces an uncertain one at the next chunk.

The per-frame cost is the detector's update (a strided grey sample, a running max and min);
the follow check runs once per chunk on the sub-sampled grid.
"""

from __future__ import annotations

import math

from .roi import MOTION, TEXTURE, Roi, RoiDetector, iou

NO_REGION = "no ultrasound region found: text outside the picture is blanked (Adjust ROI… sets it)"
UNCERTAIN = (
    "ultrasound region uncertain (nothing moves): text outside the picture is blanked "
    "(Adjust ROI… confirms it)"
)
#: a picture with fewer lines is taken as an exported image, not a scanner's screen (their
#: video outputs are VGA or larger), and is kept whole
MIN_SCREEN_LINES = 400


class RoiFollower:
    """The region to crop to, frame by frame; ``None`` until :meth:`update` decides.

    ``fps``: the input rate (sets the chunk, detect and follow lengths in frames);
    ``initial``: a region to hold from the start (it is still followed).
    """

    def __init__(
        self,
        fps: float = 30.0,
        *,
        detect_s: float = 1.0,
        follow_s: float = 1.0,
        window_s: float = 3.0,
        min_iou: float = 0.9,
        initial: Roi | None = None,
    ) -> None:
        fps = fps if fps and fps > 0 else 30.0
        self.chunk = max(2, round(fps / 2))
        self.detect_frames = max(3, round(detect_s * fps))
        self.follow_chunks = max(1, math.ceil(follow_s * fps / self.chunk))
        self.min_iou = float(min_iou)
        self.detector = RoiDetector(
            history=max(2 * self.chunk + 1, round(window_s * fps)), chunk=self.chunk
        )
        self.region: Roi | None = tuple(int(v) for v in initial) if initial else None  # type: ignore[assignment]
        #: ``(frames seen, region)`` each time the region was set or switched
        self.switches: list[tuple[int, Roi]] = []
        if self.region is not None:
            self.switches.append((0, self.region))
        #: how the region held was found: ``"motion"``, ``"texture"`` (uncertain) or None
        self.basis: str | None = MOTION if self.region is not None else None
        #: set when the detection time passed without a region (:data:`NO_REGION`) or with
        #: an uncertain one (:data:`UNCERTAIN`); cleared when a certain region is found
        self.notice: str | None = None
        self.frames = 0
        self._chunks_seen = 0
        self._streak = 0
        self._finished = False
        self._shape: tuple[int, int] | None = None

    @property
    def decided(self) -> bool:
        """True once a region is held or the detection time passed without one."""
        return self.region is not None or self.frames >= self.detect_frames or self._finished

    def update(self, pixels) -> Roi | None:  # noqa: ANN001 - an H x W x 3 uint8 array
        """Add one full frame; returns the region to crop it to (``None``: not known)."""
        shape = (int(pixels.shape[0]), int(pixels.shape[1]))
        if shape != self._shape:  # a new resolution: what was held does not fit
            if self._shape is not None:
                self.region, self._streak, self.frames = None, 0, 0
            self._shape = shape
        if shape[0] < MIN_SCREEN_LINES:
            whole = (0, 0, shape[1], shape[0])
            if self.region != whole:
                self._switch(whole)
            self.frames += 1
            return self.region
        self.detector.update(pixels)
        self.frames += 1
        done = self.detector.chunks_done
        if done != self._chunks_seen:
            self._chunks_seen = done
            self._on_chunk()
        elif self.region is None and self.frames == self.detect_frames:
            self._on_chunk()
        return self.region

    def finish(self) -> Roi | None:
        """Decide now from what was seen (a clip shorter than the detection time)."""
        self._finished = True
        if self.region is None:
            r = self.detector.roi()
            if r is not None:
                self._switch(r)
            else:
                self.notice = NO_REGION
        return self.region

    @property
    def uncertain(self) -> bool:
        """Decided, but without a region, or with one found by texture only: frames leave
        only with the still text-like areas blanked (:meth:`keep`)."""
        return self.decided and (self.region is None or self.basis == TEXTURE)

    def keep(self):  # noqa: ANN201 - (grid mask, step) or None
        """Where an uncertain frame keeps its pixels: ``(mask, step)``, a ``uint8`` 0/1
        grid mask whose samples are ``step`` pixels apart (see :meth:`RoiDetector.keep`)."""
        m = self.detector.keep()
        return None if m is None else (m, self.detector.grid_step)

    def _switch(self, r: Roi) -> None:
        self.region = r
        self.basis = self.detector.basis if self._shape is None or r != self._whole() else MOTION
        self.notice = UNCERTAIN if self.basis == TEXTURE else None
        self.switches.append((self.frames, r))

    def _whole(self) -> Roi:
        assert self._shape is not None
        return (0, 0, self._shape[1], self._shape[0])

    def _on_chunk(self) -> None:
        if self.region is None:
            if self.frames < self.detect_frames:
                return
            r = self.detector.roi()
            if r is not None:
                self._switch(r)
            else:
                self.notice = NO_REGION
            return
        if self.basis == TEXTURE:  # found while nothing moved: take a moving one at once
            r = self.detector.roi()
            if r is not None and self.detector.basis == MOTION:
                self._switch(r)
            return
        shape = self._shape
        if shape is not None and self.region == (0, 0, shape[1], shape[0]):
            return  # already just the image (no chrome around it): nothing to follow
        box = self.detector.moving_box()
        if box is None or not self._off(box, self.region):
            # nothing moves (menu, frozen, black), or the picture is where it was
            self._streak = 0
            return
        self._streak += 1
        if self._streak < self.follow_chunks:
            return
        r = self.detector.roi(last=self._streak)
        self._streak = 0
        if r is None or iou(r, self.region) >= self.min_iou:
            return
        if _inside(r, self.region) and self.detector.still_share(self.region, r) < 0.8:
            return  # a smaller picture, but what it leaves is not background: a dark or still
            # stretch of the same picture (slow motion, a shadow), not a layout change
        self._switch(r)

    def _off(self, box: Roi, region: Roi) -> bool:
        """The movement reaches outside the region, or leaves most of it unused."""
        bx, by, bw, bh = box
        rx, ry, rw, rh = region
        mx, my = max(16, 0.04 * rw), max(16, 0.04 * rh)
        outside = bx < rx - mx or by < ry - my or bx + bw > rx + rw + mx or by + bh > ry + rh + my
        return outside or bw * bh < 0.5 * rw * rh


def _inside(a: Roi, b: Roi, slack: float = 0.02) -> bool:
    """``a`` lies within ``b`` (give or take ``slack`` of ``b``'s size)."""
    mx, my = slack * b[2], slack * b[3]
    return (
        a[0] >= b[0] - mx
        and a[1] >= b[1] - my
        and a[0] + a[2] <= b[0] + b[2] + mx
        and a[1] + a[3] <= b[1] + b[3] + my
    )


__all__ = ["NO_REGION", "UNCERTAIN", "RoiFollower"]
