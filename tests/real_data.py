"""The shared real recordings (read only, never copied into the product) and near-foreign
pictures made from them: the same linear probe's kind of picture, another body part.

Used by the tests and by ``bench/bench_ood.py``. ``shared_data()`` is None when the data is
absent (a fresh checkout): tests then skip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_CANDIDATES = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data",
    Path(__file__).resolve().parents[2] / "shared" / "data",  # a worktree under wt/
    Path("/work/shared/data"),
)
VIDEO_SUFFIXES = (".mp4", ".mov", ".mpeg", ".avi", ".mkv")


def shared_data() -> Path | None:
    """The folder that holds ``usgra-seg/`` and ``pocus-ccby/``, or None."""
    for p in _CANDIDATES:
        if (p / "usgra-seg" / "images").is_dir() and (p / "pocus-ccby").is_dir():
            return p
    return None


def pocus_clips(root: Path) -> list[Path]:
    return sorted(p for p in (root / "pocus-ccby").iterdir() if p.suffix in VIDEO_SUFFIXES)


def clip_frames(path: Path, every: int = 10, most: int = 15) -> list[np.ndarray]:
    """Every ``every``-th frame of a clip, at most ``most`` of them (RGB uint8), decoded by
    SonoLive's own clip reader."""
    from sonolive.capture.open_source import open_source
    from sonolive.capture.source import EndOfStream

    src = open_source(str(path), paced=False)
    src.open()
    out: list[np.ndarray] = []
    try:
        for i in range(every * most):
            try:
                f = src.read()
            except EndOfStream:
                break
            if i % every == 0:
                out.append(f.pixels.copy())
    finally:
        src.close()
    return out


def linear_window(rgb: np.ndarray) -> np.ndarray:
    """A rectangle cut from a convex (sector) scan, as a linear probe would show it: the
    middle 40% of the columns, from the top of the lit picture down 0.8 times that width."""
    g = rgb.mean(2)
    h, w = g.shape
    x0, x1 = int(0.3 * w), int(0.7 * w)
    band = g[:, x0:x1].mean(1)
    lit_level = np.median(band[band > 5]) if (band > 5).any() else 0.0
    lit = np.nonzero(band > 0.4 * lit_level)[0]
    top = int(lit[0]) if len(lit) else 0
    return np.ascontiguousarray(rgb[top : top + int(0.8 * (x1 - x0)), x0:x1])


def pocus_frames(root: Path, every: int = 10, most: int = 15) -> list[np.ndarray]:
    """Frames of every shared real lung recording (convex probe), whole."""
    return [f for clip in pocus_clips(root) for f in clip_frames(clip, every, most)]


def match_grey_levels(picture: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``picture`` in grey, its grey levels mapped so their histogram is ``like``'s
    (histogram matching): the same brightness, contrast and dark share as a training image,
    with the picture's own structures. The hardest near-foreign case for picture statistics."""
    import cv2

    g = picture.mean(2).astype(np.uint8) if picture.ndim == 3 else picture
    ref = like.mean(2) if like.ndim == 3 else like
    ref = cv2.resize(ref.astype(np.uint8), (g.shape[1], g.shape[0]))
    order = np.sort(g.ravel())
    q = np.searchsorted(order, g.ravel(), side="left") / max(1, order.size - 1)
    levels = np.sort(ref.ravel())
    idx = np.clip((q * (levels.size - 1)).astype(int), 0, levels.size - 1)
    return levels[idx].reshape(g.shape)
