"""Qt-free editing of a class-index mask: brush strokes, lasso fills and an undo stack.

The annotate tool (app/annotate/canvas.py) and the quiz draw through these functions, so what
the widget shows and what is saved are the same array, and the tests can compute the expected
pixels with the same OpenCV calls.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

Point = tuple[int, int]


def paint_segment(mask: np.ndarray, a: Point, b: Point, radius: int, value: int) -> None:
    """Paint a round brush of ``radius`` pixels from ``a`` to ``b`` with class ``value``."""
    r = max(1, int(radius))
    cv2.circle(mask, a, r, int(value), thickness=-1)
    if a != b:
        cv2.line(mask, a, b, int(value), thickness=2 * r + 1)
        cv2.circle(mask, b, r, int(value), thickness=-1)


def fill_polygon(mask: np.ndarray, points: Sequence[Point], value: int) -> bool:
    """Fill the closed polygon through ``points``; False when it has fewer than three."""
    if len(points) < 3:
        return False
    pts = np.asarray(points, dtype=np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(mask, [pts], int(value))
    return True


class MaskHistory:
    """Undo/redo of whole-mask states (masks are small: a 512x512 state is 256 KiB)."""

    def __init__(self, mask: np.ndarray, limit: int = 64) -> None:
        self.mask = mask
        self.limit = limit
        self._undo: list[np.ndarray] = []
        self._redo: list[np.ndarray] = []

    def checkpoint(self) -> None:
        """Call before an edit: the state now becomes one undo step."""
        self._undo.append(self.mask.copy())
        if len(self._undo) > self.limit:
            self._undo.pop(0)
        self._redo.clear()

    def replace(self, new: np.ndarray) -> None:
        """An edit that swaps the whole mask (pre-fill, clear), as one undo step."""
        self.checkpoint()
        self.mask[...] = new

    def drop_last_if_unchanged(self) -> None:
        """A stroke that changed nothing leaves no empty undo step behind."""
        if self._undo and np.array_equal(self._undo[-1], self.mask):
            self._undo.pop()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self.mask.copy())
        self.mask[...] = self._undo.pop()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self.mask.copy())
        self.mask[...] = self._redo.pop()
        return True
