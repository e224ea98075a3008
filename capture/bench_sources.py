"""Sources for ``sonolive bench``: the phantom pre-rendered and replayed at a fixed rate
(so the simulator's own cost does not compete with the pipeline), a clip, or a device."""

from __future__ import annotations

import cv2
import numpy as np

from .replay import ReplaySource
from .source import FrameSource


def parse_size(size: str | int) -> tuple[int, int]:
    """'512' -> (512, 512); '1920x1080' -> (1920, 1080) as (width, height)."""
    s = str(size).lower()
    if "x" in s:
        w, h = s.split("x")
        return int(w), int(h)
    return int(s), int(s)


def phantom_frames(
    n: int, size: str | int = 512, seed: int = 0
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``n`` consecutive phantom frames; a non-square size letterboxes the square sector."""
    from .phantom import PhantomScanner

    w, h = parse_size(size)
    side = min(w, h)
    sc = PhantomScanner(seed=seed, size=side)
    frames, truths = [], []
    for i in range(n):
        img, mask = sc.render(i / 30.0)
        rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        if (w, h) != (side, side):
            canvas = np.zeros((h, w, 3), np.uint8)
            full = np.zeros((h, w), np.uint8)
            x0, y0 = (w - side) // 2, (h - side) // 2
            canvas[y0 : y0 + side, x0 : x0 + side] = rgb
            full[y0 : y0 + side, x0 : x0 + side] = mask
            rgb, mask = canvas, full
        frames.append(rgb)
        truths.append(mask)
    return frames, truths


def bench_source(
    spec: str, fps: float | None = None, size: str | int = 512, frames: int = 150
) -> FrameSource:
    if spec == "phantom":
        imgs, truths = phantom_frames(frames, size)
        return ReplaySource(
            imgs, fps or 30.0, truths, name="phantom (pre-rendered)", simulated=True
        )
    from .open_source import open_source

    src = open_source(spec)
    if fps:
        src.fps = fps
    return src


def scanner_screen_frames(n: int = 20, size: str | int = "1920x1080") -> list[np.ndarray]:
    """``n`` simulated scanner *screens*: phantom frames on a uniform background with menus
    and burned-in text around them, for timing the ROI stage on realistic input."""
    w, h = parse_size(size)
    side = int(min(w * 0.45, h * 0.8))
    imgs, _ = phantom_frames(n, side)
    base = np.full((h, w, 3), (18, 20, 26), np.uint8)
    for i in range(8):
        y = int(h * (0.14 + 0.083 * i))
        cv2.rectangle(base, (20, y), (int(w * 0.12), y + int(h * 0.065)), (60, 64, 80), -1)
        cv2.putText(base, f"MENU {i}", (30, y + 40), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (220,) * 3, 2)
    cv2.putText(base, "DOE^JANE ID 0012345678", (int(w * 0.2), 50), 0, 1.0, (220,) * 3, 2)
    x0, y0 = (w - side) // 2, int(h * 0.12)
    frames = []
    for img in imgs:
        f = base.copy()
        f[y0 : y0 + side, x0 : x0 + side] = img
        frames.append(f)
    return frames
