"""The small typed ports a controller gets instead of the window.

A controller changes the session (``inference/session.py``) through its methods and shows
what it has to say through these: the banner, the status line, the display. The window
implements all three (it is passed as each port where it composes the controllers), so a
controller never reaches two levels into the window's widgets, and a test can hand it a
small object of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    from PySide6.QtGui import QAction

    from ..capture.source import FrameSource
    from ..inference.pipeline import Result


class BannerPort(Protocol):
    """The banner over the picture: one line per topic ("source", "model", "other", …)."""

    def show_banner(self, text: str, topic: str = "other", action: QAction | None = None) -> None:
        """``action``: offered as a button beside the line while it is up."""
        ...

    def hide_banner(self, topic: str | None = None) -> None: ...


class StatusPort(Protocol):
    """The status line."""

    def set_source_text(self, text: str) -> None: ...

    def show_message(self, text: str, ms: int = 0) -> None: ...

    def show_note(self, text: str, path: str = "", ms: int = 4000) -> None:
        """A note with a file to open (a snapshot, a recording)."""
        ...


class DisplayPort(Protocol):
    """What is on screen, and the one way to say there is no picture."""

    @property
    def last_result(self) -> Result | None: ...

    @property
    def source(self) -> FrameSource | None: ...

    def show_no_signal(self, headline: str, detail: str = "") -> None: ...

    def current_array(self) -> np.ndarray | None: ...


class ModePort(Protocol):
    """The window's mode (Bedside, Teaching, Review) and the source it shows."""

    @property
    def mode(self) -> str: ...

    def set_mode(self, mode: str) -> None: ...

    def show_source(self, source: FrameSource) -> None:
        """The source on screen changed without the live path (a clip in Review)."""
        ...


__all__ = ["BannerPort", "DisplayPort", "ModePort", "StatusPort"]
