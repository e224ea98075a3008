"""Segmentation losses: Dice + cross-entropy (the default), Dice + focal, Tversky + focal.

All three pair a pixel term (cross-entropy or focal) with an overlap term (soft Dice or
Tversky) over the foreground classes present in the batch. ``class_weight`` (one number per
class, background first) weights both terms: the pixel term per target pixel, the overlap
term per class. ``None`` weights every class 1, which is exactly the original loss.

- ``dice-ce``: cross-entropy + soft Dice; the usual pairing for imbalanced segmentation.
- ``dice-focal``: focal loss (gamma 2) + soft Dice; the focal term down-weights the many easy
  background pixels, so small structures (a vessel, a thin fluid strip) weigh more.
- ``tversky-focal``: focal loss + Tversky (alpha 0.3 on false positives, beta 0.7 on false
  negatives); it punishes a missed structure more than a slightly too large one.

``per_image`` (``sonolive train --overlap image``) computes the overlap term on each image
and averages it over the (image, class) pairs present, instead of pooling the whole batch.
``eval`` reports the mean of per-image Dice, where a small vessel missed in one picture
costs as much as a large one; a pooled term lets the large structures of a batch drown it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch.nn import functional as F

LOSSES = ("dice-ce", "dice-focal", "tversky-focal")
FOCAL_GAMMA = 2.0
TVERSKY_ALPHA, TVERSKY_BETA = 0.3, 0.7


def _weights(class_weight, n: int, device) -> torch.Tensor | None:
    if class_weight is None:
        return None
    w = torch.as_tensor(class_weight, dtype=torch.float32, device=device)
    if w.numel() != n:
        raise ValueError(f"class_weight has {w.numel()} numbers for {n} classes")
    return w


def _overlap_term(
    logits, target, w, alpha: float, beta: float, per_image: bool = False
) -> torch.Tensor:
    """1 - the (weighted) mean Tversky index over present foreground classes (per image and
    class with ``per_image``); alpha = beta = 0.5 is the soft Dice."""
    probs = logits.float().softmax(1)
    onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).float()
    dims = (2, 3) if per_image else (0, 2, 3)
    tp = (probs * onehot).sum(dims)
    fp = (probs * (1 - onehot)).sum(dims)
    fn = ((1 - probs) * onehot).sum(dims)
    if alpha == beta == 0.5:  # the original form, kept bit for bit
        index = (2 * tp + 1.0) / (probs.sum(dims) + onehot.sum(dims) + 1.0)
    else:
        index = (tp + 1.0) / (tp + alpha * fp + beta * fn + 1.0)
    present = onehot.sum(dims) > 0
    present[..., 0] = False  # background does not count towards the overlap term
    if not present.any():
        return probs.sum() * 0
    if w is None:
        return 1 - index[present].mean()
    wp = w.expand_as(index)[present]
    return 1 - (wp * index[present]).sum() / wp.sum().clamp_min(1e-8)


def _focal_term(logits, target, w, gamma: float = FOCAL_GAMMA) -> torch.Tensor:
    logp = F.log_softmax(logits.float(), 1)
    logp_t = logp.gather(1, target[:, None])[:, 0]
    focal = -((1 - logp_t.exp()) ** gamma) * logp_t
    if w is None:
        return focal.mean()
    pw = w[target]
    return (pw * focal).sum() / pw.sum().clamp_min(1e-8)


def dice_ce_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    dice_weight: float = 1.0,
    class_weight: Sequence[float] | torch.Tensor | None = None,
    per_image: bool = False,
) -> torch.Tensor:
    w = _weights(class_weight, logits.shape[1], logits.device)
    if w is None:
        ce = F.cross_entropy(logits, target)
    else:  # weighted mean over pixels, as F.cross_entropy(weight=...) does
        ce = F.cross_entropy(logits.float(), target, weight=w)
    return ce + dice_weight * _overlap_term(logits, target, w, 0.5, 0.5, per_image)


def dice_focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    class_weight: Sequence[float] | torch.Tensor | None = None,
    per_image: bool = False,
) -> torch.Tensor:
    w = _weights(class_weight, logits.shape[1], logits.device)
    return _focal_term(logits, target, w) + _overlap_term(logits, target, w, 0.5, 0.5, per_image)


def tversky_focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    class_weight: Sequence[float] | torch.Tensor | None = None,
    per_image: bool = False,
) -> torch.Tensor:
    w = _weights(class_weight, logits.shape[1], logits.device)
    return _focal_term(logits, target, w) + _overlap_term(
        logits, target, w, TVERSKY_ALPHA, TVERSKY_BETA, per_image
    )


def make_loss(
    name: str = "dice-ce", class_weight: Sequence[float] | None = None, per_image: bool = False
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss ``name`` (one of :data:`LOSSES`) as ``loss(logits, target)``."""
    fns: dict[str, Callable[..., torch.Tensor]] = {
        "dice-ce": dice_ce_loss,
        "dice-focal": dice_focal_loss,
        "tversky-focal": tversky_focal_loss,
    }
    if name not in fns:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    fn = fns[name]
    cw = None if class_weight is None else list(class_weight)

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return fn(logits, target, class_weight=cw, per_image=per_image)

    return loss
