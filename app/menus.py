"""The window's menus, toolbars, status-bar widgets and shortcuts, composed in one place.

Each controller owns its actions and widgets; :func:`compose_menus` only places them: the File,
Record and Dataset menus, the main toolbar's "Open model…" and "Adjust ROI…", the mode bar's
"Show anyway", the status line's gauge and REC label, the legend's gauge, the Review dock,
and the window-wide shortcuts (which work even while the toolbars or menus are hidden).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QToolBar


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


BIG_BUTTONS = (
    "QToolBar QToolButton{min-height:44px;min-width:72px;font-size:16px;padding:4px 8px}"
    "QToolBar QToolButton:checked{background:#1f5f8b;color:white}"
)


def main_toolbar(window) -> QToolBar:
    """The input and model pickers' toolbar (hidden in Bedside)."""
    tb = QToolBar(_tr("Input and model"))
    tb.setObjectName("main-toolbar")
    tb.addWidget(QLabel(_tr(" Input ")))
    tb.addWidget(window.source_picker)
    tb.addWidget(QLabel(_tr(" Model ")))
    tb.addWidget(window.model_picker)
    window.addToolBar(tb)
    return tb


@dataclass
class ModeBar:
    bar: QToolBar
    modes: dict[str, QAction]
    side: QAction
    fullscreen: QAction
    presenter: QAction


def mode_bar(window) -> ModeBar:
    """The row of big buttons: the three modes, raw | overlay, fullscreen, presenter view."""
    w = window
    bar = QToolBar(_tr("Mode"))
    bar.setObjectName("mode-toolbar")
    bar.setStyleSheet(BIG_BUTTONS)
    group = QActionGroup(w)
    modes: dict[str, QAction] = {}
    for m, label in (
        ("bedside", _tr("Bedside")),
        ("teaching", _tr("Teaching")),
        ("review", _tr("Review")),
    ):
        a = QAction(label, w, checkable=True)
        a.triggered.connect(lambda _=False, m=m: w.set_mode(m))
        group.addAction(a)
        bar.addAction(a)
        modes[m] = a
    bar.addSeparator()
    fullscreen = QAction(_tr("Fullscreen"), w, checkable=True)
    fullscreen.setShortcut(QKeySequence(Qt.Key.Key_F11))
    fullscreen.triggered.connect(w.toggle_fullscreen)
    presenter = QAction(_tr("Presenter view"), w, checkable=True)
    presenter.setShortcut(QKeySequence("Ctrl+P"))
    presenter.triggered.connect(w.toggle_presenter)
    side = QAction(_tr("Raw | overlay"), w, checkable=True)
    side.toggled.connect(w.set_side_by_side)
    for a in (side, fullscreen, presenter):
        bar.addAction(a)
    # the mode row gets a row of its own: at 1280 px the big buttons and the pickers together
    # would be cut off
    w.addToolBarBreak()
    w.addToolBar(bar)
    return ModeBar(bar, modes, side, fullscreen, presenter)


def compose_menus(window) -> None:
    """Place every controller's actions and widgets in ``window``."""
    w = window
    bar = w.menuBar()

    file_menu = bar.addMenu(_tr("&File"))
    file_menu.setObjectName("file-menu")
    file_menu.setToolTipsVisible(True)  # the folder actions say on hover where files go
    file_menu.addAction(w.review_windowing.open_action)
    file_menu.addAction(w.review_windowing.folder_action)
    file_menu.addMenu(w.review_windowing.recent_menu)
    file_menu.addAction(w.snapshots.action)
    file_menu.addAction(w.snapshots.folder_action)
    file_menu.addSeparator()
    quit_action = QAction(_tr("&Quit"), w)
    quit_action.setObjectName("quit")
    quit_action.setShortcut(QKeySequence("Ctrl+Q"))  # Cmd+Q on macOS (Qt swaps Ctrl there)
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    # the window's close ends the workers (as its close button); the other windows go too
    quit_action.triggered.connect(lambda: w.close() and QCoreApplication.quit())
    file_menu.addAction(quit_action)

    bar.addMenu(w.recording.menu)

    dataset_menu = bar.addMenu(_tr("&Dataset"))
    dataset_menu.setObjectName("dataset-menu")
    dataset_menu.addAction(w.annotate.action)
    dataset_menu.addSeparator()
    dataset_menu.addAction(w.quiz.from_folder_action)
    dataset_menu.addAction(w.quiz.from_frame_action)

    bar.addMenu(w.exam.menu)

    w.main_toolbar.addAction(w.input_picker.roi_action)
    w.main_toolbar.addAction(w.model_importer.action)
    w.mode_bar.addSeparator()
    w.mode_bar.addAction(w.ood.action)

    w.status_line.addPermanentWidget(w.recording.label)
    w.status_line.addPermanentWidget(w.ood.gauge)
    lay = w.legend.layout()
    if lay is not None:
        lay.addWidget(w.ood.legend_label)
        lay.addWidget(w.ood.legend_gauge)

    # shortcuts of the window itself: they hold while a toolbar or the menu bar is hidden
    for action in (
        quit_action,
        w.fullscreen_action,
        w.input_picker.roi_action,
        w.recording.action,
        w.snapshots.action,
        w.annotate.action,
        w.exam.confirm_action,
        *w.review_windowing.transport.values(),
    ):
        w.addAction(action)
