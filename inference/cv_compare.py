"""OpenCV's element-wise compare against a scalar, typed.

``cv2.compare(img, 12, cv2.CMP_GT)`` is valid OpenCV (the scalar is broadcast) and fast, but
OpenCV's type stubs list only array/array overloads; this one wrapper holds the ignore.
"""

from __future__ import annotations

import cv2
import numpy as np


def compare_scalar(img: np.ndarray, value: float, op: int) -> np.ndarray:
    """255 where ``img op value`` holds, else 0 (uint8, the shape of ``img``); ``op`` is one
    of ``cv2.CMP_*``."""
    # the stubs have no scalar overload for src2, which OpenCV accepts
    return cv2.compare(img, value, op)  # type: ignore[call-overload]
