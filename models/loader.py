"""Load a model folder (card + weights) into a runnable network, without ever unpickling.

``.safetensors`` holds plain tensors, so loading cannot execute code. The loader checks
every tensor name and shape against the architecture the card describes and names the
first mismatch in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .card import CardError, ModelCard, check_colors
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


def load_model(folder: str | Path, trust_code: bool = False) -> LoadedModel:
    """Load a model folder (card + weights): the one check every entry point runs.

    ``import-model``, Open model…, ``--model PATH``, ``eval``, ``bench`` and ``process`` all
    come here, so a card, its colours, its architecture and its weights are refused the same
    way everywhere. TorchScript runs code, so it loads only with ``trust_code`` or when it is
    an installed user model whose card records that the user trusted it at import.
    """
    folder = Path(folder)
    try:
        card = ModelCard.load(folder)
        check_colors(card)
    except CardError as e:
        raise ModelLoadError(str(e)) from e
    if card.format != "safetensors":
        from .foreign import load_foreign  # TorchScript / ONNX bring-your-own models

        trusted = trust_code or (card.contains_code and _installed(folder))
        return load_foreign(card, folder, trust_code=trusted)
    net = build_arch(card)
    from .foreign import weights_path  # the weights must sit inside the model folder

    state = load_safetensors_state(weights_path(card, folder))
    apply_state(net, state, card.weights)
    net.eval()
    return LoadedModel(card=card, net=net, path=folder)


def build_arch(card: ModelCard, default: dict | None = None) -> nn.Module:
    """The card's architecture, bounded (see ``unet.check_arch``); any failure is a message."""
    arch = card.arch or default or {}
    try:
        return build_network(arch, card.channels, card.num_classes)
    except Exception as e:  # noqa: BLE001 - a hostile 'arch' must not escape as a traceback
        raise ModelLoadError(f"{card.name}: cannot build architecture {arch}: {e}") from e


def _installed(folder: Path) -> bool:
    """True for a folder in the user's models folder (where import-model puts models)."""
    from .registry import user_models_dir

    try:
        return folder.resolve().parent == user_models_dir().resolve()
    except OSError:
        return False


def save_model(net: nn.Module, card: ModelCard, folder: str | Path) -> Path:
    """Write ``model.safetensors`` and ``model.json`` into ``folder``."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().float().contiguous().cpu() for k, v in net.state_dict().items()}
    save_file(state, str(folder / card.weights))
    card.save(folder / "model.json")
    return folder
