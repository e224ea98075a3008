"""The last few seconds of pictures, kept in memory (the recorder's short memory).

The exam panel keeps a clip per view: what was on screen during the seconds before the
physician confirmed it. ``FrameRing.write`` is a pipeline frame hook (inference thread or
review worker): it never blocks on the GUI, copies a reduced picture (at most ``max_side``
pixels per side, at most ``max_fps`` pictures a second) and drops the oldest.
"""

from __future__ import annotations

import threading
from collections import deque

import cv2
import numpy as np


def reduce(img: np.ndarray, max_side: int) -> np.ndarray:
    """``img`` shrunk (area averaging) so that neither side exceeds ``max_side``; even sizes
    (the H.264 encoder and JPEG 4:2:2 want them)."""
    h, w = img.shape[:2]
    k = min(1.0, max_side / max(h, w))
    nw, nh = max(2, int(w * k) // 2 * 2), max(2, int(h * k) // 2 * 2)
    if (nw, nh) == (w, h):
        return np.ascontiguousarray(img).copy()
    return cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)


class FrameRing:
    """The newest ``seconds`` of pictures, each with its stream time in seconds."""

    def __init__(self, seconds: float = 3.0, max_fps: float = 15.0, max_side: int = 384) -> None:
        self.seconds = float(seconds)
        self.min_gap = 1.0 / max_fps if max_fps > 0 else 0.0
        self.max_side = int(max_side)
        self._items: deque[tuple[float, np.ndarray]] = deque()
        self._lock = threading.Lock()

    def write(self, t: float, image: np.ndarray) -> None:
        with self._lock:
            last = self._items[-1][0] if self._items else None
        if last is not None and 0 <= t - last < self.min_gap - 1e-6:
            return  # above max_fps: skipped before the copy
        small = reduce(np.asarray(image), self.max_side)
        with self._lock:
            if self._items and (t < self._items[-1][0] or small.shape != self._items[-1][1].shape):
                self._items.clear()  # a new source or a seek back: a clip never mixes two
            self._items.append((t, small))
            while self._items and t - self._items[0][0] > self.seconds:
                self._items.popleft()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> tuple[list[np.ndarray], float]:
        """The pictures held, oldest first, and their frame rate (pictures per second)."""
        with self._lock:
            items = list(self._items)
        if not items:
            return [], 0.0
        span = items[-1][0] - items[0][0]
        fps = (
            (len(items) - 1) / span
            if span > 0 and len(items) > 1
            else 1.0 / max(self.min_gap, 1 / 30)
        )
        return [img for _, img in items], fps
