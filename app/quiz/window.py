"""The tracing quiz (Teaching mode): the student traces the named organ with the annotate
brushes; on submit, Dice against the reference, the overlap picture and the reference outline.

Scoring lives in inference/tools/quiz.py; this module is the window, a results table, and a
presenter view of the scores for the projector.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtGui import QAction, QFont, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...capture.workers import spawn
from ...inference.session import Session
from ...inference.tools.quiz import QuizItem, QuizRecord, QuizSession, overlap_picture
from ...models.card import ClassInfo
from ..annotate.canvas import AnnotateCanvas
from ..annotate.panel import tool_buttons
from ..ports import BannerPort, DisplayPort, ModePort


def _pixmap(rgb: np.ndarray) -> QPixmap:
    h, w = rgb.shape[:2]
    rgb = np.ascontiguousarray(rgb)
    return QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())


class ResultsTable(QTableWidget):
    """Students down, items across, mean Dice last; ``big`` for the projector."""

    def __init__(self, big: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if big:
            f = QFont(self.font())
            f.setPointSize(22)
            self.setFont(f)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)

    def show_session(self, session: QuizSession) -> None:
        table = session.table()
        n = len(session.items)
        self.setRowCount(len(table))
        self.setColumnCount(n + 1)
        self.setHorizontalHeaderLabels([f"{i + 1}" for i in range(n)] + [self.tr("Mean Dice")])
        self.setVerticalHeaderLabels(list(table))
        for r, (_student, row) in enumerate(table.items()):
            for i in range(n):
                v = row.get(f"item {i + 1}")
                self.setItem(r, i, QTableWidgetItem("" if v is None else f"{v:.2f}"))
            self.setItem(r, n, QTableWidgetItem(f"{row['mean']:.2f}"))
        self.resizeColumnsToContents()
        self.resizeRowsToContents()

    def fit_window(self) -> None:
        """As a window of its own (the projector): big enough for every column, Mean too,
        and every row, within the screen."""
        frame = 2 * self.frameWidth()
        w = self.verticalHeader().sizeHint().width() + frame + 24
        w += sum(self.columnWidth(c) for c in range(self.columnCount()))
        h = self.horizontalHeader().sizeHint().height() + frame + 24
        h += sum(self.rowHeight(r) for r in range(self.rowCount()))
        screen = self.screen().availableGeometry()
        self.resize(min(max(w, 320), screen.width()), min(max(h, 160), screen.height()))


class QuizWindow(QWidget):
    """Signals: ``submitted(QuizRecord)``."""

    submitted = Signal(object)

    def __init__(
        self, session: QuizSession, classes: list[ClassInfo], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("Quiz — SonoLive (not for diagnostic use)"))
        self.session = session
        self.classes = classes
        self.index = 0
        self.presenter: QWidget | None = None
        self.canvas = AnnotateCanvas(classes, self)
        self.student = QLineEdit(self)
        self.student.setPlaceholderText(self.tr("Student name"))
        # each student traces on a clean canvas: a trace belongs to the student named when
        # it was drawn (or submitted); another name clears it
        self._trace_owner: str | None = None  # None: nothing traced yet
        self._submitted = False
        self.canvas.changed.connect(self._traced_by)
        self.student.textChanged.connect(self._student_changed)
        self.task = QLabel(self)
        f = QFont(self.task.font())
        f.setPointSize(f.pointSize() + 4)
        self.task.setFont(f)
        self.reference_note = QLabel(self)
        self.score = QLabel(self)
        self.score.setFont(f)
        self.overlap = QLabel(self)
        self.overlap.setMinimumSize(200, 200)
        self.legend = QLabel(
            self.tr("green: agreed · blue: missed · red: extra · white line: reference"), self
        )
        self.submit_button = QPushButton(self.tr("Submit"), self)
        self.next_button = QPushButton(self.tr("Next frame"), self)
        self.save_button = QPushButton(self.tr("Save results (CSV + JSON)…"), self)
        self.presenter_button = QPushButton(self.tr("Results for the projector"), self)
        self.submit_button.clicked.connect(self.submit)
        self.next_button.clicked.connect(self.next_item)
        self.save_button.clicked.connect(self._pick_save)
        self.presenter_button.clicked.connect(self.show_presenter)
        self.table = ResultsTable(parent=self)

        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Student"), self))
        top.addWidget(self.student)
        top.addWidget(self.task, 1)
        self.organ = QComboBox(self)  # the organ named by the app, or another one chosen
        for c in classes[1:]:
            self.organ.addItem(c.display, c.name)
        self.organ.activated.connect(self._choose_organ)
        top.addWidget(QLabel(self.tr("Organ"), self))
        top.addWidget(self.organ)
        tools = QHBoxLayout()
        self.tool_buttons = tool_buttons(self.canvas, self, tools)
        tools.addStretch(1)
        left = QVBoxLayout()
        left.addLayout(tools)
        left.addWidget(self.canvas, 1)
        pics = QHBoxLayout()
        pics.addLayout(left, 1)
        right = QVBoxLayout()
        right.addWidget(self.score)
        right.addWidget(self.overlap, 1)
        right.addWidget(self.legend)
        pics.addLayout(right, 1)
        buttons = QHBoxLayout()
        for b in (self.submit_button, self.next_button, self.save_button, self.presenter_button):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.reference_note)
        lay.addLayout(pics, 1)
        lay.addLayout(buttons)
        lay.addWidget(self.table)
        self.resize(1000, 700)
        self.show_item(0)

    @property
    def item(self) -> QuizItem:
        return self.session.items[self.index]

    def show_item(self, index: int) -> None:
        self.index = index % len(self.session.items)
        it = self.item
        names = [c.name for c in self.classes]
        self.canvas.set_frame(it.image)
        if it.organ in names:
            self.canvas.set_class(names.index(it.organ))
        self.organ.setCurrentIndex(max(0, self.organ.findData(it.organ)))
        self.organ.setEnabled(it.labels is not None)
        self.task.setText(
            self.tr("Frame %1 of %2: trace the %3")
            .replace("%1", str(self.index + 1))
            .replace("%2", str(len(self.session.items)))
            .replace("%3", it.organ_display)
        )
        self.reference_note.setText(
            self.tr("Reference: the dataset's mask")
            if it.reference_kind == "dataset"
            else self.tr("Reference: the MODEL's mask (not a ground truth)")
        )
        self.score.clear()
        self.overlap.clear()
        self.submit_button.setEnabled(True)
        self._trace_owner, self._submitted = None, False
        self.canvas.setFocus()

    def _traced_by(self) -> None:
        if self._trace_owner is None and self.canvas.mask.any():
            self._trace_owner = self.student.text().strip()

    def _student_changed(self, text: str) -> None:
        owner, name = self._trace_owner, text.strip()
        if owner is None or name == owner:
            return
        if owner == "" and not self._submitted:  # traced first, then typed the name
            self._trace_owner = name
            return
        self._clear_trace()
        self.score.setText(self.tr("New student: a clean canvas"))

    def _clear_trace(self) -> None:
        """The frame again with nothing traced (the focus stays where the person typed)."""
        it = self.item
        names = [c.name for c in self.classes]
        current = self.canvas.current_class
        self.canvas.set_frame(it.image)
        self.canvas.set_class(names.index(it.organ) if it.organ in names else current)
        self.overlap.clear()
        self._trace_owner, self._submitted = None, False

    def _choose_organ(self, row: int) -> None:
        name = self.organ.itemData(row)
        names = [c.name for c in self.classes]
        if self.item.labels is None or name == self.item.organ:
            return
        k = names.index(name)
        self.item.choose(k, name, self.classes[k].display)
        self.show_item(self.index)

    def traced(self) -> np.ndarray:
        names = [c.name for c in self.classes]
        k = names.index(self.item.organ) if self.item.organ in names else -1
        return self.canvas.mask == k if k > 0 else self.canvas.mask > 0

    def submit(self) -> QuizRecord:
        student = self.student.text().strip() or self.tr("student")
        rec = self.session.score(student, self.index, self.traced(), self.canvas.strokes)
        self.score.setText(self.tr("Dice %1").replace("%1", f"{rec.dice:.2f}"))
        pic = overlap_picture(self.item.image, self.traced(), self.item.reference)
        self.overlap.setPixmap(
            _pixmap(pic).scaled(
                self.overlap.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation,
            )
        )
        self.last_overlap = pic
        self._trace_owner, self._submitted = rec.student, True
        self.table.show_session(self.session)
        if self.presenter is not None:
            self.presenter.show_session(self.session)
            self.presenter.fit_window()
        self.submitted.emit(rec)
        return rec

    def add_item(self, item: QuizItem) -> None:
        self.session.items.append(item)
        self.show_item(self.index)  # "frame i of N" shows the new N

    def next_item(self) -> None:
        self.show_item(self.index + 1)

    def save(self, stem: str | Path) -> tuple[Path, Path]:
        return self.session.save(stem)

    def _pick_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Save quiz results"),
            str(Path.home() / "quiz-results.csv"),
            "CSV (*.csv)",
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        if path:
            self.save(path)  # the name as chosen: class.2026-12-01.csv stays that

    def show_presenter(self) -> None:
        if self.presenter is None:
            # a window of its own, but owned: it must not keep the app alive after the main
            # window closes
            self.presenter = ResultsTable(big=True, parent=self)
            self.presenter.setWindowFlag(Qt.WindowType.Window, True)
            self.presenter.setWindowTitle(self.tr("Quiz results"))
        self.presenter.show_session(self.session)
        self.presenter.fit_window()
        self.presenter.show()

    def closeEvent(self, e) -> None:  # noqa: N802 - Qt API
        if self.presenter is not None:
            self.presenter.close()
        super().closeEvent(e)


class _Loader(QObject):
    """Reads a dataset folder's quiz items on a short-lived thread (never in the GUI)."""

    done = Signal(object, str)  # items, error message ("" when fine)

    def load(self, folder: str | Path) -> None:
        spawn(self._run, name="quiz-load", args=(folder,), daemon=False)

    def _run(self, folder: str | Path) -> None:
        from ...inference.tools.quiz import items_from_dataset
        from ...models.datasets import DataError

        try:
            self.done.emit(items_from_dataset(folder), "")
        except (DataError, OSError) as e:
            self.done.emit([], str(e))
        except Exception as e:  # noqa: BLE001 - the window must hear of any failure
            self.done.emit([], f"{folder}: cannot be read as a quiz ({e})")


