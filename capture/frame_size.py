"""How large a frame may be, and fitting a picture into a given frame size.

A file's header is checked before any frame is decoded: an 8000x8000 clip or a 20000x20000
PNG would otherwise take gigabytes and run at a fraction of a frame per second.
"""

from __future__ import annotations

import cv2
import numpy as np

from .source import SourceError

MAX_SIDE = 4096
MAX_FRAME_PIXELS = MAX_SIDE * MAX_SIDE  # 16.8 megapixels: twice a 4K scanner output


def check_frame_size(width: int, height: int, name: str) -> None:
    """SourceError when a header announces a frame larger than ``MAX_FRAME_PIXELS``."""
    w, h = int(width or 0), int(height or 0)
    if w * h > MAX_FRAME_PIXELS or max(w, h) > 4 * MAX_SIDE:
        raise SourceError(
            f"{name}: frames are {w}x{h} pixels ({w * h / 1e6:.1f} megapixels); SonoLive reads "
            f"at most {MAX_FRAME_PIXELS / 1e6:.1f} megapixels ({MAX_SIDE}x{MAX_SIDE}) per frame"
        )


def letterbox(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """``rgb`` scaled to fit ``width`` x ``height`` with its aspect kept, centred on black.

    Nothing is cropped: a larger picture shrinks, a smaller one grows.
    """
    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(rgb, (nw, nh), interpolation=interp)
    out = np.zeros((height, width, 3), np.uint8)
    y, x = (height - nh) // 2, (width - nw) // 2
    out[y : y + nh, x : x + nw] = small
    return out
