"""The annotate tool: tool bar, class palette, canvas, and saving into a dataset folder.

Saving, listing and reopening run on one worker thread (``concurrent.futures``); results come
back as queued signals, so the GUI thread never waits on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ...capture.workers import SerialWorker
from ...models.card import ClassInfo
from ...models.dataset_store import DatasetStore, Sample
from .canvas import AnnotateCanvas

TOOL_TEXTS = (
    ("brush", QT_TRANSLATE_NOOP("AnnotatePanel", "Brush (B)")),
    ("eraser", QT_TRANSLATE_NOOP("AnnotatePanel", "Eraser (E)")),
    ("lasso", QT_TRANSLATE_NOOP("AnnotatePanel", "Lasso (L)")),
)


def tool_buttons(
    canvas: AnnotateCanvas, parent: QWidget, bar: QHBoxLayout
) -> dict[str, QPushButton]:
    """Brush, eraser and lasso as checkable buttons in ``bar``, kept in step with the keys.
    They take no focus, so the canvas keeps its keys after a click (the annotate tool and
    the quiz share them)."""
    buttons: dict[str, QPushButton] = {}
    group = QButtonGroup(parent)
    for tool, text in TOOL_TEXTS:
        b = QPushButton(QCoreApplication.translate("AnnotatePanel", text), parent)
        b.setCheckable(True)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.clicked.connect(lambda _=False, t=tool: canvas.set_tool(t))
        group.addButton(b)
        bar.addWidget(b)
        buttons[tool] = b
    buttons[canvas.tool].setChecked(True)
    canvas.toolChanged.connect(lambda t: buttons[t].setChecked(True))
    return buttons


@dataclass
class FrameContext:
    """Where the frame on the canvas came from (what ``dataset.json`` records)."""

    source: str = "frame"  # the clip, or the image file inside an opened image folder
    opened: str = ""  # what was opened in review (a clip, or the image folder)
    index: int = 0
    timestamp: float = 0.0
    roi: tuple[int, int, int, int] | None = None
    prediction: np.ndarray | None = None  # the model's label map of this frame, if any
    model_name: str = ""


class AnnotatePanel(QWidget):
    """Signals: ``saved(name)``, ``error(message)``, ``datasetChanged()``."""

    saved = Signal(str)
    error = Signal(str)
    datasetChanged = Signal()  # noqa: N815
    folderNeeded = Signal()  # noqa: N815 - Save with no dataset folder yet: the window asks
    _done = Signal(object, object)  # (callback, result) back in the GUI thread

    def __init__(
        self, classes: list[ClassInfo], annotator: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.classes = classes
        self.context = FrameContext()
        self.store: DatasetStore | None = None
        self.prefilled = False
        self._prefill_mask: np.ndarray | None = None
        self._pool = SerialWorker("annotate-io")
        self._done.connect(self._finish, Qt.ConnectionType.QueuedConnection)

        self.canvas = AnnotateCanvas(classes, self)
        bar = QHBoxLayout()
        self.tool_buttons = tool_buttons(self.canvas, self, bar)
        self.size_label = QLabel(self)
        bar.addWidget(self.size_label)
        self.canvas.radiusChanged.connect(self._show_size)
        self._show_size(self.canvas.radius)
        self.opacity = QSlider(Qt.Orientation.Horizontal, self)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(int(self.canvas.opacity * 100))
        self.opacity.valueChanged.connect(lambda v: self.canvas.set_opacity(v / 100))
        bar.addWidget(QLabel(self.tr("Opacity"), self))
        bar.addWidget(self.opacity)
        self.hide_labels = QCheckBox(self.tr("Hide my labels (H)"), self)
        self.hide_labels.toggled.connect(self.canvas.set_labels_hidden)
        bar.addWidget(self.hide_labels)

        palette = QHBoxLayout()
        self.class_buttons: list[QPushButton] = []
        cgroup = QButtonGroup(self)
        for i, c in enumerate(classes[1:10], start=1):
            b = QPushButton(f"{i} {c.display}", self)
            b.setCheckable(True)
            col = QColor(*c.color)
            luma = 0.299 * col.red() + 0.587 * col.green() + 0.114 * col.blue()
            fg = "black" if luma > 140 else "white"  # yellow gets black text, not white
            b.setStyleSheet(
                f"QPushButton {{ background: {col.name()}; color: {fg}; }}"
                "QPushButton:checked { border: 3px solid white; }"
            )
            b.clicked.connect(lambda _=False, i=i: self.canvas.set_class(i))
            cgroup.addButton(b)
            palette.addWidget(b)
            self.class_buttons.append(b)
        if self.class_buttons:
            self.class_buttons[0].setChecked(True)
        self.canvas.classChanged.connect(lambda i: self.class_buttons[i - 1].setChecked(True))

        actions = QHBoxLayout()
        self.prefill_button = QPushButton(self.tr("Fill from model (P)"), self)
        self.prefill_button.clicked.connect(self.prefill)
        self.undo_button = QPushButton(self.tr("Undo"), self)
        self.undo_button.clicked.connect(self.canvas.undo)
        self.redo_button = QPushButton(self.tr("Redo"), self)
        self.redo_button.clicked.connect(self.canvas.redo)
        self.annotator = QLineEdit(annotator, self)
        self.annotator.setPlaceholderText(self.tr("Your name"))
        self.annotator.setMinimumWidth(self.annotator.fontMetrics().horizontalAdvance("M" * 12))
        self.save_button = QPushButton(self.tr("Save to dataset (Ctrl+S)"), self)
        self.save_button.clicked.connect(self.save)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        for w in (self.prefill_button, self.undo_button, self.redo_button):
            actions.addWidget(w)
        actions.addWidget(QLabel(self.tr("Annotator"), self))
        actions.addWidget(self.annotator)
        actions.addWidget(self.save_button)

        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addLayout(palette)
        lay.addWidget(self.canvas, 1)
        lay.addLayout(actions)
        lay.addWidget(self.status)
        self.canvas.prefillRequested.connect(self.prefill)
        self.canvas.saveRequested.connect(self.save)
        self.canvas.changed.connect(self._update_buttons)
        self._update_buttons()

    # ---- frame and dataset -------------------------------------------------------------------
    def set_frame(
        self, image: np.ndarray, context: FrameContext, mask: np.ndarray | None = None
    ) -> None:
        self.context = context
        self.prefilled = False
        self._prefill_mask = None
        self.canvas.set_frame(image, mask)
        self.prefill_button.setEnabled(context.prediction is not None)
        self.canvas.setFocus()

    def set_dataset(self, folder: str | Path) -> None:
        """Open (or create) the dataset folder to save into, on the I/O thread;
        ``datasetChanged`` follows, or ``error`` with a one-line reason naming the file."""
        classes = self.classes

        def opened(store: DatasetStore) -> None:
            self.store = store
            self.datasetChanged.emit()

        self.run_io(lambda: DatasetStore(folder, classes), opened)

    def prefill(self) -> None:
        """Replace the mask with the model's prediction (one undo step)."""
        pred = self.context.prediction
        if pred is None:
            self._error(self.tr("No model prediction for this frame"))
            return
        if pred.shape != self.canvas.mask.shape:
            self._error(self.tr("The model's mask does not match this frame's size"))
            return
        if not pred.any():
            self._error(
                self.tr(
                    "The model found no organ on this frame (it may be unlike its training "
                    "data): nothing to fill, paint it by hand"
                )
            )
            return
        self.canvas.replace_mask(pred)
        self.prefilled = True
        self._prefill_mask = pred.astype(np.uint8).copy()
        self._say(self.tr("Filled from the model: correct it, then save (Ctrl+S)"))

    def save(self) -> None:
        if self.store is None:
            self._say(self.tr("Choose a dataset folder: the frame is saved there"))
            self.folderNeeded.emit()
            return
        c = self.context
        sample = Sample(
            image=self.canvas.image.copy(),
            mask=self.canvas.mask.copy(),
            source=c.source,
            frame_index=c.index,
            timestamp=c.timestamp,
            roi=c.roi,
            annotator=self.annotator.text().strip(),
            prefilled=self.prefilled,
            prefill_model=c.model_name,
            prefill_mask=self._prefill_mask,
            opened=c.opened,
        )
        self.save_button.setEnabled(False)
        self._say(self.tr("Saving…"))
        self.run_io(lambda: self.store.save(sample), self._saved)

    def reopen(self, name: str) -> None:
        """Load a saved frame and its mask back onto the canvas, to edit it again."""
        if self.store is None:
            return
        store = self.store

        def load() -> tuple[np.ndarray, np.ndarray, dict, np.ndarray | None]:
            img, m = store.load(name)
            return img, m, dict(store.record(name)), store.load_prefill(name)

        self.run_io(load, self._reopened)

    # ---- worker plumbing ---------------------------------------------------------------------
    def run_io(self, fn: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run ``fn`` on the I/O thread; ``done(result)`` (or an error message) in the GUI."""

        def job() -> None:
            try:
                res = fn()
            except Exception as e:  # noqa: BLE001 - reported in one plain line
                self._done.emit(self._error, str(e))
                return
            self._done.emit(done, res)

        self._pool.submit(job)

    def _finish(self, callback: Callable[[Any], None], result: Any) -> None:
        callback(result)

    def _saved(self, name: str) -> None:
        self.save_button.setEnabled(True)
        self._say(self.tr("Saved %1").replace("%1", name))
        self.saved.emit(name)
        self.datasetChanged.emit()

    def _reopened(self, res: tuple) -> None:
        img, mask, rec, prefill = res
        ctx = FrameContext(
            source=rec.get("source", "frame"),
            opened=rec.get("opened", ""),
            index=int(rec.get("frame_index", 0)),
            timestamp=float(rec.get("timestamp", 0.0)),
            roi=tuple(rec["roi"]) if rec.get("roi") else None,
        )
        ctx.model_name = rec.get("prefill_model", "")
        self.set_frame(img, ctx, mask)
        if prefill is not None and rec.get("prefilled"):
            self.prefilled = True  # the record keeps saying where the pixels came from
            self._prefill_mask = prefill
        self._say(self.tr("Editing %1").replace("%1", rec.get("source", "")))

    def _say(self, msg: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(msg)

    def _error(self, msg: str) -> None:
        self.save_button.setEnabled(True)
        self.status.setStyleSheet("color: #e67e22; font-weight: bold")  # not a grey footnote
        self.status.setText(msg)
        self.error.emit(msg)

    def _show_size(self, r: int) -> None:
        self.size_label.setText(self.tr("Brush %1 px").replace("%1", str(2 * r + 1)))

    def _update_buttons(self) -> None:
        self.undo_button.setEnabled(self.canvas.history.can_undo)
        self.redo_button.setEnabled(self.canvas.history.can_redo)

    def close_io(self) -> None:
        """Finish pending saves and end the I/O thread."""
        self._pool.shutdown(wait=True)
