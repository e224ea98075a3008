"""What every model loader shares: the errors, the loaded-model record, and reading weights
and architectures from a model folder safely (no unpickling, no path outside the folder)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath

import torch
from torch import nn

from .card import ModelCard
from .unet import build_network


class ModelLoadError(RuntimeError):
    """Weights or card could not be used; the message says why in plain words."""


class UntrustedCodeError(ModelLoadError):
    """The weights are TorchScript (a program) and the user has not said they trust it."""


@dataclass
class LoadedModel:
    card: ModelCard
    net: nn.Module  # float32, eval mode, on the CPU
    path: Path | None = None


def load_safetensors_state(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.exists():
        raise ModelLoadError(f"Weights file not found: {path}")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise ModelLoadError(
            f"{path.name} is not a valid .safetensors file (corrupt or truncated): {e}"
        ) from e


def apply_state(net: nn.Module, state: dict[str, torch.Tensor], where: str) -> None:
    """Copy ``state`` into ``net``; a missing, extra or mis-shaped tensor is a plain error."""
    own = net.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    if missing or extra:
        detail = f"missing {missing[:3]}" if missing else f"unexpected {extra[:3]}"
        raise ModelLoadError(
            f"{where}: the weights do not match the architecture in the card ({detail}). "
            "Check the card's 'arch' (width, depth) and classes."
        )
    for k, v in state.items():
        if tuple(v.shape) != tuple(own[k].shape):
            raise ModelLoadError(
                f"{where}: tensor '{k}' has shape {tuple(v.shape)} but the card's architecture "
                f"needs {tuple(own[k].shape)}. Check the card's classes, channels, width and depth."
            )
    net.load_state_dict({k: v.float() for k, v in state.items()})


def build_arch(card: ModelCard, default: dict | None = None) -> nn.Module:
    """The card's architecture, bounded (see ``unet.check_arch``); any failure is a message."""
    arch = card.arch or default or {}
    try:
        return build_network(arch, card.channels, card.num_classes)
    except Exception as e:  # noqa: BLE001 - a hostile 'arch' must not escape as a traceback
        raise ModelLoadError(f"{card.name}: cannot build architecture {arch}: {e}") from e


def weights_path(card: ModelCard, folder: Path) -> Path:
    """The weights file named by the card; it must sit in the model folder itself."""
    rel = PurePath(card.weights)
    if rel.is_absolute() or len(rel.parts) != 1 or rel.name in ("", ".", ".."):
        raise ModelLoadError(
            f"{card.name}: 'weights' must be a file name inside the model folder, "
            f"got {card.weights!r}"
        )
    path = folder / rel.name
    if path.is_symlink():
        raise ModelLoadError(
            f"{card.name}: {rel.name} is a symbolic link; copy the real weights file into the "
            "model folder"
        )
    if not path.is_file():
        raise ModelLoadError(f"Weights file not found: {path}")
    return path
