"""How many strokes an annotator needs to bring a starting mask close to a reference mask.

A simulated annotator, the same for both starts (an empty mask, or the model's pre-fill):
each stroke fixes one connected region of wrong pixels of one class (a lasso fill for a missed
region, an eraser / lasso for an extra one), the largest region first. The annotator stops when
the mean Dice over the reference's classes reaches ``target``, or when no wrong region of at
least ``min_region`` pixels is left (specks smaller than that are not worth a stroke).
"""

from __future__ import annotations

import cv2
import numpy as np


def mean_dice(mask: np.ndarray, ref: np.ndarray, classes: list[int]) -> float:
    vals = []
    for c in classes:
        a, b = mask == c, ref == c
        total = int(a.sum()) + int(b.sum())
        vals.append(1.0 if total == 0 else 2.0 * int((a & b).sum()) / total)
    return float(np.mean(vals)) if vals else 1.0


def _regions(start: np.ndarray, ref: np.ndarray, n_classes: int, min_region: int):
    out = []
    for c in range(1, n_classes):
        for wrong in ((ref == c) & (start != c), (start == c) & (ref != c)):
            n, lab, stats, _ = cv2.connectedComponentsWithStats(
                wrong.astype(np.uint8), connectivity=8
            )
            for i in range(1, n):
                area = int(stats[i, cv2.CC_STAT_AREA])
                if area >= min_region:
                    out.append((area, lab == i))
    return out


def strokes_needed(
    start: np.ndarray,
    ref: np.ndarray,
    n_classes: int,
    target: float = 0.9,
    min_region: int = 20,
    max_strokes: int = 200,
) -> tuple[int, float]:
    """(strokes, Dice reached) to correct ``start`` towards ``ref``."""
    cur = start.astype(np.uint8).copy()
    classes = [c for c in range(1, n_classes) if (ref == c).any()]
    strokes = 0
    while strokes < max_strokes and mean_dice(cur, ref, classes) < target:
        regions = _regions(cur, ref, n_classes, min_region)
        if not regions:
            break
        _area, sel = max(regions, key=lambda r: r[0])
        cur[sel] = ref[sel]
        strokes += 1
    return strokes, mean_dice(cur, ref, classes)
