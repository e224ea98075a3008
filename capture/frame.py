"""The one frame type that flows through every layer of SonoLive."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass
class Frame:
    """One picture from a source.

    ``pixels`` is ``H x W x 3`` RGB ``uint8``. ``roi`` is ``(x, y, w, h)`` of the ultrasound
    image inside the source picture; ``pixels`` is already cropped to it, so nothing outside
    the ROI (menus, burned-in patient text) travels further. ``truth`` is the exact class-index
    mask for simulated sources and ``None`` for real ones.
    """

    pixels: np.ndarray
    timestamp: float
    index: int
    roi: tuple[int, int, int, int] | None = None
    truth: np.ndarray | None = None
    source: str = ""
    #: what the source spent making this frame (conversion, ROI crop), in milliseconds
    capture_ms: float = 0.0
    #: the ``perf_counter`` instant the frame entered the pipeline; the pipeline's added
    #: latency (its stage timings: ``inference/stats.py``) is counted from here
    t_enter: float = 0.0
    #: the network's input made ahead on the capture thread, as ``(key, array, ms)``; the key
    #: says which input it is (size, channels, normalisation), so another model ignores it,
    #: and ``ms`` is what making it cost
    net_input: tuple[tuple, np.ndarray, float] | None = None

    def __post_init__(self) -> None:
        p = self.pixels
        if p.dtype != np.uint8 or p.ndim != 3 or p.shape[2] != 3:
            raise ValueError(f"Frame pixels must be HxWx3 uint8 RGB, got {p.dtype} {p.shape}")
        if self.roi is None:
            self.roi = (0, 0, p.shape[1], p.shape[0])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    def mark_entered(self) -> None:
        self.t_enter = time.perf_counter()
