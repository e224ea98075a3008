"""Dice and IoU per class on label maps, and a confidence interval over frames."""

from __future__ import annotations

import math

import numpy as np


def dice_per_class(pred: np.ndarray, truth: np.ndarray, n_classes: int) -> np.ndarray:
    """Dice for each class on one frame; NaN where the class is in neither map."""
    out = np.full(n_classes, np.nan)
    for c in range(n_classes):
        p, t = pred == c, truth == c
        denom = int(p.sum()) + int(t.sum())
        if denom:
            out[c] = 2.0 * int((p & t).sum()) / denom
    return out


def iou_per_class(pred: np.ndarray, truth: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.full(n_classes, np.nan)
    for c in range(n_classes):
        p, t = pred == c, truth == c
        union = int((p | t).sum())
        if union:
            out[c] = int((p & t).sum()) / union
    return out


def mean_ci95(values: list[float] | np.ndarray) -> tuple[float, float, float]:
    """Mean and a normal-approximation 95% interval over frames (t-free, n >= 2)."""
    v = np.asarray([x for x in values if not math.isnan(x)], dtype=np.float64)
    if len(v) == 0:
        return (math.nan, math.nan, math.nan)
    m = float(v.mean())
    if len(v) < 2:
        return (m, m, m)
    half = 1.96 * float(v.std(ddof=1)) / math.sqrt(len(v))
    return (m, max(0.0, m - half), min(1.0, m + half))
