"""Load a model folder (card + weights) into a runnable network, without ever unpickling.

``.safetensors`` holds plain tensors, so loading cannot execute code. The loader checks
every tensor name and shape against the architecture the card describes and names the
first mismatch in plain words.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from .card import CardError, ModelCard, check_colors
from .foreign import load_foreign  # TorchScript / ONNX bring-your-own models
from .weights_io import (
    LoadedModel,
    ModelLoadError,
    apply_state,
    build_arch,
    load_safetensors_state,
    weights_path,
)


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
        trusted = trust_code or (card.contains_code and _installed(folder))
        return load_foreign(card, folder, trust_code=trusted)
    net = build_arch(card)
    state = load_safetensors_state(weights_path(card, folder))
    apply_state(net, state, card.weights)
    net.eval()
    return LoadedModel(card=card, net=net, path=folder)


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
