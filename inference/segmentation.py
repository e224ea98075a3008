"""What segmenting one frame gives: the label map, per-class figures and the training-data
verdict. :class:`LazySegmentation` keeps the full-size label map on the device until someone
reads it (the GPU fast path)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass
class Segmentation:
    """What the network found in one frame, at the frame's own resolution."""

    labels: np.ndarray  # H x W uint8 class indices
    confidence: dict[str, float] = field(default_factory=dict)  # mean max-prob per present class
    areas: dict[str, int] = field(default_factory=dict)  # pixels per present class
    ood_score: float | None = None  # distance from the training data (None: no statistics)
    in_distribution: bool | None = None  # the score within the model's threshold

    @property
    def present(self) -> list[str]:
        return list(self.areas)


class LazySegmentation(Segmentation):
    """A segmentation whose full-size label map stays on the device until it is read.

    ``confidence``, ``areas`` and ``present`` are plain host values. The first read of
    ``labels`` downloads the map (thread-safe; the device work that produced it finished
    before the frame's synchronisation, and the tensor is held here so the allocator cannot
    reuse it). Should the device be gone by then, the subsampled map already on the host is
    expanded instead (nearest neighbour, exact on every ``stride``-th pixel).
    """

    def __init__(
        self,
        device_labels: torch.Tensor,
        small: np.ndarray,
        stride: int,
        confidence: dict[str, float],
        areas: dict[str, int],
    ) -> None:
        self._dev: torch.Tensor | None = device_labels
        self._host: np.ndarray | None = None
        self._small = small
        self._stride = stride
        self._shape = tuple(device_labels.shape)
        self._lock = threading.Lock()
        self.confidence = confidence
        self.areas = areas

    @property
    def labels_downloaded(self) -> bool:
        return self._host is not None

    @property
    def labels(self) -> np.ndarray:
        with self._lock:
            if self._host is None:
                try:
                    assert self._dev is not None
                    self._host = np.ascontiguousarray(self._dev.cpu().numpy())
                except Exception:  # noqa: BLE001 - a lost device must not break a snapshot
                    h, w = self._shape
                    s = self._stride
                    big = np.repeat(np.repeat(self._small, s, axis=0), s, axis=1)
                    self._host = np.ascontiguousarray(big[:h, :w])
                self._dev = None  # release the device memory
            return self._host

    @labels.setter
    def labels(self, value: np.ndarray) -> None:
        self._host, self._dev = value, None
