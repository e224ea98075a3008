"""Simulated frames, exact masks and an MP4 clip to disk (``sonolive phantom export``, whose
command line lives in ``app/commands/phantom.py``), and the views gallery.

Layout of the output folder::

    images/00000.png   grey uint8 B-mode frames
    masks/00000.png    uint8 class indices (0..6, see classes.json; 0 outside the sector)
    classes.json       list of class names, index = class value
    meta.json          seed, size, fps, frame count, class colours, mode
    clip.mp4           H.264 of the image sequence (when ``clip``)
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from .mp4_writer import Mp4Writer
from .phantom import (
    PHANTOM_CLASSES,
    PHANTOM_COLORS,
    VIEWS,
    PhantomSampler,
    PhantomScanner,
    colorize_mask,
)


def export_phantom(
    out_dir: Path,
    seed: int,
    frames: int,
    size: int = 512,
    fps: float = 30.0,
    clip: bool = True,
    random_frames: bool = False,
) -> Path:
    """Render ``frames`` frames (scan script at ``fps``, or, when ``random_frames``, the
    independent frames :class:`~.phantom.PhantomSampler` draws for ``seed``: the same ones
    training, evaluation and calibration use) and write images, masks, ``classes.json`` and
    optionally ``clip.mp4``. Returns ``out_dir``."""
    if frames < 1:
        raise ValueError("frames must be at least 1")
    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    (out_dir / "masks").mkdir(parents=True, exist_ok=True)
    sampler = PhantomSampler(seed, size)
    scanner = sampler.scanner
    writer = Mp4Writer(out_dir / "clip.mp4", fps, crf=20) if clip else None
    views: list[str | None] = []
    try:
        for n in range(frames):
            if random_frames:
                img, mask = sampler.next()
            else:
                img, mask = scanner.render(n / fps)
            views.append(scanner.current_view)
            name = f"{n:05d}.png"
            if not cv2.imwrite(str(out_dir / "images" / name), img):
                raise OSError(f"could not write {out_dir / 'images' / name}")
            if not cv2.imwrite(str(out_dir / "masks" / name), mask):
                raise OSError(f"could not write {out_dir / 'masks' / name}")
            if writer is not None:
                writer.write(img)
    finally:
        if writer is not None:
            writer.close()
    (out_dir / "classes.json").write_text(json.dumps(list(PHANTOM_CLASSES)) + "\n")
    meta = {
        "generator": "sonolive.capture.phantom",
        "seed": int(seed),
        "frames": int(frames),
        "size": int(size),
        "fps": float(fps),
        "mode": "random" if random_frames else "script",
        "classes": list(PHANTOM_CLASSES),
        "colors": {k: list(v) for k, v in PHANTOM_COLORS.items()},
        "views": views,
    }
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return out_dir


def make_gallery(path: Path, seed: int = 0, size: int = 512, t: float = 3.0) -> Path:
    """Save a 2 x 4 grid: one fluid-positive frame per view on top, its coloured mask below."""
    scanner = PhantomScanner(seed=seed, size=size)
    top, bottom = [], []
    for view in VIEWS:
        img, mask = scanner.render(t, view=view, fluid=True)
        top.append(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB))
        bottom.append(colorize_mask(mask))
    grid = np.vstack([np.hstack(top), np.hstack(bottom)])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return path
