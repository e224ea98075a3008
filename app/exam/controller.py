"""The exam controller: the eFAST checklist dock in Bedside and Teaching, wired to the
pipeline (a frame hook keeps the last seconds; each shown result feeds the view suggestion),
the export (a worker thread) and the PACS send queue (its own worker).

The window constructs one ``ExamController(session, modes, settings, window)``; it makes its
dock and menu (the window places them) and watches the window's close to stop its workers. The GUI thread never waits on disk or network.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QComboBox, QDockWidget, QLineEdit, QMenu, QWidget

from ...capture.frame_ring import FrameRing
from ...capture.workers import spawn
from ...inference.exam.checklist import Exam, Suggestion, ViewSuggester
from ...inference.exam.dicom_write import Identity
from ...inference.exam.export import ExamExport, export_exam
from ...inference.exam.pacs import (
    PacsError,
    SendQueue,
    SendWorker,
    find_worklist,
    parse_destination,
)
from ...inference.exam.report import ModelInfo
from ...inference.pipeline import Result
from ...inference.session import Session
from ..ports import ModePort
from .pacs_settings import PacsDialog, pacs_values
from .panel import ExamPanel, view_labels


def _tr(text: str) -> str:
    return QCoreApplication.translate("Exam", text)


def default_exam_folder() -> Path:
    from platformdirs import user_documents_dir

    return Path(user_documents_dir()) / "SonoLive" / "exams"


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


class ExamController(QObject):
    exported = Signal(object)  # ExamExport, from the export thread
    exportFailed = Signal(str)
    sendChanged = Signal(int, int, str)  # waiting, sent, error ("" for none)
    worklistFound = Signal(object)  # list[Identity] or an error line

    def __init__(
        self, session: Session, modes: ModePort, settings: QSettings, parent: QWidget
    ) -> None:
        """``parent``: the window the dock, actions and key filter belong to."""
        super().__init__(parent)
        self.session = session
        self.modes = modes
        self.parent_widget = parent
        self.settings = settings
        self.exam: Exam | None = None
        self.current: str | None = None  # the view whose finding the panel shows
        self.ring = FrameRing(seconds=3.0, max_fps=15.0, max_side=384)
        self.suggester = ViewSuggester()
        self.suggestion: Suggestion | None = None
        self.last: Result | None = None
        self.last_export: ExamExport | None = None
        self._exporting: Exam | None = None
        self._shown_suggestion: str | None = None
        self.worklist: list[Identity] = []
        self._threads: list[threading.Thread] = []
        self._queue: SendQueue | None = None
        self._sender: SendWorker | None = None

        self.panel = ExamPanel()
        self.dock = QDockWidget(_tr("eFAST exam"), parent)
        self.dock.setObjectName("exam-dock")
        self.dock.setWidget(self.panel)
        p = self.panel
        p.new_button.clicked.connect(self.new_exam)
        p.confirm_button.clicked.connect(self.confirm)
        for key, b in p.view_buttons.items():
            b.clicked.connect(lambda _=False, k=key: self.record(k))
        for code, b in p.finding_buttons.items():
            b.clicked.connect(lambda _=False, c=code: self.set_finding(c))
        p.send_button.clicked.connect(self.finish)
        p.settings_button.clicked.connect(self.open_settings)
        p.worklist_button.clicked.connect(self.query_worklist)
        p.worklist_box.activated.connect(self._worklist_picked)
        p.deidentified.toggled.connect(self._deidentified_toggled)

        self.confirm_action = QAction(_tr("Confirm the suggested view"), parent)
        self.confirm_action.setShortcuts(
            [QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)]
        )
        self.confirm_action.triggered.connect(self.confirm)
        self.settings_action = QAction(_tr("PACS settings…"), parent)
        self.settings_action.triggered.connect(self.open_settings)
        self.menu = QMenu(_tr("E&xam"), parent)
        self.menu.setObjectName("exam-menu")
        new_action = QAction(_tr("New exam"), parent)
        new_action.triggered.connect(self.new_exam)
        self.menu.addAction(new_action)
        self.menu.addAction(self.settings_action)
        self.menu.addAction(self.dock.toggleViewAction())

        self.exported.connect(self._exported, Qt.ConnectionType.QueuedConnection)
        self.exportFailed.connect(self._export_failed, Qt.ConnectionType.QueuedConnection)
        self.sendChanged.connect(self._send_changed, Qt.ConnectionType.QueuedConnection)
        self.worklistFound.connect(self._worklist_found, Qt.ConnectionType.QueuedConnection)
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self._tick)

        session.pipeline.add_sink(self.hook)
        parent.installEventFilter(self)
        self.panel.deidentified.setChecked(modes.mode == "teaching")
        self._refresh()  # the window places the dock; set_mode shows or hides it

    # ---- the window's mode and close --------------------------------------------------
    def mode_changed(self, mode: str) -> None:
        """Shown in Bedside and Teaching; Teaching starts de-identified."""
        self.dock.setVisible(mode in ("bedside", "teaching"))
        self.confirm_action.setEnabled(mode in ("bedside", "teaching"))
        if self.exam is None:
            self.panel.deidentified.setChecked(mode == "teaching")

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if obj is self.parent_widget and event.type() == QEvent.Type.Close:
            self.close()
        return False

    def close(self) -> None:
        self._timer.stop()
        if self._sender is not None:
            self._sender.stop()
            self._sender = None

    # ---- frames -------------------------------------------------------------------------
    def hook(self, result: Result) -> None:
        """Pipeline frame hook (inference thread or review worker): the last seconds."""
        if self.exam is not None:
            self.ring.write(result.frame.timestamp, result.image)

    def on_result(self, result: Result) -> None:
        self.last = result
        if self.exam is None:
            return
        done = set(self.exam.done)
        px = result.frame.width * result.frame.height
        s = self.suggester.update(result.seg, done, px) if result.seg is not None else None
        self.suggestion = s
        p = self.panel
        if s is None:
            p.suggestion_label.setText(_tr("No suggestion"))
        else:
            p.suggestion_label.setText(
                _tr("Suggested: %1 (%2)")
                .replace("%1", view_labels()[s.view])
                .replace("%2", f"{s.confidence:.2f}")
            )
        p.confirm_button.setEnabled(s is not None)
        if (s.view if s else None) != self._shown_suggestion:
            self._shown_suggestion = s.view if s else None
            p.show_views(self.exam.done, self.current, self._shown_suggestion)

    # ---- the exam ------------------------------------------------------------------------
    def new_exam(self) -> None:
        self.exam = Exam()
        self.current = None
        self.ring.clear()
        self.suggester.reset()
        self.panel.status.setText("")
        self._timer.start()
        self._refresh()

    def confirm(self) -> None:
        if isinstance(QApplication.focusWidget(), QLineEdit | QComboBox):
            return  # Enter ends typing a name or picking an entry; it records nothing
        if self.suggestion is not None and self.dock.isVisible():
            self.record(self.suggestion.view)

    def record(self, view: str) -> None:
        """Record ``view`` now: the last seconds as its clip, the frame on screen as its key
        frame, and what the model suggests (kept apart from the finding)."""
        if self.exam is None:
            self.new_exam()
        r = self.last
        if r is None:
            self.panel.status.setText(_tr("No picture yet"))
            return
        clip, fps = self.ring.snapshot()
        seg = r.seg
        s = self.suggestion
        self.exam.record(
            view,
            clip=clip,
            clip_fps=fps,
            key_image=r.image.copy(),
            key_raw=r.frame.pixels.copy(),
            key_labels=seg.labels.copy() if seg is not None else None,
            in_distribution=seg.in_distribution if seg is not None else None,
            suggestion=s.view if s else None,
            suggestion_confidence=s.confidence if s else None,
        )
        self.current = view
        self._refresh()

    def set_finding(self, finding: str) -> None:
        if self.exam is None or self.current is None:
            return
        self.exam.set_finding(self.current, finding)
        self._refresh()

    def _refresh(self) -> None:
        p = self.panel
        done = self.exam.done if self.exam else []
        if self.exam is None:
            # no exam running, no suggestion: a finished exam's last one would otherwise
            # stay outlined, and Enter would record it into a new exam
            self.suggestion, self._shown_suggestion = None, None
            p.confirm_button.setEnabled(False)
        p.show_views(done, self.current, self._shown_suggestion)
        rec = self.exam.views.get(self.current) if self.exam and self.current else None
        p.show_finding(rec.finding if rec else None)
        p.send_button.setEnabled(bool(done))
        if self.exam is None:
            p.suggestion_label.setText(_tr("Press New exam or a view to start"))
            p.timer_label.setText("00:00")
        else:
            self._tick()

    def _tick(self) -> None:
        if self.exam is not None:
            self.panel.timer_label.setText(_clock(self.exam.elapsed()))

    def _deidentified_toggled(self, on: bool) -> None:
        for w in (self.panel.patient_name, self.panel.patient_id, self.panel.accession):
            w.setEnabled(not on)
        self.panel.worklist_button.setEnabled(not on)

    def identity(self) -> Identity:
        p = self.panel
        picked = p.worklist_box.currentIndex()
        base = replace(self.worklist[picked]) if 0 <= picked < len(self.worklist) else Identity()
        name, pid = p.patient_name.text().strip(), p.patient_id.text().strip()
        if (name, pid) != (base.patient_name, base.patient_id):
            base = Identity()  # typed over the worklist entry: the typed identity only
        base.patient_name, base.patient_id = name, pid
        base.accession = p.accession.text().strip()
        return base

    # ---- finish: files, report, DICOM, send ---------------------------------------------
    def folder(self) -> Path:
        v = self.settings.value("exam/folder", "")
        return Path(str(v)) if v else default_exam_folder()

    def finish(self) -> None:
        exam = self.exam
        if exam is None or not exam.done:
            return
        self._timer.stop()
        self._exporting = exam
        self.exam, self.current = None, None  # the export owns it now; a click starts anew
        self._refresh()
        self.panel.status.setText(_tr("Writing the report and the DICOM objects…"))
        model = ModelInfo.from_card(self.session.card)
        deid = self.panel.deidentified.isChecked()
        identity = Identity() if deid else self.identity()
        root = self.folder()

        def run() -> None:
            try:
                out = export_exam(exam, root, model, identity, deidentified=deid)
            except Exception as e:  # noqa: BLE001 - one line in the panel; the app goes on
                self.exportFailed.emit(str(e).splitlines()[0] if str(e) else type(e).__name__)
                return
            self.exported.emit(out)

        t = spawn(run, name="sonolive-exam-export")
        self._threads = [x for x in self._threads if x.is_alive()] + [t]

    def _exported(self, out: ExamExport) -> None:
        self.last_export = out
        text = _tr("Report written: %1").replace("%1", str(out.report))
        dest_text, calling, _ = pacs_values(self.settings)
        if not dest_text:
            self.panel.status.setText(text + "\n" + _tr("No PACS set (PACS settings…)"))
            return
        try:
            dest = parse_destination(dest_text)
            self.send_queue().enqueue(out.dicom, dest, calling)
        except (ValueError, OSError) as e:
            self.panel.status.setText(text + "\n" + str(e))
            return
        self.panel.status.setText(
            text
            + "\n"
            + _tr("Sending %1 objects to %2…")
            .replace("%1", str(len(out.dicom)))
            .replace("%2", dest_text)
        )
        self._sender_worker().wake()

    def _export_failed(self, msg: str) -> None:
        if self.exam is None and self._exporting is not None:
            self.exam = self._exporting  # nothing is lost: Finish and send again
            self._refresh()
        self.panel.status.setText(_tr("The exam could not be written: %1").replace("%1", msg))

    def send_queue(self) -> SendQueue:
        if self._queue is None:
            from ..commands.send import default_queue

            v = self.settings.value("pacs/queue", "")
            self._queue = SendQueue(Path(str(v)) if v else default_queue())
        return self._queue

    def _sender_worker(self) -> SendWorker:
        if self._sender is None:
            self._sender = SendWorker(
                self.send_queue(), on_change=lambda n, s, e: self.sendChanged.emit(n, s, e or "")
            )
        return self._sender

    def _send_changed(self, waiting: int, sent: int, error: str) -> None:
        report = str(self.last_export.report) if self.last_export else ""
        head = _tr("Report written: %1").replace("%1", report) + "\n" if report else ""
        if waiting == 0:
            self.panel.status.setText(head + _tr("All objects are stored in the PACS"))
        else:
            self.panel.status.setText(
                head
                + _tr("%1 objects wait for the PACS (retrying): %2")
                .replace("%1", str(waiting))
                .replace("%2", error)
            )

    # ---- settings and worklist ----------------------------------------------------------
    def open_settings(self) -> None:
        dlg = PacsDialog(self.settings, self.parent_widget)
        self.dialog = dlg
        dlg.open()

    def query_worklist(self) -> None:
        _, calling, wl = pacs_values(self.settings)
        if not wl:
            self.panel.status.setText(_tr("No worklist set (PACS settings…)"))
            return
        self.panel.worklist_button.setEnabled(False)

        def run() -> None:
            try:
                found: object = find_worklist(parse_destination(wl), calling)
            except (PacsError, ValueError) as e:
                found = str(e)
            self.worklistFound.emit(found)

        t = spawn(run, name="sonolive-worklist")
        self._threads = [x for x in self._threads if x.is_alive()] + [t]

    def _worklist_found(self, found) -> None:
        p = self.panel
        p.worklist_button.setEnabled(not p.deidentified.isChecked())
        if isinstance(found, str):
            p.status.setText(found)
            return
        self.worklist = list(found)
        p.worklist_box.clear()
        for e in self.worklist:
            p.worklist_box.addItem(f"{e.patient_name} · {e.patient_id} · {e.accession}")
        p.worklist_box.setEnabled(bool(self.worklist))
        p.status.setText(_tr("%1 scheduled exams").replace("%1", str(len(self.worklist))))
        if self.worklist:
            self._worklist_picked(0)

    def _worklist_picked(self, i: int) -> None:
        if 0 <= i < len(self.worklist):
            e = self.worklist[i]
            self.panel.patient_name.setText(e.patient_name)
            self.panel.patient_id.setText(e.patient_id)
            self.panel.accession.setText(e.accession)
