"""The annotate window (canvas + dataset list) and its hook into the main window's Review mode.

``install_annotate(window)`` adds a "Dataset" menu: *Annotate this frame* (key A) takes the
frame on screen (the ROI picture the model saw, never the scanner's menus) and the model's
mask of exactly that frame (for the pre-fill), *Dataset folder…* picks where frames are saved.
The window is a separate top-level window so its keys (1-9, B, E, L, H, P, Ctrl+S) never
collide with the main window's shortcuts.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ..models.card import ClassInfo
from .annotate_dataset_panel import DatasetPanel
from .annotate_panel import AnnotatePanel, FrameContext

SETTING_FOLDER = "annotate/dataset"
SETTING_NAME = "annotate/annotator"


class AnnotateWindow(QWidget):
    def __init__(
        self, classes: list[ClassInfo], annotator: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("Annotate — SonoLive (not for diagnostic use)"))
        self.panel = AnnotatePanel(classes, annotator, self)
        self.datasets = DatasetPanel(self.panel, self)
        self.folder_button = QPushButton(self.tr("Dataset folder…"), self)
        self.folder_button.clicked.connect(self.pick_folder)
        side = QVBoxLayout()
        side.addWidget(self.folder_button)
        side.addWidget(self.datasets, 1)
        self.train_button = QPushButton(self.tr("Train from this dataset…"), self)
        self.train_button.clicked.connect(self.open_training)
        side.addWidget(self.train_button)
        self.base_model: Path | None = None  # the model on screen; set by install_annotate
        self.train_dialog = None
        self.side = side
        lay = QHBoxLayout(self)
        lay.addWidget(self.panel, 3)
        lay.addLayout(side, 1)
        self.resize(1100, 700)

    def pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self,
            self.tr("Dataset folder (new or made by SonoLive)"),
            str(Path.home()),
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        if folder:
            self.panel.set_dataset(folder)

    def open_training(self, steps: int = 200, input_size: int | None = None) -> None:
        """The train dialog for the current dataset, starting from the current model."""
        import time

        from ..models.finetune import FinetunePlan
        from .annotate_train import TrainDialog

        store = self.panel.store
        if store is None or self.base_model is None:
            self.panel.status.setText(self.tr("Pick a dataset folder and a model first"))
            return
        out = store.folder / "training" / time.strftime("%Y%m%d-%H%M%S")
        plan = FinetunePlan(store.folder, self.base_model, out, steps=steps, input_size=input_size)
        self.train_dialog = TrainDialog(plan, self)
        self.train_dialog.show()

    def shutdown(self) -> None:
        """Stop a training run (its subprocess is killed) and finish pending saves."""
        if self.train_dialog is not None:
            self.train_dialog.close()
        self.panel.close_io()


def _source_path(window) -> str:
    path = getattr(window, "_annotate_source_path", "")
    if path:
        return path
    src = getattr(window, "source", None)
    return str(getattr(src, "name", "") or "live")


def install_annotate(window) -> AnnotateWindow | None:
    """Add the Dataset menu to ``window``; the annotate window is made on first use."""
    if getattr(window, "annotate_action", None) is not None:
        return getattr(window, "annotate_window", None)
    tr = QCoreApplication.translate
    menu = window.menuBar().addMenu(tr("MainWindow", "&Dataset"))
    menu.setObjectName("dataset-menu")
    action = QAction(tr("MainWindow", "Annotate this frame"), window)
    action.setShortcut(QKeySequence("A"))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    menu.addAction(action)
    window.addAction(action)
    window.annotate_action = action
    window.annotate_window = None

    review = getattr(window, "review", None)
    if review is not None:
        review.opened.connect(lambda path, *_: setattr(window, "_annotate_source_path", str(path)))

    def ensure() -> AnnotateWindow | None:
        if window.annotate_window is None:
            card = getattr(window, "card", None)
            if card is None:
                window.show_banner(tr("MainWindow", "Load a model before annotating"))
                return None
            name = str(window.settings.value(SETTING_NAME, ""))
            aw = AnnotateWindow(card.classes, name, window)
            aw.panel.annotator.editingFinished.connect(
                lambda: window.settings.setValue(SETTING_NAME, aw.panel.annotator.text())
            )
            aw.panel.datasetChanged.connect(
                lambda: (
                    window.settings.setValue(SETTING_FOLDER, str(aw.panel.store.folder))
                    if aw.panel.store is not None
                    else None
                )
            )
            aw.datasets.jumpRequested.connect(lambda s, i: _jump(window, s, i))
            try:
                from ..models.registry import find_model

                aw.base_model = find_model(card.name)
            except Exception:  # noqa: BLE001 - a model opened from a folder has no name entry
                aw.base_model = None
            folder = str(window.settings.value(SETTING_FOLDER, ""))
            if folder:
                aw.panel.set_dataset(folder)
            window.annotate_window = aw
            app = QCoreApplication.instance()
            if app is not None:  # pending saves finish and the I/O thread ends on quit
                app.aboutToQuit.connect(aw.shutdown)
        return window.annotate_window

    def annotate_frame() -> None:
        result = getattr(window, "last_result", None)
        if result is None:
            window.show_banner(tr("MainWindow", "No frame to annotate yet"))
            return
        aw = ensure()
        if aw is None:
            return
        if review is not None:
            review.pause()
        f = result.frame
        pred = None
        if result.seg is not None and result.seg.labels.shape == f.pixels.shape[:2]:
            pred = result.seg.labels.copy()
        opened = _source_path(window)
        source = opened
        if Path(opened).is_dir() and f.source:
            source = f.source  # one image of a folder: each image is its own source
        ctx = FrameContext(
            source=source,
            opened=opened,
            index=int(f.index),
            timestamp=float(f.timestamp),
            roi=tuple(int(v) for v in f.roi) if f.roi is not None else None,
            prediction=pred,
            model_name=str(getattr(result, "model_name", "")),
        )
        aw.panel.set_frame(f.pixels.copy(), ctx)
        aw.show()
        aw.raise_()
        aw.activateWindow()
        aw.panel.canvas.setFocus()

    from .quiz_window import install_quiz

    install_quiz(window, menu)
    action.triggered.connect(annotate_frame)
    window.annotate_frame = annotate_frame
    window.ensure_annotate_window = ensure
    return None


def _jump(window, source_name: str, index: int) -> None:
    """Open the source clip named in the dataset (found among recent clips) at ``index``."""
    from .review_window import recent_clips

    current = getattr(window, "_annotate_source_path", "")
    candidates = [current, *recent_clips(window.settings)]
    path = next((p for p in candidates if p and Path(p).name == source_name), None)
    review = getattr(window, "review", None)
    if path is None or review is None:
        window.show_banner(
            QCoreApplication.translate(
                "MainWindow", "Source clip %1 is not among recent clips"
            ).replace("%1", source_name)
        )
        return
    if Path(current).name == source_name and review.source is not None:
        review.seek(index)
        return

    def seek_once(*_args) -> None:
        review.opened.disconnect(seek_once)
        review.seek(index)

    review.opened.connect(seek_once)
    window.open_clip(path)
