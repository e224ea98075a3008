"""The shared real recordings (``pocus-ccby``: 37 convex lung clips under CC BY) for the ROI
tests and ``bench/bench_roi_real.py``: where they are, decoding, scaling, and the true
picture area computed from each clip itself.

Test data only: referenced here, never copied into the product.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

_HERE = Path(__file__).resolve()


def pocus_dir() -> Path | None:
    """The ``pocus-ccby`` folder (beside the repository, or ``/work/shared/data``), or None."""
    for base in (_HERE.parents[1].parent / "shared" / "data", Path("/work/shared/data")):
        d = base / "pocus-ccby"
        if d.is_dir() and any(d.iterdir()):
            return d
    return None


def pocus_clips() -> list[Path]:
    d = pocus_dir()
    if d is None:
        return []
    return sorted(p for p in d.iterdir() if p.suffix.lower() in {".mp4", ".mov", ".mpeg"})


def decode(path: Path, limit: int | None = None, every: int = 1) -> tuple[list[np.ndarray], float]:
    """RGB frames of ``path`` (every ``every``-th, at most ``limit``) and its frame rate."""
    out: list[np.ndarray] = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        fps = float(s.average_rate or s.guessed_rate or 25)
        for i, f in enumerate(c.decode(video=0)):
            if i % every == 0:
                out.append(f.to_ndarray(format="rgb24"))
                if limit is not None and len(out) >= limit:
                    break
    return out, fps


def scaled(frames: list[np.ndarray], lines: int) -> list[np.ndarray]:
    """``frames`` scaled (aspect kept) to ``lines`` lines."""
    h, w = frames[0].shape[:2]
    size = (max(1, round(w * lines / h)), lines)
    return [cv2.resize(f, size, interpolation=cv2.INTER_LINEAR) for f in frames]


def picture_mask(frames: list[np.ndarray]) -> np.ndarray:
    """The ultrasound picture of a clip that holds only the picture on black: the pixels that
    are bright at some time or change over the clip (speckle, noise in the dark deep part),
    without specks, as the convex hull of the large parts (a fan or a rectangle is convex)."""
    g = np.stack([f[..., 1] for f in frames])
    mx, mn = g.max(0), g.min(0)
    live = ((mx.astype(np.int16) - mn) > 8) | (mx > 40)
    m = cv2.morphologyEx(live.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, lab, st, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n <= 1:
        return np.zeros(m.shape, bool)
    areas = st[1:, cv2.CC_STAT_AREA]
    keep = 1 + np.nonzero(areas >= 0.05 * areas.max())[0]
    pts = np.concatenate([np.argwhere(lab == k)[:, ::-1] for k in keep]).astype(np.int32)
    out = np.zeros(m.shape, np.uint8)
    cv2.fillConvexPoly(out, cv2.convexHull(pts), 1)
    return out > 0


def covered(roi, mask: np.ndarray) -> float:
    """Share of ``mask`` (the picture) inside the rectangle ``roi`` (x, y, w, h)."""
    x, y, w, h = (int(v) for v in roi)
    total = int(mask.sum())
    inside = int(mask[max(0, y) : y + h, max(0, x) : x + w].sum())
    return inside / total if total else 1.0
