""" "Open model…": validate a model folder off the GUI thread, add it to the picker, use it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ..capture.workers import spawn
from .ports import BannerPort


class ModelImporter(QObject):
    """The "Open model…" action (the window places it in the main toolbar). TorchScript is a program: before it is imported the user confirms, in a dialog that
    names the risk, that they trust it. The dialog is window-modal but never blocks the GUI
    thread (``open()``, not ``exec()``); ``trust_box`` is the one being shown."""

    imported = Signal(str)  # model name
    failed = Signal(str)  # plain message
    needsTrust = Signal(str, str)  # folder, why  # noqa: N815

    def __init__(
        self,
        banner: BannerPort,
        use_model: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        """``use_model(name)``: list the added model and switch to it (the model picker's
        job); ``parent``: the dialogs' parent."""
        super().__init__(parent)
        self._parent = parent
        self.action = QAction(self.tr("Open model…"), self)
        self.action.triggered.connect(self.ask)
        self.imported.connect(use_model)
        self.failed.connect(lambda msg: banner.show_banner(msg))
        self.needsTrust.connect(self._ask_trust)
        self.trust_box: QMessageBox | None = None

    def ask(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self._parent, self.tr("Open a model folder (model.json or model.yaml + weights)")
        )
        if folder:
            self.open_folder(Path(folder))

    def open_folder(self, folder: Path, trust_code: bool = False) -> None:
        """Validate and copy into the user models folder on a worker thread."""

        def work() -> None:
            from ..models.card import ModelCard
            from ..models.importer import import_model
            from ..models.weights_io import UntrustedCodeError

            try:
                # never replaces an installed model silently
                dest = import_model(folder, trust_code=trust_code)
                self.imported.emit(ModelCard.load(dest).name)
            except UntrustedCodeError as e:
                self.needsTrust.emit(str(folder), str(e))
            except Exception as e:  # noqa: BLE001 - any failure becomes a message
                self.failed.emit(
                    self.tr("The model in %1 was not added: %2")
                    .replace("%1", str(folder))
                    .replace("%2", _within(str(e), folder))
                )

        spawn(work, name="sonolive-import-model")

    @Slot(str, str)
    def _ask_trust(self, folder: str, why: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("This model contains code"),
            self.tr(
                "The model in %1 is TorchScript: a program that runs on this computer with "
                "your permissions whenever the model is used. It could read, change or delete "
                "your files. Add it only if you trust where it came from."
            ).replace("%1", folder),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self._parent,
        )
        box.setDetailedText(why)
        box.button(QMessageBox.StandardButton.Yes).setText(self.tr("Trust and add"))
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(lambda _r, b=box, f=folder: self._trust_answered(b, f))
        self.trust_box = box
        box.open()

    def _trust_answered(self, box: QMessageBox, folder: str) -> None:
        self.trust_box = None
        box.deleteLater()
        if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
            self.open_folder(Path(folder), trust_code=True)
        else:
            self.failed.emit(
                self.tr(
                    "The model in %1 was not added: it contains code you did not trust."
                ).replace("%1", folder)
            )


def _within(reason: str, folder: Path) -> str:
    """``reason`` without the folder the line already names ("<folder>: no model.json…"
    reads "no model.json…"; "<folder>/model.json: …" reads "model.json: …")."""
    for prefix in (f"{folder}: ", f"{folder}{os.sep}"):
        if reason.startswith(prefix):
            return reason[len(prefix) :]
    return reason
