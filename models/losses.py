"""Dice + cross-entropy, the usual pairing for imbalanced segmentation (thin fluid stripes)."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def dice_ce_loss(
    logits: torch.Tensor, target: torch.Tensor, dice_weight: float = 1.0
) -> torch.Tensor:
    ce = F.cross_entropy(logits, target)
    probs = logits.float().softmax(1)
    onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).float()
    dims = (0, 2, 3)
    inter = (probs * onehot).sum(dims)
    denom = probs.sum(dims) + onehot.sum(dims)
    dice = (2 * inter + 1.0) / (denom + 1.0)
    present = onehot.sum(dims) > 0
    present[0] = False  # background does not count towards the Dice term
    dice_loss = 1 - dice[present].mean() if present.any() else probs.sum() * 0
    return ce + dice_weight * dice_loss
