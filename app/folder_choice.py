"""The "… folder…" menu actions: where snapshots and recordings are written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QWidget


def folder_action(
    window: QWidget, settings: QSettings, key: str, label: str, current: Callable[[], Path]
) -> QAction:
    """An action that asks for a folder (starting at ``current()``) and stores it under
    ``key``; its tooltip always shows the folder in use. ``label`` comes translated (the
    caller marks it, so the translation check sees it)."""
    tr = QCoreApplication.translate
    action = QAction(label, window)

    def show_current() -> None:
        action.setToolTip(tr("MainWindow", "Now: %1").replace("%1", str(current())))

    def choose() -> None:
        chosen = QFileDialog.getExistingDirectory(window, action.text(), str(current()))
        if chosen:
            settings.setValue(key, chosen)
            show_current()

    action.triggered.connect(choose)
    show_current()
    return action
