"""Check a model folder a user brings, then copy it into their models folder.

Used by ``sonolive import-model DIR`` and the app's "Open model…" action. A folder is copied
only after its card parses, its weights load, one frame runs through the loaded network on
the CPU (a plain forward pass, so models/ needs nothing above it), and its classes and colours
can be told apart on screen.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import uuid
from pathlib import Path

from .card import MIN_COLOR_DISTANCE, CardError, ModelCard, check_colors
from .loader import LoadedModel, ModelLoadError, load_model
from .registry import list_models, user_models_dir

__all__ = [
    "MIN_COLOR_DISTANCE",
    "ImportModelError",
    "ModelsFolderError",
    "import_model",
    "validate_model",
]
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$")


class ImportModelError(ModelLoadError):
    """The folder cannot be imported; the message says why in plain words."""


class ModelsFolderError(ImportModelError):
    """The user's models folder cannot be created or written (not the model's fault)."""


def model_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be installed as a model (it names the model's folder), or None."""
    if not _SAFE_NAME.match(name) or name in (".", "..") or name.rstrip(". ") != name:
        return (
            f"model name {name!r} cannot name a folder; use letters, digits, '.', '_', "
            "'-' or spaces (at most 64, starting with a letter or digit)"
        )
    return None


def check_classes(card: ModelCard) -> None:
    """Unique class names and colours that are distinct enough from each other."""
    names = card.class_names
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ImportModelError(f"{card.name}: class names must be unique ({', '.join(dupes)})")
    try:
        check_colors(card)
    except CardError as e:
        raise ImportModelError(str(e)) from e


def validate_model(src: str | Path, trust_code: bool = False) -> LoadedModel:
    """Everything ``import_model`` checks, without copying. Raises ModelLoadError/CardError
    (UntrustedCodeError for TorchScript without ``trust_code``)."""
    from .foreign import check_output

    src = Path(src)
    if not src.is_dir():
        raise ImportModelError(f"{src} is not a folder")
    try:
        card = ModelCard.load(src)
    except CardError as e:
        raise ImportModelError(str(e)) from e
    problem = model_name_problem(card.name)
    if problem:
        raise ImportModelError(problem)
    builtin = {e.name for e in list_models() if e.builtin}
    if card.name in builtin:
        raise ImportModelError(
            f"a shipped model is already called '{card.name}'; change 'name' in the card"
        )
    check_classes(card)
    loaded = load_model(src, trust_code=trust_code)
    if card.format == "safetensors":  # foreign formats were checked while loading
        check_output(card, loaded.net, where=card.weights)  # a plain forward pass
    return loaded


def import_model(src: str | Path, force: bool = False, trust_code: bool = False) -> Path:
    """Validate ``src`` and copy it to ``user_models_dir()/<card name>/``; return that folder.

    Refuses to replace an existing user model unless ``force``. TorchScript needs
    ``trust_code``; its installed card then says ``"contains_code": true``, so loading the
    installed model later does not ask again.
    """
    src = Path(src).resolve()
    loaded = validate_model(src, trust_code=trust_code)
    holds_code = _is_script(loaded)
    root = user_models_dir()
    dest = root / loaded.card.name
    if dest.resolve() == src:
        return dest  # already in place
    if dest.exists() and not force:
        raise ImportModelError(
            f"a user model called '{loaded.card.name}' already exists at {dest} "
            "(use --force to replace it)"
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
        if not root.is_dir():
            raise NotADirectoryError(20, "not a folder")
    except OSError as e:  # a read-only home; SONOLIVE_USER_MODELS naming a file
        raise ModelsFolderError(
            f"{root}: cannot hold your models ({e.strerror or e}); set SONOLIVE_USER_MODELS "
            "to a folder you can write to"
        ) from e
    tmp = root / f".importing-{uuid.uuid4().hex[:8]}"
    try:
        shutil.copytree(src, tmp, ignore=_skip)
        if holds_code:
            _mark_code(tmp, loaded.card)
        if dest.exists():
            old = root / f".replaced-{uuid.uuid4().hex[:8]}"
            dest.rename(old)
            tmp.rename(dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(dest)
    except OSError as e:
        raise ImportModelError(f"cannot copy the model into {dest}: {e.strerror or e}") from e
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _is_script(loaded: LoadedModel) -> bool:
    import torch

    net = getattr(loaded.net, "net", loaded.net)  # ResizeOutput wraps a foreign net
    return isinstance(net, torch.jit.ScriptModule)


def _mark_code(folder: Path, card: ModelCard) -> None:
    """Record in the installed copy's card that it holds code the user chose to trust."""
    marked = dataclasses.replace(card, contains_code=True)
    for old in ("model.yaml", "model.yml"):
        (folder / old).unlink(missing_ok=True)
    marked.save(folder / "model.json")


def _skip(folder: str, names: list[str]) -> set[str]:
    """Hidden files, caches and links (a link could point anywhere) are not copied."""
    return {
        n
        for n in names
        if n.startswith(".") or n == "__pycache__" or (Path(folder) / n).is_symlink()
    }
