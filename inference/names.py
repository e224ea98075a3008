"""Where organ names go: on their organ, never over another class; Bedside's one big name.

Both compositors (the CPU :class:`~.overlay.Overlay` and the device route's
:class:`~.gpu_compose.TorchCompositor`) call :func:`place_names` on a subsampled label map,
so a name sits in the same place whichever path drew the picture.

* **On its organ**: the anchor is a pixel of the organ, chosen among those where the text's
  box (measured for the font and size it will be drawn with) covers no pixel of another
  class; the deepest such pixel, or for Bedside the one nearest the sector's centre. When no
  position fits, the text is tried smaller; when none fits even then, the name is left out
  rather than written over a neighbour.
* **Bedside's name** is the organ under the sector's centre (the centroid of the lit part
  of the picture, not the picture's middle: a letterboxed sector sits anywhere), the largest
  organ within a small disc around it when the centre itself falls between organs. It is held
  with hysteresis in the source's own time (:class:`NameHold`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .cv_compare import compare_scalar
from .text import text_box

#: a new organ must hold the centre this long (s) before the name changes, and the name
#: never changes twice within it
HOLD_S = 1.0
#: the named organ keeps the name while it covers this share of the disc around the centre
KEEP_SHARE = 0.12
#: text scales tried, largest first, until the name fits on its organ
SHRINK = (1.0, 0.75, 0.55)


@dataclass
class Label:
    name: str
    x: int
    y: int
    scale: float = 1.0  # the text scale it is drawn at
    cls: int = 0


class NameHold:
    """Hysteresis on Bedside's one big name, in the source's time ``t`` (seconds).

    A name appears at once when none is shown. A different organ takes over only after it
    has been the centre's organ for :data:`HOLD_S` without a break, and never within
    :data:`HOLD_S` of the last change; the name goes at once when its organ is no longer in
    the picture. Time running backwards (a seek, a loop) starts afresh.
    """

    def __init__(self, hold_s: float = HOLD_S) -> None:
        self.hold_s = hold_s
        self.shown = 0
        self._cand = 0
        self._since = 0.0
        self._changed = -1e9
        self._last_t: float | None = None
        self.switches = 0

    def update(self, cand: int, t: float, shown_present: bool = True) -> int:
        if self._last_t is not None and t < self._last_t - 0.5:
            self.shown, self._changed = 0, -1e9  # a seek back or a loop: no history
        self._last_t = t
        if cand == self.shown:
            self._cand = cand
            return self.shown
        if self.shown == 0 or not shown_present:
            return self._switch(cand, t)
        if cand != self._cand:
            self._cand, self._since = cand, t
        if t - self._since >= self.hold_s and t - self._changed >= self.hold_s:
            return self._switch(cand, t)
        return self.shown

    def _switch(self, cand: int, t: float) -> int:
        if cand != self.shown:
            self.switches += 1
        self.shown, self._cand, self._since, self._changed = cand, cand, t, t
        return cand


def sector_centre(pixels: np.ndarray, stride: int) -> tuple[int, int]:
    """The centroid (x, y) of the lit part of the picture, in ``stride``-subsampled pixels
    (the picture's middle when nothing is lit)."""
    small = pixels[::stride, ::stride]
    grey = small[..., 1] if small.ndim == 3 else small
    lit = compare_scalar(grey, 12, cv2.CMP_GT)
    m = cv2.moments(lit, binaryImage=True)
    h, w = grey.shape[:2]
    if m["m00"] < 0.02 * h * w:
        return w // 2, h // 2
    return int(m["m10"] / m["m00"]), int(m["m01"] / m["m00"])


def _disc(small: np.ndarray, cx: int, cy: int, frac: float) -> np.ndarray:
    h, w = small.shape
    r = max(1, int(min(h, w) * frac))
    y0, y1, x0, x1 = max(0, cy - r), min(h, cy + r + 1), max(0, cx - r), min(w, cx + r + 1)
    yy, xx = np.ogrid[y0 - cy : y1 - cy, x0 - cx : x1 - cx]
    return small[y0:y1, x0:x1][(yy * yy + xx * xx) <= r * r]


def centre_organ(small: np.ndarray, cx: int, cy: int, keep: int = 0) -> int:
    """The organ under (cx, cy): the largest organ in a small disc around it, else the
    largest within a third of the picture's size, else 0. ``keep`` (the organ named now)
    stays while it covers :data:`KEEP_SHARE` of a disc twice as wide (spatial hysteresis:
    breathing that slides a boundary across the centre does not change the name)."""
    if keep > 0:
        wide = _disc(small, cx, cy, 1 / 12)
        if wide.size and (wide == keep).mean() >= KEEP_SHARE:
            return keep
    for frac in (1 / 24, 1 / 6):
        counts = np.bincount(_disc(small, cx, cy, frac).ravel(), minlength=1)
        counts[0] = 0
        if counts.max() > 0:
            return int(counts.argmax())
    return 0


def fit_anchor(
    small: np.ndarray,
    cls: int,
    box: tuple[int, int],
    near: tuple[int, int] | None = None,
) -> tuple[int, int] | None:
    """A pixel of ``cls`` where a ``box`` (w, h, in the map's pixels) centred on it covers
    no other class and stays inside the map: the deepest one, or the nearest to ``near``.
    None when there is none."""
    organ = compare_scalar(small, cls, cv2.CMP_EQ)
    if not organ.any():
        return None
    bw, bh = max(1, box[0]) + 2, max(1, box[1]) + 2  # a map pixel of margin each side
    others = cv2.bitwise_and(compare_scalar(small, 0, cv2.CMP_GT), cv2.bitwise_not(organ))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (bw | 1, bh | 1))
    blocked = cv2.dilate(others, kernel)
    ok = cv2.bitwise_and(organ, cv2.bitwise_not(blocked))
    h, w = small.shape
    mx, my = bw // 2 + 1, bh // 2 + 1
    ok[:my], ok[h - my :], ok[:, :mx], ok[:, w - mx :] = 0, 0, 0, 0  # the text stays inside
    if not ok.any():
        return None
    if near is None:
        dist = cv2.distanceTransform(organ, cv2.DIST_L2, 3)
        dist[ok == 0] = -1
        y, x = np.unravel_index(int(dist.argmax()), dist.shape)
        return int(x), int(y)
    ys, xs = np.nonzero(ok)
    i = int(np.argmin((xs - near[0]) ** 2 + (ys - near[1]) ** 2))
    return int(xs[i]), int(ys[i])


def place_names(
    small: np.ndarray,
    stride: int,
    full_h: int,
    names: list[str],
    scale: float,
    only: int | None = None,
    near: tuple[int, int] | None = None,
) -> list[Label]:
    """Anchors (full-size pixels) for the present classes' names, or for class ``only``."""
    classes = [only] if only is not None else [int(c) for c in np.unique(small) if c]
    out = []
    for cls in classes:
        if cls <= 0 or cls >= len(names):
            continue
        if only is None and int((small == cls).sum()) < 12:
            continue
        for f in SHRINK:
            tw, th = text_box(full_h, names[cls], scale * f)
            at = fit_anchor(small, cls, (-(-tw // stride), -(-th // stride)), near)
            if at is not None:
                out.append(Label(names[cls], at[0] * stride, at[1] * stride, scale * f, cls))
                break
    return out
