"""Clip review in the main window: the Review dock, "Open clip…", "Recent clips", drag and
drop, and the transport shortcuts, wired to a :class:`~.review.ReviewController`."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMenu

from .review import CLIP_EXTENSIONS, ReviewController, ReviewPanel

RECENT_KEY = "review/recent"
RECENT_MAX = 10


# ---- installation into the main window ---------------------------------------------------------
def _is_clip_path(path: str) -> bool:
    return Path(path).suffix.lower() in CLIP_EXTENSIONS or Path(path).suffix == ""


class _WindowFilter(QObject):
    """Drag-and-drop of clips onto the window, and stopping review when it closes."""

    def __init__(self, window, controller: ReviewController) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller

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
                self.window.open_clip(paths[0])
                return True
        elif t == QEvent.Type.Close:
            self.controller.close(timeout=0.2)
        return False


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


def install_review(window) -> ReviewController:
    """Add clip review to ``window`` and return its controller (also ``window.review``).

    Adds: a "review-dock" with the :class:`ReviewPanel`; a File menu with "Open clip…"
    (Ctrl+O) and "Recent clips" (10, from QSettings); drag-and-drop of video/DICOM files;
    Space / Left / Right / Shift+Left / Shift+Right while the review dock is visible; the
    "Snapshot" action (:func:`install_snapshot`). Shown frames go to ``window.on_result``.
    """
    existing = getattr(window, "review", None)
    if isinstance(existing, ReviewController):
        return existing
    ctl = ReviewController(window.pipeline, window)
    panel = ReviewPanel(ctl)
    dock = QDockWidget(QCoreApplication.translate("MainWindow", "Review"), window)
    dock.setObjectName("review-dock")
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    dock.setVisible(False)
    window.docks["review"] = dock
    window.review = ctl
    window.review_panel = panel
    window.review_dock = dock

    ctl.frameShown.connect(window.on_result)
    ctl.error.connect(lambda msg: window.show_banner(msg, "source"))
    ctl.warning.connect(window.show_banner)

    # --- menu: Open clip…, Recent clips ---
    menu = None
    for act in window.menuBar().actions():
        m = act.menu()
        if m is not None and m.objectName() == "file-menu":
            menu = m
    if menu is None:
        menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&File"))
        menu.setObjectName("file-menu")
    open_action = QAction(QCoreApplication.translate("MainWindow", "Open clip…"), window)
    open_action.setShortcut(QKeySequence.StandardKey.Open)
    menu.addAction(open_action)
    folder_action = QAction(QCoreApplication.translate("MainWindow", "Open image folder…"), window)
    menu.addAction(folder_action)
    window.open_folder_action = folder_action
    recent_menu = QMenu(QCoreApplication.translate("MainWindow", "Recent clips"), menu)
    recent_menu.setObjectName("recent-clips-menu")
    menu.addMenu(recent_menu)
    window.open_clip_action = open_action
    window.recent_menu = recent_menu

    def rebuild_recent() -> None:
        recent_menu.clear()
        items = recent_clips(window.settings)
        for p in items:
            a = recent_menu.addAction(Path(p).name)
            a.setToolTip(p)
            a.setData(p)
            a.triggered.connect(lambda _=False, p=p: window.open_clip(p))
        recent_menu.setEnabled(bool(items))

    def open_clip(path: str) -> None:
        ctl.open(path)

    def pick_clip() -> None:
        start = recent_clips(window.settings)
        folder = str(Path(start[0]).parent) if start else str(Path.home())
        exts = " ".join(f"*{e}" for e in sorted(CLIP_EXTENSIONS))
        path, _ = QFileDialog.getOpenFileName(
            window,
            QCoreApplication.translate("MainWindow", "Open clip"),
            folder,
            QCoreApplication.translate("MainWindow", "Clips (%1);;All files (*)").replace(
                "%1", exts
            ),
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        if path:
            open_clip(path)

    def pick_folder() -> None:
        folder = QFileDialog.getExistingDirectory(
            window,
            QCoreApplication.translate("MainWindow", "Open a folder of still images"),
            str(Path.home()),
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        if folder:
            open_clip(folder)

    folder_action.triggered.connect(pick_folder)

    def on_opened(path: str, desc: str, _count: int, _fps: float) -> None:
        add_recent_clip(window.settings, path)
        if window.mode != "review":
            window.set_mode("review")  # review's overlay style and panels
            ctl.refresh()  # the first frame may have been composed in the old style
        dock.setVisible(True)
        dock.raise_()
        rebuild_recent()
        window.hide_banner("source")  # a model error stays: the clip does not fix it
        window.status_line.source_label.setText(desc)
        src = ctl.source
        if src is not None:
            window.source = src  # the simulated-data mark follows the source shown
            window._update_marks()
            picker.sync()  # "Adjust ROI…" works for the clip

    picker = window.input_picker  # installed before review (the window's order)
    ctl.roi_lookup = picker.saved_roi_for_path
    picker.roiChanged.connect(ctl.refresh)
    window.open_clip = open_clip
    open_action.triggered.connect(pick_clip)
    ctl.opened.connect(on_opened)
    rebuild_recent()

    # --- drag and drop, close ---
    window.setAcceptDrops(True)
    window._review_filter = _WindowFilter(window, ctl)
    window.installEventFilter(window._review_filter)

    # --- keyboard shortcuts, active while the review dock is visible ---
    keys = [
        ("play", Qt.Key.Key_Space, ctl.toggle_play),
        ("step-back", Qt.Key.Key_Left, lambda: ctl.step(-1)),
        ("step-forward", Qt.Key.Key_Right, lambda: ctl.step(1)),
        ("back-1s", QKeySequence("Shift+Left"), lambda: ctl.jump(-1)),
        ("forward-1s", QKeySequence("Shift+Right"), lambda: ctl.jump(1)),
    ]
    window.review_actions = {}
    for name, key, slot in keys:
        a = QAction(name, window)
        a.setShortcut(QKeySequence(key))
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.triggered.connect(slot)
        a.setEnabled(False)
        window.addAction(a)
        window.review_actions[name] = a

    def dock_visible(on: bool) -> None:
        for a in window.review_actions.values():
            a.setEnabled(on)
        if not on:
            ctl.pause()

    dock.visibilityChanged.connect(dock_visible)

    # --- a model or style change shows the current frame again, recomputed ---
    window.overlay_panel.styleChanged.connect(lambda *_: ctl.refresh())
    window.bridge.modelReady.connect(lambda *_: ctl.refresh())

    from .snapshot import install_snapshot

    install_snapshot(window)
    return ctl
