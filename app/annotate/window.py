"""The annotate window (canvas + dataset list) and its hook into the main window's Review mode.

:class:`AnnotateControl` owns the "Annotate this frame" action (key A; the window places it in
the "Dataset" menu, beside the quiz actions): it takes the
frame on screen (the ROI picture the model saw, never the scanner's menus) and the model's
mask of exactly that frame (for the pre-fill), *Dataset folder…* picks where frames are saved.
The window is a separate top-level window so its keys (1-9, B, E, L, H, P, Ctrl+S) never
collide with the main window's shortcuts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...capture.capture_card import DeviceSource
from ...capture.source import SeekableSource
from ...inference.session import Session
from ...models.card import ClassInfo
from ..ports import BannerPort, DisplayPort
from .dataset_panel import DatasetPanel
from .panel import AnnotatePanel, FrameContext

if TYPE_CHECKING:
    from ..review.controller import ReviewController

SETTING_FOLDER = "annotate/dataset"
SETTING_NAME = "annotate/annotator"


class FolderDialog(QFileDialog):
    """A folder picker that makes a typed new folder (a new dataset) instead of answering
    "Directory not found"."""

    def accept(self) -> None:
        edit = self.findChild(QLineEdit, "fileNameEdit")
        name = edit.text().strip() if edit is not None else ""
        if name:
            target = Path(name).expanduser()
            if not target.is_absolute():
                target = Path(self.directory().absolutePath()) / target
            if not target.exists() and target.parent.is_dir():
                try:
                    target.mkdir()
                except OSError:
                    pass  # the dialog says why it cannot be chosen
        super().accept()


class AnnotateWindow(QWidget):
    """Signals: ``modelInstalled(folder)`` when a trained model was installed."""

    modelInstalled = Signal(str)  # noqa: N815

    def __init__(
        self, classes: list[ClassInfo], annotator: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("Annotate — SonoLive (not for diagnostic use)"))
        self.panel = AnnotatePanel(classes, annotator, self)
        self.datasets = DatasetPanel(self.panel, self)
        self.folder_button = QPushButton(self.tr("Dataset folder…"), self)
        self.folder_button.clicked.connect(lambda _checked=False: self.pick_folder())
        self.folder_dialog: QFileDialog | None = None
        self._save_after_pick = False
        self.panel.folderNeeded.connect(lambda: self.pick_folder(then_save=True))
        self.panel.datasetChanged.connect(self._dataset_ready)
        self._window_keys()
        side = QVBoxLayout()
        side.addWidget(self.folder_button)
        side.addWidget(self.datasets, 1)
        self.train_button = QPushButton(self.tr("Train from this dataset…"), self)
        self.train_button.clicked.connect(lambda _checked=False: self.open_training())
        side.addWidget(self.train_button)
        self.base_model: Path | None = None  # the model on screen; set by AnnotateControl
        self.train_dialog = None
        self.side = side
        lay = QHBoxLayout(self)
        lay.addWidget(self.panel, 3)
        lay.addLayout(side, 1)
        self.resize(1100, 700)

    def _window_keys(self) -> None:
        """Ctrl+S, P, 1-9, B, E, L and H for the whole window, whichever widget has the focus
        (a text field keeps its own typing: P and digits go into the Annotator field there)."""
        canvas, panel = self.panel.canvas, self.panel
        keys: list[tuple[str, object]] = [
            ("Ctrl+S", panel.save),
            ("P", panel.prefill),
            ("B", lambda: canvas.set_tool("brush")),
            ("E", lambda: canvas.set_tool("eraser")),
            ("L", lambda: canvas.set_tool("lasso")),
            ("H", lambda: panel.hide_labels.toggle()),
        ]
        keys += [(str(i), lambda i=i: canvas.set_class(i)) for i in range(1, 10)]
        self.key_actions: dict[str, QAction] = {}
        for key, slot in keys:
            a = QAction(key, self)
            a.setShortcut(QKeySequence(key))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.triggered.connect(lambda _checked=False, slot=slot: slot())
            self.addAction(a)
            self.key_actions[key] = a

    def pick_folder(self, then_save: bool = False) -> None:
        """The folder picker (not modal to the app: the main window keeps playing); with
        ``then_save``, the frame on the canvas is saved once a folder is chosen."""
        self._save_after_pick = then_save
        if self.folder_dialog is None:
            d = FolderDialog(self, self.tr("Dataset folder (new or made by SonoLive)"))
            d.setFileMode(QFileDialog.FileMode.Directory)
            d.setOption(QFileDialog.Option.ShowDirsOnly, True)
            d.setOption(QFileDialog.Option.DontUseNativeDialog, True)
            d.setDirectory(str(Path.home()))
            d.fileSelected.connect(self._folder_chosen)
            self.folder_dialog = d
        self.folder_dialog.open()

    def _folder_chosen(self, folder: str) -> None:
        if folder:
            self.panel.set_dataset(folder)

    def _dataset_ready(self) -> None:
        if self._save_after_pick and self.panel.store is not None:
            self._save_after_pick = False
            self.panel.save()

    def open_training(self, steps: int = 200, input_size: int | None = None) -> None:
        """The train dialog for the current dataset, starting from the current model."""
        import time

        from ...models.finetune import FinetunePlan
        from .train_dialog import TrainDialog

        store = self.panel.store
        if store is None or self.base_model is None:
            self.panel.status.setText(self.tr("Pick a dataset folder and a model first"))
            return
        out = store.folder / "training" / time.strftime("%Y%m%d-%H%M%S")
        plan = FinetunePlan(store.folder, self.base_model, out, steps=steps, input_size=input_size)
        info = self.datasets.info
        frames = sources = None
        if info is not None and info.folder == store.folder:
            frames, sources = len(info.images), len(info.sources)
        if self.train_dialog is not None:
            self.train_dialog.close()
        self.train_dialog = TrainDialog(plan, self, frames, sources)
        self.train_dialog.installed.connect(self.modelInstalled)
        self.train_dialog.show()

    def shutdown(self) -> None:
        """Stop a training run (its subprocess is killed) and finish pending saves."""
        if self.train_dialog is not None:
            self.train_dialog.close()
        self.panel.close_io()


class AnnotateControl(QObject):
    """The "Annotate this frame" action and the annotate window, made on first use (``annotate_window``).

    Signals: ``modelInstalled(folder)`` when a model trained from the annotate window was
    installed (the window refreshes its model picker)."""

    modelInstalled = Signal(str)  # noqa: N815

    def __init__(
        self,
        session: Session,
        review: ReviewController,
        ports: tuple[BannerPort, DisplayPort],
        settings: QSettings,
        parent: QWidget | None = None,
    ) -> None:
        """``parent``: the annotate window's parent."""
        super().__init__(parent)
        self._parent = parent
        self.session = session
        self.review = review
        self.banner, self.display = ports
        self.settings = settings
        self.action = QAction(_tr("Annotate this frame"), self)
        self.action.setShortcut(QKeySequence("A"))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.triggered.connect(self.annotate_frame)
        self.annotate_window: AnnotateWindow | None = None
        self.opened_path = ""  # the clip or folder open in review
        review.opened.connect(self._opened)

    def _opened(self, path: str, *_args) -> None:
        self.opened_path = str(path)

    def source_path(self) -> str:
        if self.opened_path:
            return self.opened_path
        src = self.display.source  # a card by its name, a stream by the last part of its address
        if isinstance(src, DeviceSource):
            return src.name or "live"
        if isinstance(src, SeekableSource) and src.location:
            return Path(str(src.location)).name
        return "live"

    def ensure_window(self) -> AnnotateWindow | None:
        settings = self.settings
        if self.annotate_window is None:
            card = self.session.card
            if card is None:
                self.banner.show_banner(_tr("Load a model before annotating"))
                return None
            name = str(settings.value(SETTING_NAME, ""))
            aw = AnnotateWindow(card.classes, name, self._parent)
            aw.panel.annotator.editingFinished.connect(
                lambda: settings.setValue(SETTING_NAME, aw.panel.annotator.text())
            )
            aw.panel.datasetChanged.connect(
                lambda: (
                    settings.setValue(SETTING_FOLDER, str(aw.panel.store.folder))
                    if aw.panel.store is not None
                    else None
                )
            )
            aw.datasets.jumpRequested.connect(self.jump)
            aw.modelInstalled.connect(self._installed)
            try:
                from ...models.registry import find_model

                aw.base_model = find_model(card.name)
            except Exception:  # noqa: BLE001 - a model opened from a folder has no name entry
                aw.base_model = None
            folder = str(settings.value(SETTING_FOLDER, ""))
            if folder:
                aw.panel.set_dataset(folder)
            self.annotate_window = aw
            app = QCoreApplication.instance()
            if app is not None:  # pending saves finish and the I/O thread ends on quit
                app.aboutToQuit.connect(aw.shutdown)
        return self.annotate_window

    def _installed(self, folder: str) -> None:
        """A trained model was installed: the window lists it in the model picker at once
        (the model in use stays picked) and says so."""
        self.modelInstalled.emit(folder)

    def annotate_frame(self) -> None:
        result = self.display.last_result
        if result is None:
            self.banner.show_banner(_tr("No frame to annotate yet"))
            return
        aw = self.ensure_window()
        if aw is None:
            return
        self.review.pause()
        f = result.frame
        pred = None
        if result.seg is not None and result.seg.labels.shape == f.pixels.shape[:2]:
            pred = result.seg.labels.copy()
        opened = self.source_path()
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
            model_name=str(result.model_name),
        )
        aw.panel.set_frame(f.pixels.copy(), ctx)
        aw.show()
        aw.raise_()
        aw.activateWindow()
        aw.panel.canvas.setFocus()

    def jump(self, source_name: str, index: int) -> None:
        """Open the source clip named in the dataset (found among recent clips) at ``index``."""
        from ..review.windowing import recent_clips

        review = self.review
        current = self.opened_path
        candidates = [current, *recent_clips(self.settings)]
        path = next((p for p in candidates if p and Path(p).name == source_name), None)
        if path is None:
            self.banner.show_banner(
                _tr("Source clip %1 is not among recent clips").replace("%1", source_name)
            )
            return
        if Path(current).name == source_name and review.source is not None:
            review.seek(index)
            return

        def seek_once(*_args) -> None:
            review.opened.disconnect(seek_once)
            review.seek(index)

        review.opened.connect(seek_once)
        review.open(path)


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)
