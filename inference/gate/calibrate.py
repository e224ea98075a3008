"""Reference statistics for a model from its training data (``sonolive calibrate``); Qt-free.

The model runs through the real :class:`~.segmenter.Segmenter` (any backend: safetensors,
ONNX, TorchScript), so the features are exactly those the live gate computes: the picture
and output statistics always, the network's pooled features where it shows them
(:mod:`.ood_features`). Only training frames are used; thresholds are out of fold.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from ..segmenter import Segmenter
from .ood import ReferenceStats, fit_reference, frame_features, weights_fingerprint


def as_rgb(img: np.ndarray) -> np.ndarray:
    """Grey (H x W) or RGB pictures as H x W x 3 uint8, the live frame format."""
    return np.repeat(img[:, :, None], 3, axis=2) if img.ndim == 2 else img


def features_of(seg: Segmenter, pictures: Iterable[np.ndarray]) -> np.ndarray:
    """One statistics row per picture, as the live gate computes it."""
    return deep_features_of(seg, pictures)[0]


def deep_features_of(
    seg: Segmenter, pictures: Iterable[np.ndarray]
) -> tuple[np.ndarray, np.ndarray | None]:
    """Statistics rows and pooled-feature rows (None where the network hides its inside),
    one per picture, from the same forward pass the live gate reads them from."""
    rows, deep = [], []
    for img in pictures:
        x = seg.preprocess(as_rgb(img))
        staged = seg.ood_inputs(x, seg.infer(x), force=True)
        assert staged is not None  # force: computed without reference statistics too
        pic, small, d = staged
        if seg.device.type == "cuda":
            torch.cuda.synchronize(seg.device)  # the copies to the host are non-blocking
        rows.append(frame_features(pic, small, seg.card.output, out_stride=1))
        deep.append(None if d is None else d.detach().cpu().numpy().reshape(-1).astype(np.float64))
    if not rows:
        return np.zeros((0, 0)), None
    got = [d for d in deep if d is not None]
    return np.stack(rows), np.stack(got) if len(got) == len(deep) else None


def phantom_pictures(seed: int, frames: int, size: int = 512) -> Iterator[np.ndarray]:
    """Random simulated frames (all views, any probe pose), as training draws them."""
    from ...capture.phantom import phantom_samples

    for img, _ in phantom_samples(seed, frames, size):
        yield img


def folder_pictures(folder: str | Path, split: str = "train", seed: int = 0, val: float = 0.2):
    """The images of a training folder (``images/`` + ``masks/``), one split of it, and each
    mirrored too (training with ``--flip`` sees both)."""
    from ...models.datasets import folder_pairs, read_grey, split_pairs

    pairs = folder_pairs(folder)
    if split != "all":
        tr, va = split_pairs(pairs, val, seed)
        pairs = tr if split == "train" else va
    for ip, _ in pairs:
        img = read_grey(ip)
        yield img
        yield img[:, ::-1].copy()


def calibrate(
    seg: Segmenter,
    pictures: Iterable[np.ndarray],
    *,
    false_alarm_rate: float = 0.01,
    data: str = "",
    command: str = "",
) -> ReferenceStats:
    """Fit reference statistics for ``seg``'s model on ``pictures`` (its training data)."""
    model = seg.torch_model
    if model.path is None:
        raise ValueError(f"{seg.card.name}: the model has no folder to store statistics in")
    digest = weights_fingerprint(Path(model.path) / seg.card.weights)
    stats, deep = deep_features_of(seg, pictures)
    return fit_reference(
        stats,
        deep=deep,
        layers=seg.ood_features.layers,
        model=seg.card.name,
        num_classes=seg.card.num_classes,
        weights_sha256=digest,
        false_alarm_rate=false_alarm_rate,
        data=data,
        command=command,
    )
