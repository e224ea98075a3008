"""The main window is composed explicitly: its controllers are attributes declared by
``MainWindow`` itself, no other module sets attributes on the window or probes it with
``getattr`` / ``hasattr``, and the menus hold the controllers' own actions."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
WINDOW_NAMES = {"window", "win", "w"}


def _declared(app: Path = APP) -> set[str]:
    """Attributes ``MainWindow`` assigns on ``self`` (in ``__init__`` or its methods)."""
    tree = ast.parse((app / "main_window.py").read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "MainWindow")
    names = set()
    for node in ast.walk(cls):
        for el in _targets(node):
            if isinstance(el, ast.Attribute) and isinstance(el.value, ast.Name):
                if el.value.id == "self":
                    names.add(el.attr)
    return names


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    else:
        return []
    return [el for t in targets for el in (t.elts if isinstance(t, ast.Tuple) else [t])]


def _is_window(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in WINDOW_NAMES
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "window"
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _violations(app: Path) -> list[str]:
    """``file:line`` of every undeclared window attribute set, and every getattr/hasattr/
    setattr on the window, outside main_window.py."""
    declared = _declared(app)
    found = []
    for f in sorted(app.rglob("*.py")):
        if f.name == "main_window.py":
            continue
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            for el in _targets(node):
                if isinstance(el, ast.Attribute) and _is_window(el.value):
                    if el.attr not in declared:
                        found.append(f"{f.name}:{node.lineno} window.{el.attr} = …")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in ("getattr", "hasattr", "setattr") and node.args:
                    if _is_window(node.args[0]):
                        found.append(f"{f.name}:{node.lineno} {node.func.id}(window, …)")
    return found


def test_no_module_patches_or_probes_the_window():
    found = _violations(APP)
    assert not found, "the window patched or probed from outside MainWindow:\n" + "\n".join(found)


def test_the_check_sees_patching_and_probing(tmp_path):
    (tmp_path / "main_window.py").write_text(
        "class MainWindow:\n    def __init__(self):\n        self.review = None\n"
    )
    (tmp_path / "plugin.py").write_text(
        "def install(window):\n"
        "    window.review = 1\n"  # declared: fine
        "    window.extra = 1\n"
        "    return getattr(window, 'review', None)\n"
    )
    assert _violations(tmp_path) == [
        "plugin.py:3 window.extra = …",
        "plugin.py:4 getattr(window, …)",
    ]


def test_window_holds_only_declared_attributes_and_places_the_controllers_actions(qtbot, settings):
    from PySide6.QtCore import SignalInstance
    from sonolive.app.main_window import MainWindow

    win = MainWindow(source=None, model=None, settings=settings, device="cpu", mode="teaching")
    qtbot.addWidget(win)
    # nothing added attributes at run time that MainWindow does not declare itself (PySide
    # keeps bound signals in the instance dict: those are Qt's, not attributes)
    attrs = {
        k
        for k, v in vars(win).items()
        if not k.startswith("__") and not isinstance(v, SignalInstance)
    }
    assert attrs and attrs <= _declared(), attrs - _declared()
    menus = {a.menu().objectName(): a.menu() for a in win.menuBar().actions() if a.menu()}
    assert set(menus) == {"file-menu", "record-menu", "dataset-menu", "exam-menu"}
    file_actions = menus["file-menu"].actions()
    assert win.review_windowing.open_action in file_actions
    assert win.review_windowing.folder_action in file_actions
    assert win.snapshots.action in file_actions
    assert win.review_windowing.recent_menu.menuAction() in file_actions
    assert menus["record-menu"] is win.recording.menu
    assert win.recording.action in win.recording.menu.actions()
    dataset = menus["dataset-menu"].actions()
    assert win.annotate.action in dataset and win.quiz.from_frame_action in dataset
    assert win.input_picker.roi_action in win.main_toolbar.actions()
    assert win.model_importer.action in win.main_toolbar.actions()
    assert win.ood.action in win.mode_bar.actions()
    # the window-wide shortcuts hold even while the toolbars and menus are hidden
    for a in (win.recording.action, win.snapshots.action, win.annotate.action):
        assert a in win.actions()
    assert set(win.review_windowing.transport.values()) <= set(win.actions())
    assert win.docks["review"] is win.review_windowing.dock
    assert win.recording.hook in win.pipeline.sinks
    assert menus["exam-menu"] is win.exam.menu and win.exam.hook in win.pipeline.sinks
    assert win.exam.confirm_action in win.actions()
    # the controllers share the one review controller the window made
    assert win.input_picker.review is win.recording.review is win.ood.review is win.review
    win.close()


def test_file_quit_closes_the_window_and_its_workers(qtbot, settings):
    """File → Quit (Ctrl+Q) ends the app as the close button does: workers stopped."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMenu
    from sonolive.app.main_window import MainWindow

    win = MainWindow(source="phantom", model=None, settings=settings, mode="teaching")
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    qtbot.waitUntil(lambda: win.pipeline.running, timeout=10000)
    file_menu = win.findChild(QMenu, "file-menu")
    quit_action = next(a for a in file_menu.actions() if a.objectName() == "quit")
    assert quit_action.shortcut().toString() == "Ctrl+Q"
    qtbot.keyClick(win, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=5000)
    assert not win.pipeline.running


