"""What the review player tells its owner, and closing a source without raising."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..capture.source import FrameSource


def _ignore(*_args: object) -> None:
    return None


@dataclass
class PlayerEvents:
    """What the player tells its owner (each called on the worker thread); its frames
    arrive the way live frames do, through ``pipeline.on_result``."""

    #: (path, description, frame count, fps) after a successful open
    opened: Callable[[str, str, int, float], None] = _ignore
    #: playing (True) or paused / ended (False), when the worker changes it
    state: Callable[[bool], None] = _ignore
    #: a plain-words error (the file could not be opened or read)
    error: Callable[[str], None] = _ignore
    #: a plain-words warning (a damaged but partly usable file)
    warning: Callable[[str], None] = _ignore
    #: the true frame count, when fewer frames decode than the file's header said
    count: Callable[[int], None] = _ignore
    #: the ROI stage's notice: no region, or an uncertain one ("" once it is found)
    roi: Callable[[str], None] = _ignore


def close_quietly(src: FrameSource | None) -> None:
    if src is None:
        return
    try:
        src.close()
    except Exception:  # noqa: BLE001 - closing must never take review down
        pass
