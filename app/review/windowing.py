"""Clip review's window side: the Review dock, "Open clip…", "Open image folder…", "Recent
clips", drag and drop of clips, and the transport shortcuts, over a
:class:`~.review.ReviewController`.

:class:`ReviewWindowing` owns these widgets and actions; :mod:`.menus` places them in the
window's menus, and the window composes it with its review controller and input picker.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMenu, QWidget

from ..ports import BannerPort, ModePort, StatusPort
from .controller import CLIP_EXTENSIONS, ReviewController, ReviewPanel

if TYPE_CHECKING:
    from ..source.picker import InputPicker

RECENT_KEY = "review/recent"
RECENT_MAX = 10


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


def _is_clip_path(path: str) -> bool:
    return Path(path).suffix.lower() in CLIP_EXTENSIONS or Path(path).suffix == ""


def recent_clips(settings) -> list[str]:
    v = settings.value(RECENT_KEY, [])
    if isinstance(v, str):
        v = [v] if v else []
    return [str(p) for p in (v or [])]


def add_recent_clip(settings, path: str) -> list[str]:
    items = [p for p in recent_clips(settings) if p != path]
    items.insert(0, path)
    items = items[:RECENT_MAX]
    settings.setValue(RECENT_KEY, items)
    return items


class ReviewWindowing(QObject):
    """The Review dock and panel, the clip-opening actions, drag and drop and the transport
    keys (Space, Left, Right, Shift+Left, Shift+Right; enabled while the dock is visible).

    Review's frames reach the window through its one bridge, as live frames do; an opened
    clip switches the window to Review (``modes``). ``parent`` is the widget that accepts
    dropped clips and parents the dialogs; its closing ends Review's worker.
    """

    def __init__(
        self,
        review: ReviewController,
        picker: InputPicker,
        settings: QSettings,
        ports: tuple[BannerPort, StatusPort, ModePort],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self.review = review
        self.picker = picker
        self.settings = settings
        self.banner, self.status, self.modes = ports
        self.panel = ReviewPanel(review)
        self.dock = QDockWidget(_tr("Review"), parent)
        self.dock.setObjectName("review-dock")
        self.dock.setWidget(self.panel)
        self.dock.setVisible(False)

        self.open_action = QAction(_tr("Open clip…"), self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.pick_clip)
        self.folder_action = QAction(_tr("Open image folder…"), self)
        self.folder_action.triggered.connect(self.pick_folder)
        self.recent_menu = QMenu(_tr("Recent clips"), parent)
        self.recent_menu.setObjectName("recent-clips-menu")

        self.transport: dict[str, QAction] = {}
        for name, key, slot in (
            ("play", Qt.Key.Key_Space, review.toggle_play),
            ("step-back", Qt.Key.Key_Left, lambda: review.step(-1)),
            ("step-forward", Qt.Key.Key_Right, lambda: review.step(1)),
            ("back-1s", QKeySequence("Shift+Left"), lambda: review.jump(-1)),
            ("forward-1s", QKeySequence("Shift+Right"), lambda: review.jump(1)),
        ):
            a = QAction(name, self)
            a.setShortcut(QKeySequence(key))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.triggered.connect(slot)
            a.setEnabled(False)
            self.transport[name] = a
        self.dock.visibilityChanged.connect(self._dock_visible)

        # Review's errors and warnings reach the banner as every session problem does
        review.opened.connect(self._on_opened)
        picker.roiChanged.connect(review.refresh)
        picker.openFileRequested.connect(self.pick_clip)  # the picker's "Open video file…"
        if parent is not None:
            parent.setAcceptDrops(True)
            parent.installEventFilter(self)
        self.rebuild_recent()

    # ---- opening --------------------------------------------------------------------------
    def open_clip(self, path: str) -> None:
        self.review.open(path)

    def pick_clip(self) -> None:
        start = recent_clips(self.settings)
        folder = str(Path(start[0]).parent) if start else str(Path.home())
        exts = " ".join(f"*{e}" for e in sorted(CLIP_EXTENSIONS))
        path, _ = QFileDialog.getOpenFileName(
            self._parent,
            _tr("Open clip"),
            folder,
            _tr("Clips (%1);;All files (*)").replace("%1", exts),
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        if path:
            self.open_clip(path)

    def pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self._parent,
            _tr("Open a folder of still images"),
            str(Path.home()),
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        if folder:
            self.open_clip(folder)

    def rebuild_recent(self) -> None:
        menu = self.recent_menu
        menu.clear()
        items = recent_clips(self.settings)
        for p in items:
            a = menu.addAction(Path(p).name)
            a.setToolTip(p)
            a.setData(p)
            a.triggered.connect(lambda _=False, p=p: self.open_clip(p))
        menu.setEnabled(bool(items))

    def _on_opened(self, path: str, desc: str, _count: int, _fps: float) -> None:
        add_recent_clip(self.settings, path)
        if self.modes.mode != "review":
            self.modes.set_mode("review")  # review's overlay style and panels
            self.review.refresh()  # the first frame may have been composed in the old style
        self.dock.setVisible(True)
        self.dock.raise_()
        self.rebuild_recent()
        self.banner.hide_banner("source")  # a model error stays: the clip does not fix it
        self.status.set_source_text(desc)
        src = self.review.source
        if src is not None:
            self.modes.show_source(src)  # the simulated-data mark follows the source shown
            self.picker.sync()  # "Adjust ROI…" works for the clip

    def _dock_visible(self, on: bool) -> None:
        for a in self.transport.values():
            a.setEnabled(on)
        if not on:
            self.review.pause()

    # ---- drag and drop of clips, and stopping review when the window closes ----------------
    @staticmethod
    def _paths(event) -> list[str]:
        md = event.mimeData()
        if md is None or not md.hasUrls():
            return []
        return [
            u.toLocalFile() for u in md.urls() if u.isLocalFile() and _is_clip_path(u.toLocalFile())
        ]

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        t = event.type()
        if t in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if self._paths(event):
                event.acceptProposedAction()
                return True
        elif t == QEvent.Type.Drop:
            paths = self._paths(event)
            if paths:
                event.acceptProposedAction()
                self.open_clip(paths[0])
                return True
        elif t == QEvent.Type.Close:
            self.review.close(timeout=0.2)
        return False
