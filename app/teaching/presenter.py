"""A presenter view: the same picture, fullscreen on a second screen or projector."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ..video_view import VideoView


class PresenterWindow(QWidget):
    def __init__(self, marks: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("SonoLive — presenter view"))
        self.view = VideoView()
        self.view.marks = list(marks)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.close)

    def show_on_best_screen(self) -> None:
        """Fullscreen on a screen other than the main window's, when there is one."""
        screens = QGuiApplication.screens()
        main = (
            self.parent().screen() if self.parent() is not None else QGuiApplication.primaryScreen()
        )
        others = [s for s in screens if s is not main]
        target = others[0] if others else main
        self.setScreen(target)
        self.setGeometry(target.geometry())
        if others:
            self.showFullScreen()
        else:
            self.resize(960, 600)
            self.show()

    def set_frame(self, rgb: np.ndarray) -> None:
        self.view.set_frame(rgb)