class QuizControl(QObject):
    """The quiz actions (the window places them in the Dataset menu): a quiz from a dataset
    folder, or from the frame on screen (added to the open quiz when one is showing)."""

    def __init__(
        self,
        session: Session,
        ports: tuple[BannerPort, DisplayPort, ModePort],
        parent: QWidget | None = None,
    ) -> None:
        """``parent``: the quiz window's and the dialogs' parent."""
        super().__init__(parent)
        self._parent = parent
        self.session = session
        self.banner, self.display, self.modes = ports
        tr = QCoreApplication.translate
        self.from_folder_action = QAction(tr("MainWindow", "Quiz from a dataset folder…"), self)
        self.from_frame_action = QAction(
            tr("MainWindow", "Quiz on this frame, or add it to the open quiz"), self
        )
        self.quiz_window: QuizWindow | None = None
        self.loader = _Loader(self)
        self.loader.done.connect(
            lambda items, err: self.banner.show_banner(err) if err else self.open_quiz(items)
        )
        self.from_folder_action.triggered.connect(self.pick_folder)
        self.from_frame_action.triggered.connect(self.from_frame)

    def open_quiz(self, items: list[QuizItem]) -> None:
        tr = QCoreApplication.translate
        card = self.session.card
        if card is None or not items:
            self.banner.show_banner(tr("MainWindow", "Nothing to quiz on"))
            return
        if self.modes.mode != "teaching":
            self.modes.set_mode("teaching")
        self.quiz_window = QuizWindow(QuizSession(items), card.classes, self._parent)
        self.quiz_window.show()

    def pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self._parent,
            QCoreApplication.translate("MainWindow", "Dataset folder for the quiz"),
            str(Path.home()),
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        if folder:
            self.loader.load(folder)

    def from_frame(self) -> None:
        """Freeze the frame on screen into a quiz item: the model's largest organ."""
        tr = QCoreApplication.translate
        res, card = self.display.last_result, self.session.card
        if res is None or res.seg is None or card is None:
            self.banner.show_banner(tr("MainWindow", "No model mask for this frame"))
            return
        labels = res.seg.labels
        counts = np.bincount(labels.ravel(), minlength=card.num_classes)[1:]
        if counts.max() == 0:
            self.banner.show_banner(tr("MainWindow", "The model found no organ to trace here"))
            return
        k = int(counts.argmax()) + 1
        c = card.classes[k]
        label = f"{res.frame.source or 'live'} #{res.frame.index}"
        item = QuizItem(
            res.frame.pixels.copy(), labels == k, c.name, c.display, "model", label, labels.copy()
        )
        quiz = self.quiz_window
        if quiz is not None and quiz.isVisible():
            quiz.add_item(item)  # the teacher freezes several frames into one session
        else:
            self.open_quiz([item])
