"""What is picture on a scanner's screen: maps on a sub-sampled grey grid.

The ultrasound picture is told from the chrome around it (menus, bars, burned-in text, a
clock or frame counter) by what it is, not only by what moves from one frame to the next:

* **change over the window** - the range (temporal max minus min) of each sample over the
  whole detection window. Speckle, probe motion and even the electronic noise of a dark deep
  region change it; repeated frames (a 15 fps picture shown at 60 Hz), frozen stretches and
  slow probe motion do not hide it, because one change anywhere in the window counts;
* **speckle texture** - high local high-frequency energy with almost no flat samples.
  Chrome is flat; text is high contrast in thin strokes on a flat background, so a text
  line's neighbourhood is mostly flat;
* **shape** - a fan or a rectangle is convex: the picture is the convex hull of its large
  changing parts (a clock or a counter changes in small blobs only, and is dropped).

All functions are pure, on arrays a few hundred samples wide.
"""

from __future__ import annotations

import cv2
import numpy as np


def flat_share(small: np.ndarray, tol: int = 2) -> np.ndarray:
    """Per sample, the share of its 5 x 5 neighbourhood within ``tol`` grey levels of its
    right and lower neighbours (compression leaves a flat bar a level or two off): high on a bar, a menu or a line of text (strokes on a flat
    background), low in speckle, noise and smooth shading."""
    g = small.astype(np.int16)
    eq = np.ones(g.shape, np.float32)
    eq[:, :-1] *= np.abs(g[:, 1:] - g[:, :-1]) <= tol
    eq[:-1, :] *= np.abs(g[1:, :] - g[:-1, :]) <= tol
    return cv2.blur(eq, (5, 5))


def crisp(small: np.ndarray, step: float = 48.0) -> np.ndarray:
    """Samples within two of a sharp edge (a jump of ``step`` grey levels between
    neighbours): the border of a bar or a menu, a text stroke."""
    g = small.astype(np.int16)
    jump = np.zeros(g.shape, np.uint8)
    jump[:, :-1] |= np.abs(g[:, 1:] - g[:, :-1]) >= step
    jump[:-1, :] |= np.abs(g[1:, :] - g[:-1, :]) >= step
    return cv2.dilate(jump, np.ones((5, 5), np.uint8)) > 0


def speckle(small: np.ndarray, *, energy: float = 1.5, flat: float = 0.3) -> np.ndarray:
    """Samples in speckle-like texture (bool): busy around, almost no flat samples."""
    f = small.astype(np.float32)
    busy = cv2.blur(np.abs(f - cv2.blur(f, (3, 3))), (5, 5)) > energy
    return busy & (flat_share(small) < flat)


def _hull(parts: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    pts = np.concatenate(parts).astype(np.int32)
    cv2.fillConvexPoly(out, cv2.convexHull(pts), 1)
    return out


def large_parts(mask: np.ndarray, min_area: float, share: float = 0.1) -> list[np.ndarray]:
    """The ``(x, y)`` points of each 8-connected part of ``mask`` at least ``share`` of the
    largest and ``min_area`` of the grid; none when the largest is below ``min_area``."""
    num, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if num <= 1:
        return []
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = int(areas.max())
    if big < min_area * mask.size:
        return []
    keep = 1 + np.nonzero(areas >= max(share * big, 0.25 * min_area * mask.size))[0]
    return [np.argwhere(labels == k)[:, ::-1] for k in keep]


def picture(live: np.ndarray, min_area: float) -> np.ndarray | None:
    """The picture (``uint8`` 0/1) as the convex hull of the large parts of ``live``, or
    ``None`` when nothing large is there."""
    parts = large_parts(live, min_area)
    if not parts:
        return None
    return _hull(parts, live.shape)


def reach(mask: np.ndarray, like: np.ndarray, steps: int = 80) -> np.ndarray:
    """``mask`` grown, one sample at a time, into the picture-like samples (``like``) next
    to it: a dark, still or dim stretch of the picture the hull missed is kept; a flat bar
    (light or dark), a menu or text (sharp edges) is not picture-like and stops it."""
    k = np.ones((3, 3), np.uint8)
    cur = mask.astype(np.uint8)
    allow = (like | mask).astype(np.uint8)
    for _ in range(steps):
        nxt = cv2.dilate(cur, k) & allow
        if np.array_equal(nxt, cur):
            break
        cur = nxt
    return cur > 0


def keep_mask(live: np.ndarray, tex: np.ndarray, min_area: float) -> np.ndarray:
    """Where an uncertain frame keeps its pixels (``uint8`` 0/1): the hull of the large
    changing or speckled parts, one sample wider; all else (still chrome, text, small
    changing blobs such as a clock) is blanked. All zero when there is no such part."""
    parts = large_parts(live | tex, min_area)
    if not parts:
        return np.zeros(live.shape, np.uint8)
    hull = _hull(parts, live.shape)
    return cv2.dilate(hull, np.ones((3, 3), np.uint8))


__all__ = ["crisp", "flat_share", "reach", "keep_mask", "large_parts", "picture", "speckle"]
