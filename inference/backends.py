"""Build a segmenter for a model name on a chosen device and backend."""

from __future__ import annotations

from ..models.loader import load_model
from ..models.registry import find_model
from .segmenter import Segmenter


def make_segmenter(model: str, device: str = "auto", backend: str = "auto") -> Segmenter:
    loaded = load_model(find_model(model))
    if backend not in ("auto", "torch"):
        raise ValueError(f"unknown backend '{backend}' (known: auto, torch)")
    return Segmenter(loaded, device=device)