def test_simulated_badge_says_what_is_simulated(qtbot, settings, tmp_path):
    """The status line's badge reads as the mark on the picture: a simulated picture is
    "Simulated data"; a real clip under a model trained on simulated images says that."""
    from media_helpers import encode_clip
    from sonolive.app.main_window import MainWindow

    win = MainWindow(source="phantom", model=None, settings=settings, mode="teaching")
    qtbot.addWidget(win)
    badge = win.status_line.simulated_label
    assert badge.isVisibleTo(win) and badge.text() == "Simulated data"
    win.select_model("fast-lite")  # trained on the simulated scanner's pictures
    qtbot.waitUntil(lambda: win.card is not None, timeout=30000)
    win.set_source(str(encode_clip(tmp_path / "real.mp4", 4)))  # a recording, not simulated
    # the window takes the clip as its source when the player says it opened it
    qtbot.waitUntil(lambda: win.source is not None and win.source is win.review.source,
                    timeout=20000)  # fmt: skip
    assert badge.isVisibleTo(win) and badge.text() == "Model: simulated data"
    assert "trained on simulated images" in badge.toolTip()
    win.close()


def test_accel_that_cannot_run_here_is_said_and_the_model_runs(qtbot, settings):
    """``sonolive --accel cudagraphs`` on a machine without CUDA: the model loads, runs
    eagerly, and the window says so in plain words."""
    from sonolive.app.main_window import MainWindow

    win = MainWindow("phantom", "fast-lite", settings, "cpu", "teaching", "torch",
                     accel="cudagraphs")  # fmt: skip
    qtbot.addWidget(win)
    assert win.status_line.backend_label.text() == "Loading model fast-lite…"  # until ready
    qtbot.waitUntil(lambda: win.card is not None, timeout=30000)
    assert win.status_line.backend_label.text().startswith("fast-lite · cpu")
    seg = win.pipeline.segmenter
    assert seg.accel_mode == "off" and "CUDA graphs" in seg.accel_note
    assert "eagerly" in win.banner.text() and "eagerly" in win.status_line.backend_label.toolTip()
    qtbot.waitUntil(lambda: win.last_result is not None and win.last_result.seg is not None,
                    timeout=20000)  # fmt: skip
    win.close()


def test_snapshot_and_recording_folders_are_chosen_in_the_menus(qtbot, settings, tmp_path,
                                                                monkeypatch):  # fmt: skip
    """File → Snapshot folder… and Record → Recording folder… ask for a folder, keep it, and
    say on hover which folder is in use; the next snapshot goes there."""
    from PySide6.QtWidgets import QMenu
    from sonolive.app import folder_choice
    from sonolive.app.main_window import MainWindow

    asked = []

    def pick(parent, title, start):
        asked.append(start)
        return str(tmp_path / "chosen")

    monkeypatch.setattr(folder_choice.QFileDialog, "getExistingDirectory", pick)
    win = MainWindow(source="phantom", model=None, settings=settings, mode="teaching")
    qtbot.addWidget(win)
    file_menu = win.findChild(QMenu, "file-menu")
    assert win.snapshots.folder_action in file_menu.actions() and file_menu.toolTipsVisible()
    assert win.recording.menu.toolTipsVisible()  # the folder in use shows on hover
    assert win.recording.folder_action in win.recording.menu.actions()
    before = str(win.snapshots.folder())  # the dialog starts at the folder in use
    win.snapshots.folder_action.trigger()
    assert asked == [before]
    assert settings.value("snapshot/folder") == str(tmp_path / "chosen")
    assert str(tmp_path / "chosen") in win.snapshots.folder_action.toolTip()
    win.recording.folder_action.trigger()
    assert settings.value("recording/folder") == str(tmp_path / "chosen")
    qtbot.waitUntil(lambda: win.last_result is not None, timeout=20000)
    png, _js, _ = win.snapshots.take().result(timeout=10)
    assert png.parent == tmp_path / "chosen"
    win.close()


def test_choosing_no_model_during_a_load_keeps_it_off(qtbot, settings):
    """'(no overlay)' picked while a model is still loading: the load is not applied when it
    finishes, and the status line does not keep saying it is loading."""
    import threading

    from PySide6.QtWidgets import QApplication
    from sonolive.app.main_window import MainWindow

    win = MainWindow("phantom", "fast-lite", settings, "cpu", "teaching", "torch")
    qtbot.addWidget(win)
    win.select_model(None)
    assert win.status_line.backend_label.text() == "no model"
    qtbot.waitUntil(
        lambda: not any(t.name == "sonolive-model-load" for t in threading.enumerate()),
        timeout=30000,
    )
    QApplication.processEvents()  # the finished load's signal, if any, is delivered now
    assert win.pipeline.segmenter is None and win.card is None
    assert win.status_line.backend_label.text() == "no model"
    win.close()
