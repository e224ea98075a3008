"""PACS settings (AE titles, host and port, worklist) with a C-ECHO test button.

Stored in QSettings: ``pacs/destination`` (``AET@HOST:PORT``), ``pacs/calling_aet``,
``pacs/worklist`` (``AET@HOST:PORT``, empty: the PACS itself). The echo runs on a thread and
answers through a queued signal; the dialog never waits on the network.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
)

from ...capture.workers import spawn
from ...inference.exam.pacs import (
    DEFAULT_CALLING_AET,
    PacsError,
    check_aet,
    echo,
    parse_destination,
)


def _tr(text: str) -> str:
    return QCoreApplication.translate("Exam", text)


def pacs_values(settings) -> tuple[str, str, str]:
    """(destination, calling AE title, worklist) as stored."""
    dest = str(settings.value("pacs/destination", "") or "")
    calling = str(settings.value("pacs/calling_aet", DEFAULT_CALLING_AET) or DEFAULT_CALLING_AET)
    worklist = str(settings.value("pacs/worklist", "") or "") or dest
    return dest, calling, worklist


class _Echo(QObject):
    done = Signal(str)


class PacsDialog(QDialog):
    def __init__(self, settings, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("pacs-settings")
        self.setWindowTitle(_tr("PACS settings"))
        self.settings = settings
        dest, calling, worklist = pacs_values(settings)
        form = QFormLayout(self)
        self.destination = QLineEdit(dest)
        self.destination.setPlaceholderText("ORTHANC@pacs.example.org:4242")
        self.calling = QLineEdit(calling)
        self.worklist = QLineEdit(str(settings.value("pacs/worklist", "") or ""))
        self.worklist.setPlaceholderText(_tr("empty: the PACS above"))
        form.addRow(_tr("PACS (AE title@host:port)"), self.destination)
        form.addRow(_tr("Our AE title"), self.calling)
        form.addRow(_tr("Worklist (AE title@host:port)"), self.worklist)
        self.echo_button = QPushButton(_tr("Test connection (C-ECHO)"))
        self.echo_result = QLabel()
        self.echo_result.setWordWrap(True)
        self.echo_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.echo_button, self.echo_result)
        self.button_box = buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._echo = _Echo(self)
        self._echo.done.connect(self._echoed, Qt.ConnectionType.QueuedConnection)
        self.echo_button.clicked.connect(self.test)
        self._thread: threading.Thread | None = None

    def _check(self) -> tuple[object, str] | None:
        try:
            dest = parse_destination(self.destination.text())
            calling = check_aet(self.calling.text().strip())
            if self.worklist.text().strip():
                parse_destination(self.worklist.text())
        except ValueError as e:
            self.echo_result.setText(str(e))
            return None
        return dest, calling

    def test(self) -> None:
        checked = self._check()
        if checked is None:
            return
        dest, calling = checked
        self.echo_button.setEnabled(False)
        self.echo_result.setText(_tr("Testing…"))

        def run() -> None:
            try:
                echo(dest, calling, timeout=5.0)
                msg = _tr("%1 answered the echo").replace("%1", str(dest))
            except PacsError as e:
                msg = str(e)
            try:
                self._echo.done.emit(msg)
            except RuntimeError:  # the dialog was closed meanwhile
                pass

        self._thread = spawn(run, name="sonolive-pacs-echo")

    def _echoed(self, msg: str) -> None:
        self.echo_result.setText(msg)
        self.echo_button.setEnabled(True)

    def accept(self) -> None:
        if self._check() is None:
            return
        self.settings.setValue("pacs/destination", self.destination.text().strip())
        self.settings.setValue("pacs/calling_aet", self.calling.text().strip())
        self.settings.setValue("pacs/worklist", self.worklist.text().strip())
        super().accept()
