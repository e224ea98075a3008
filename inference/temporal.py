"""Temporal stability: the flicker and presence figures, and the live filter.

Flicker ratio (per class): the mean of (1 - IoU) between consecutive predicted masks, divided
by the same for the true masks. 1.0 means the overlay moves exactly as much as the anatomy;
above 1 it jitters or blinks, 0 means it stands still.

:class:`TemporalFilter` smooths the network's class probabilities over frames (an
exponential average whose weight follows the picture's motion, dropped on a cut) and holds
each class's presence with hysteresis. It runs on the frame that was just inferred, so it adds
no frame of latency, and it is all tensor operations: on CUDA it needs no host sync.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

#: a class counts as present on a frame when it covers at least this share of the picture
PRESENCE_FRACTION = 0.002


def present(area: int, total: int, min_fraction: float = PRESENCE_FRACTION) -> bool:
    """Whether ``area`` pixels out of ``total`` count as the class being on the picture."""
    return total > 0 and area >= min_fraction * total


def _change(a: np.ndarray, b: np.ndarray) -> float:
    """1 - IoU of two boolean masks; two empty masks did not change."""
    union = int(np.count_nonzero(a | b))
    return 0.0 if union == 0 else 1.0 - int(np.count_nonzero(a & b)) / union


class FlickerMeter:
    """Accumulates, per class, how much the predicted and the true masks change per frame.

    A pair of consecutive frames counts for a class when the class is in the truth or the
    prediction of either frame; pairs where it is nowhere say nothing and are skipped.
    """

    def __init__(self, class_names: Sequence[str]) -> None:
        self.names = list(class_names)
        self._prev: tuple[np.ndarray, np.ndarray] | None = None
        self._pred = np.zeros(len(self.names))
        self._true = np.zeros(len(self.names))
        self._pairs = np.zeros(len(self.names), np.int64)

    def reset(self) -> None:
        """A cut in the clip: the next frame starts a new run of pairs."""
        self._prev = None

    def add(self, pred: np.ndarray, truth: np.ndarray) -> None:
        if self._prev is not None:
            pp, tp = self._prev
            for c in range(1, len(self.names)):
                p0, p1, t0, t1 = pp == c, pred == c, tp == c, truth == c
                if not (p0.any() or p1.any() or t0.any() or t1.any()):
                    continue
                self._pred[c] += _change(p0, p1)
                self._true[c] += _change(t0, t1)
                self._pairs[c] += 1
        self._prev = (pred, truth)

    def result(self) -> dict[str, dict[str, Any]]:
        out = {}
        for c in range(1, len(self.names)):
            n = int(self._pairs[c])
            pc = self._pred[c] / n if n else None
            tc = self._true[c] / n if n else None
            ratio = None if not n or not tc else round(pc / tc, 4)
            out[self.names[c]] = {
                "flicker_ratio": ratio,
                "pred_change": None if pc is None else round(pc, 4),
                "true_change": None if tc is None else round(tc, 4),
                "pairs": n,
            }
        return out


def _rates(tp: int, fn: int, tn: int, fp: int) -> dict[str, Any]:
    return {
        "sensitivity": round(tp / (tp + fn), 4) if tp + fn else None,
        "specificity": round(tn / (tn + fp), 4) if tn + fp else None,
        "positive_frames": tp + fn,
        "negative_frames": tn + fp,
    }


class PresenceMeter:
    """Per-frame presence sensitivity and specificity, overall and per view ("is there fluid
    in Morison's pouch?")."""

    def __init__(self) -> None:
        self._counts: dict[str, list[int]] = {}  # view -> [tp, fn, tn, fp]

    def add(self, predicted: bool, true: bool, view: str = "all") -> None:
        c = self._counts.setdefault(view, [0, 0, 0, 0])
        c[(0 if predicted else 1) if true else (2 if not predicted else 3)] += 1

    def result(self) -> dict[str, Any]:
        total = [sum(c[i] for c in self._counts.values()) for i in range(4)]
        return {
            "overall": _rates(*total),
            "per_view": {v: _rates(*c) for v, c in sorted(self._counts.items())},
        }


class TemporalFilter:
    """Smooths class probabilities across frames for a steadier overlay.

    ``p = w * q + (1 - w) * p_prev`` with ``q`` this frame's probabilities. The weight ``w``
    is ``alpha`` on a still picture and rises to 1 with motion (the mean change of a coarse
    copy of the network's input, relative to its brightness); at a cut (a new view, a new
    input) ``w`` is 1: the past is dropped. Then each class's presence is held with
    hysteresis: a class shows once it covers ``on_fraction`` of the picture and hides when it
    falls below ``off_fraction`` (a hidden class's probability is set to 0, so its pixels go
    to the next most likely class). The output is log-probabilities, which every consumer of
    logits reads the same way.

    One inference thread calls it; :meth:`reset` may be called from any thread and takes
    effect on the next frame.
    """

    def __init__(
        self,
        alpha: float = 0.5,
        still: float = 0.04,
        cut: float = 0.25,
        on_fraction: float = 0.004,
        off_fraction: float = 0.0015,
    ) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError("alpha must be within (0, 1]")
        if not 0.0 <= still < cut:
            raise ValueError("still must be below cut")
        self.alpha, self.still, self.cut = float(alpha), float(still), float(cut)
        self.on_fraction, self.off_fraction = float(on_fraction), float(off_fraction)
        self._probs: torch.Tensor | None = None
        self._thumb: torch.Tensor | None = None
        self._shown: torch.Tensor | None = None  # bool per class, the hysteresis state
        self._reset_pending = False
        #: the weight given to the last frame (a 0-d tensor; 1.0 = no history used)
        self.last_weight: torch.Tensor | float = 1.0

    def reset(self) -> None:
        self._reset_pending = True

    def _clear(self) -> None:
        self._probs = self._thumb = self._shown = None
        self._reset_pending = False

    def __call__(self, x: torch.Tensor, out: torch.Tensor, output: str = "logits") -> torch.Tensor:
        """``x``: the network's input (1 x C x h x w); ``out``: its output; ``output``: the
        card's output kind ("logits" or "probabilities"). Returns log-probabilities."""
        if self._reset_pending:
            self._clear()
        q = out.float().softmax(1) if output == "logits" else out.float()
        thumb = F.adaptive_avg_pool2d(x.float().mean(1, keepdim=True), 24)
        prev = self._probs
        if prev is None or prev.shape != q.shape or self._thumb is None:
            w = torch.ones((), device=q.device)
            shown = torch.zeros(q.shape[1], dtype=torch.bool, device=q.device)
        else:
            level = self._thumb.abs().mean() + thumb.abs().mean() + 1e-6
            motion = 2.0 * (thumb - self._thumb).abs().mean() / level
            ramp = ((motion - self.still) / (self.cut - self.still)).clamp(0.0, 1.0)
            cut = motion >= self.cut
            w = self.alpha + (1.0 - self.alpha) * ramp
            w = torch.where(cut, torch.ones_like(w), w)
            q = w * q + (1.0 - w) * prev
            assert self._shown is not None
            shown = self._shown & ~cut  # a cut forgets what was shown
        self._probs, self._thumb, self.last_weight = q, thumb, w
        # hysteresis on presence, from the smoothed map's own label counts
        frac = _class_shares(q)
        need = torch.where(
            shown,
            torch.full_like(frac, self.off_fraction),
            torch.full_like(frac, self.on_fraction),
        )
        keep = frac >= need
        keep[0] = True  # background is always there
        self._shown = keep
        return torch.log(_only(q, keep, 0.0).clamp_min(1e-8))


def drop_specks(out: torch.Tensor, output: str, min_fraction: float) -> torch.Tensor:
    """The network's output with every class that wins less than ``min_fraction`` of the map's
    pixels taken out (its pixels go to the next most likely class), in the same kind
    (logits or probabilities); tensors only, no sync."""
    keep = _class_shares(out) >= min_fraction
    keep[0] = True
    floor = -1e4 if output == "logits" else 0.0  # far below any logit, and fp16-safe
    return _only(out, keep, floor)


def _class_shares(scores: torch.Tensor) -> torch.Tensor:
    """The share of the map each class wins (1 x C x h x w scores -> C fractions)."""
    n = scores.shape[1]
    lab = scores[0].max(0).indices  # max's index: torch's argmax is 8x slower on the CPU
    return torch.bincount(lab.flatten(), minlength=n)[:n].float() / lab.numel()


def _only(scores: torch.Tensor, keep: torch.Tensor, floor: float) -> torch.Tensor:
    """``scores`` with the classes not in ``keep`` (a bool per class) set to ``floor``."""
    mask = keep.view(1, -1, 1, 1)
    return torch.where(mask, scores, torch.full((), floor, dtype=scores.dtype))


def clip_samples(
    seed: int = 0, frames: int = 240, size: int = 256, views: int = 4, fps: float = 30.0
) -> Iterator[tuple[np.ndarray, np.ndarray, str]]:
    """The phantom's scripted scan at ``fps``: ``frames`` frames spread over ``views``
    consecutive views of the script (equal runs, each from the start of its segment), as
    (grey image, class mask, view) triples. The script goes round the four views; on every
    second round each view has free fluid where it had none and none where it had some, so
    that 8 views hold every view both with and without fluid."""
    from ..capture.phantom import SEGMENT_S, PhantomScanner

    if frames < 1 or views < 1:
        raise ValueError("frames and views must be at least 1")
    sc = PhantomScanner(seed=seed, size=size)
    per = max(1, frames // views)
    for i in range(frames):
        k, j = divmod(i, per)
        fluid = None if (k // 4) % 2 == 0 else not sc.segment_info(k - 4)["fluid"]
        img, mask = sc.render(k * SEGMENT_S + j / fps, fluid=fluid)
        yield img, mask, str(sc.current_view)
