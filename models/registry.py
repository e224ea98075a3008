"""Names of the models a user can pick: the shipped ones and the user's own.

Built-in models live in ``models/weights/<name>/``; a user's own models are folders in the
per-user data folder (``platformdirs``), e.g. ``~/.local/share/SonoLive/models/<name>/``
on Linux. The ``SONOLIVE_USER_MODELS`` environment variable overrides that folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .card import CardError, ModelCard

BUILTIN_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_MODEL = "fast-lite"


@dataclass
class ModelEntry:
    name: str
    path: Path
    builtin: bool
    card: ModelCard | None
    error: str | None = None  # why the card could not be read (shown in the picker)


def user_models_dir() -> Path:
    env = os.environ.get("SONOLIVE_USER_MODELS")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("SonoLive", appauthor=False)) / "models"


def _scan(root: Path, builtin: bool) -> list[ModelEntry]:
    """The model folders under ``root``; a folder that cannot be listed (missing, a file,
    unreadable) holds none, so the shipped models still load."""
    try:
        if not root.is_dir():
            return []
        folders = sorted(p for p in root.iterdir() if _is_dir(p))
    except OSError:
        return []
    out = []
    for d in folders:
        try:
            card = ModelCard.load(d)
            out.append(ModelEntry(card.name, d, builtin, card))
        except CardError as e:
            out.append(ModelEntry(d.name, d, builtin, None, str(e)))
        except Exception as e:  # noqa: BLE001 - one bad folder must not stop the app
            out.append(
                ModelEntry(d.name, d, builtin, None, f"{d.name}: unreadable model card ({e})")
            )
    return out


def _is_dir(p: Path) -> bool:
    try:
        return p.is_dir()
    except OSError:
        return False


def list_models() -> list[ModelEntry]:
    """Shipped models first, then the user's; a user model may not shadow a shipped name."""
    entries = _scan(BUILTIN_DIR, True)
    names = {e.name for e in entries}
    for e in _scan(user_models_dir(), False):
        if e.name in names:
            e.error = e.error or f"a shipped model is already called '{e.name}'"
            e.name = f"{e.name} (user)"
        entries.append(e)
    return entries


def find_model(name_or_path: str) -> Path:
    """Resolve a model name from the registry, or a path to a model folder."""
    p = Path(name_or_path)
    if p.is_dir():
        return p
    for e in list_models():
        if e.name == name_or_path:
            return e.path
    known = ", ".join(e.name for e in list_models()) or "none"
    raise KeyError(f"No model called '{name_or_path}' (known: {known})")
