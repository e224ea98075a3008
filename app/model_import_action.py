""" "Open model…": validate a model folder off the GUI thread, add it to the picker, use it."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog


class ModelImporter(QObject):
    imported = Signal(str)  # model name
    failed = Signal(str)  # plain message

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.action = QAction(self.tr("Open model…"), window)
        self.action.triggered.connect(self.ask)
        self.imported.connect(self._use)
        self.failed.connect(window.show_banner)

    def ask(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window, self.tr("Open a model folder (model.json or model.yaml + weights)")
        )
        if folder:
            self.open_folder(Path(folder))

    def open_folder(self, folder: Path) -> None:
        """Validate and copy into the user models folder on a worker thread."""

        def work() -> None:
            from ..models.card import ModelCard
            from ..models.importer import import_model

            try:
                dest = import_model(folder)  # never replaces an installed model silently
                self.imported.emit(ModelCard.load(dest).name)
            except Exception as e:  # noqa: BLE001 - any failure becomes a message
                self.failed.emit(
                    self.tr("The model in %1 was not added: %2")
                    .replace("%1", str(folder))
                    .replace("%2", str(e))
                )

        threading.Thread(target=work, name="sonolive-import-model", daemon=True).start()

    def _use(self, name: str) -> None:
        self.window.refresh_models()
        self.window.select_model(name)


def install_model_import(window) -> ModelImporter:
    imp = ModelImporter(window)
    window.model_importer = imp
    window.main_toolbar.addAction(imp.action)
    return imp
