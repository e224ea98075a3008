"""The hospital's own-data loop driven like a person, in the real window: review an image
folder, press A on three frames, paint with the mouse, type a name and press Ctrl+S (the
first save opens the folder picker), click Train, watch the progress, read the held-out
figures, click Install, pick the new model in the model picker, and see it run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from test_annotate import _drag

SAMPLE = Path(__file__).resolve().parents[1] / "resources/samples/usgra-seg-sample"


def _press_a_on_frame(qtbot, win, index: int):
    """Step to ``index`` with the arrow key, wait for its mask, press A; the annotate window."""
    win.activateWindow()  # back to the main window, as a click on it does
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    while win.review.index < index:
        qtbot.keyClick(win, Qt.Key.Key_Right)
        qtbot.waitUntil(lambda: win.review.index >= index, timeout=60000)
    qtbot.waitUntil(
        lambda: (
            win.last_result is not None
            and win.last_result.frame.index == index
            and win.last_result.seg is not None
        ),
        timeout=60000,
    )
    qtbot.keyClick(win, Qt.Key.Key_A)
    qtbot.waitUntil(
        lambda: (
            win.annotate.annotate_window is not None
            and win.annotate.annotate_window.isVisible()
            and win.annotate.annotate_window.panel.context.index == index
        ),
        timeout=10000,
    )
    aw = win.annotate.annotate_window
    aw.activateWindow()
    qtbot.waitUntil(aw.isActiveWindow, timeout=5000)
    return aw


def _pick_in_combo(qtbot, combo, text: str) -> None:
    """Open the combo's list and click the row showing ``text``."""
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=5000)
    row = combo.findText(text)
    assert row >= 0, [combo.itemText(i) for i in range(combo.count())]
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_annotate_three_frames_train_install_and_run(qtbot, tmp_path, settings):
    from sonolive.app.main_window import MainWindow
    from sonolive.capture.replay import ReplaySource

    ds = tmp_path / "ward-3"  # a new folder, typed into the folder picker
    win = MainWindow(
        source=ReplaySource([np.zeros((64, 64, 3), np.uint8)], fps=30, name="live"),
        model="nerve-vessel",
        settings=settings,
        device="cpu",
        mode="review",
        backend="torch",
    )
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.pipeline.segmenter is not None, timeout=20000)
    with qtbot.waitSignal(win.review.opened, timeout=20000):
        win.open_clip(str(SAMPLE / "images"))  # each image of a folder is its own source
    # "opened" says the folder is open, not that its first frame is on screen: a person looks
    # at that frame first (an arrow key pressed before it shows steps from nothing to frame 1,
    # and on a loaded machine frame 0 may then never be shown)
    qtbot.waitUntil(lambda: win.review.index == 0, timeout=60000)

    # frame 0: paint a nerve stroke, type the name, Ctrl+S in the name field: no folder yet,
    # so the folder picker opens, and the frame is saved once a folder is chosen
    aw = _press_a_on_frame(qtbot, win, 0)
    canvas = aw.panel.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_1)
    _drag(qtbot, canvas, [(100, 100), (200, 120), (300, 150)])
    assert canvas.mask.max() == 1
    qtbot.mouseClick(aw.panel.annotator, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(aw.panel.annotator, "Dr Lee")
    assert aw.panel.annotator.hasFocus()
    qtbot.keyClick(aw.panel.annotator, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    dialog = aw.folder_dialog
    qtbot.waitUntil(lambda: dialog is not None and dialog.isVisible(), timeout=5000)
    assert "Choose a dataset folder" in aw.panel.status.text()
    name_edit = dialog.findChild(QLineEdit, "fileNameEdit")
    name_edit.setFocus()
    dialog.setDirectory(str(tmp_path))  # where the person browses to
    name_edit.clear()
    qtbot.keyClicks(name_edit, ds.name)
    with qtbot.waitSignal(aw.datasets.listed, timeout=20000, check_params_cb=lambda n: n == 1):
        qtbot.keyClick(name_edit, Qt.Key.Key_Return)
    assert not dialog.isVisible(), aw.panel.status.text()
    assert settings.value("annotate/dataset") == str(ds)

    # frames 1 and 2: the model's mask (P), a vessel stroke over it, Ctrl+S on the canvas
    for index in (1, 2):
        aw = _press_a_on_frame(qtbot, win, index)
        qtbot.keyClick(canvas, Qt.Key.Key_P)
        np.testing.assert_array_equal(canvas.mask, win.last_result.seg.labels)
        qtbot.keyClick(canvas, Qt.Key.Key_2)
        _drag(qtbot, canvas, [(60, 400), (160, 420)])
        with qtbot.waitSignal(
            aw.datasets.listed, timeout=20000, check_params_cb=lambda n, k=index: n == k + 1
        ):
            qtbot.keyClick(canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    man = json.loads((ds / "dataset.json").read_text())["images"]
    assert len(man) == 3 and {r["annotator"] for r in man.values()} == {"Dr Lee"}

    # Train: the real button; the dialog says what training needs and how long it takes
    qtbot.mouseClick(aw.train_button, Qt.MouseButton.LeftButton)
    dlg = aw.train_dialog
    assert dlg is not None and dlg.isVisible() and dlg.start_button.isEnabled()
    assert "at least 3 annotated frames" in dlg.minimum.text()
    assert "3 frames from 3 sources" in dlg.minimum.text()
    before = dlg.estimate.text()
    assert "Estimated time" in before
    dlg.steps.lineEdit().selectAll()
    qtbot.keyClicks(dlg.steps, "5")  # a short run for a 2-core CI
    assert dlg.steps.value() == 5 and dlg.estimate.text() != before
    seen = []
    dlg.bar.valueChanged.connect(seen.append)
    with qtbot.waitSignal(dlg.finished, timeout=300000) as done:
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    log = dlg.log.toPlainText()
    assert done.args == ["done"], log
    assert "batch size 4 -> 1" in log  # three frames train: the batch fits the data
    assert "Held-out: nerve Dice" in log
    assert "frame/s]" not in log and "step/s]" not in log  # progress bars feed the bar only
    assert any(0 < v < 100 for v in seen) and dlg.bar.value() == 100
    new_name = dlg.card.name
    assert new_name == "nerve-vessel-ward-3" and "5 steps" in dlg.card.training_data

    # Install: the model picker lists it at once; picked there, it runs on the frame
    with qtbot.waitSignal(dlg.installed, timeout=60000):
        qtbot.mouseClick(dlg.install_button, Qt.MouseButton.LeftButton)
    assert win.model_picker.findText(new_name) >= 0
    assert win.model_picker.currentText() == "nerve-vessel"  # still the model in use
    dlg.close()
    aw.close()
    win.activateWindow()
    _pick_in_combo(qtbot, win.model_picker, new_name)
    qtbot.waitUntil(
        lambda: (
            win.card is not None
            and win.card.name == new_name
            and win.last_result is not None
            and win.last_result.model_name == new_name
            and win.last_result.seg is not None
        ),
        timeout=60000,
    )
    win.annotate.annotate_window.shutdown()
    win.close()
