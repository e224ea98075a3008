"""The banner over the picture: one line per topic (a :class:`~.ports.BannerPort`)."""

from __future__ import annotations

import sys

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QToolButton

ORDER = ("source", "model", "other")  # these first, in this order; other topics after them


class Banner(QLabel):
    """Plain-words problems, one line per topic: a model error stays up when the source
    recovers, and the other way round. Each new line is printed on the terminal too.

    A line may offer an action (e.g. "Adjust ROI…" beside "no ultrasound region found"):
    :attr:`button` shows the first such line's action while that line is up; the window
    places the button beside the banner."""

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setStyleSheet("QLabel{background:#7a3b00;color:white;padding:6px;font-size:14px}")
        self.setVisible(False)
        self.messages: dict[str, str] = {}  # the line of each topic shown now
        self.button = QToolButton()
        self.button.setVisible(False)
        self._actions: dict[str, QAction] = {}

    def show_banner(self, text: str, topic: str = "other", action: QAction | None = None) -> None:
        """Show ``text`` as the line for ``topic``; the other topics' lines stay."""
        if self.messages.get(topic) != text:
            print(f"SonoLive: {text}", file=sys.stderr, flush=True)
        self.messages[topic] = text
        if action is not None:
            self._actions[topic] = action
        self._show()

    def hide_banner(self, topic: str | None = None) -> None:
        """Clear one topic's line (all of them when ``topic`` is None)."""
        if topic is None:
            self.messages.clear()
            self._actions.clear()
        else:
            self.messages.pop(topic, None)
            self._actions.pop(topic, None)
        self._show()

    def _show(self) -> None:
        lines = [self.messages[k] for k in ORDER if k in self.messages]
        lines += [v for k, v in self.messages.items() if k not in ORDER]
        self.setText("\n".join(lines))
        self.setVisible(bool(lines))
        acts = [a for k, a in self._actions.items() if k in self.messages]
        if acts:
            self.button.setDefaultAction(acts[0])
        self.button.setVisible(bool(acts))


__all__ = ["Banner"]
