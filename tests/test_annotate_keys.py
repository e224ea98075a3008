"""The annotate window's keys work wherever the focus is in it: Ctrl+S, P and 1-9 are the
window's (a text field keeps its own typing); P on a frame where the model found nothing
says so; a long pixel-count line wraps instead of widening the side panel."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from test_annotate import _drag


def _window(qtbot, annotator=""):
    from sonolive.app.annotate.panel import FrameContext
    from sonolive.app.annotate.window import AnnotateWindow
    from sonolive.models.card import ModelCard
    from sonolive.models.registry import find_model

    aw = AnnotateWindow(ModelCard.load(find_model("nerve-vessel")).classes, annotator)
    qtbot.addWidget(aw)
    aw.resize(1000, 650)
    aw.show()
    qtbot.waitExposed(aw)
    aw.activateWindow()
    qtbot.waitUntil(aw.isActiveWindow, timeout=5000)
    img = np.full((120, 160, 3), 70, np.uint8)
    nothing = np.zeros((120, 160), np.uint8)  # the model found no organ on this frame
    ctx = FrameContext(source="clip.mp4", index=4, prediction=nothing, model_name="nerve-vessel")
    aw.panel.set_frame(img, ctx)
    return aw


def test_window_keys_from_any_focus_and_an_empty_prefill_says_so(qtbot, tmp_path):
    aw = _window(qtbot)
    panel, canvas = aw.panel, aw.panel.canvas
    ds = tmp_path / ("ward-3-" + "long-name-" * 12)
    with qtbot.waitSignal(aw.datasets.listed, timeout=10000):
        panel.set_dataset(ds)

    # the name field keeps P and digits as text; Ctrl+S from there saves
    qtbot.mouseClick(panel.annotator, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(panel.annotator, "Dr P 2")
    assert panel.annotator.text() == "Dr P 2" and canvas.current_class == 1
    assert "found no organ" not in panel.status.text()
    with qtbot.waitSignal(aw.datasets.listed, timeout=10000, check_params_cb=lambda n: n == 1):
        qtbot.keyClick(panel.annotator, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert panel.status.text().startswith("Saved ")

    # focus on the opacity slider: 2, E, B and P are still the window's
    qtbot.mouseClick(panel.opacity, Qt.MouseButton.LeftButton)
    assert panel.opacity.hasFocus()
    qtbot.keyClick(panel.opacity, Qt.Key.Key_2)
    assert canvas.current_class == 2 and panel.class_buttons[1].isChecked()
    qtbot.keyClick(panel.opacity, Qt.Key.Key_E)
    assert canvas.tool == "eraser" and panel.tool_buttons["eraser"].isChecked()
    qtbot.keyClick(panel.opacity, Qt.Key.Key_B)
    assert canvas.tool == "brush"
    errors = []
    panel.error.connect(errors.append)
    qtbot.keyClick(panel.opacity, Qt.Key.Key_P)
    assert errors and "found no organ" in errors[0] and panel.status.text() == errors[0]
    assert not canvas.mask.any() and not panel.prefilled

    # paint with the canvas focused, then Ctrl+S with the focus on the slider again
    _drag(qtbot, canvas, [(20, 20), (90, 60)])
    assert (canvas.mask == 2).any()
    qtbot.mouseClick(panel.opacity, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.saved, timeout=10000) as saved:  # the same frame, again
        qtbot.keyClick(panel.opacity, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    from sonolive.models.datasets import read_mask

    np.testing.assert_array_equal(read_mask(ds / "masks" / saved.args[0]), canvas.mask)

    # the long folder name and pixel counts wrap: the side panel keeps its share, the
    # Annotator field stays readable
    title = aw.datasets.title
    assert len(title.text()) > 120
    qtbot.waitUntil(lambda: title.height() > title.fontMetrics().height() * 1.5, timeout=5000)
    assert aw.datasets.width() < aw.width() * 0.4
    assert panel.annotator.width() >= panel.annotator.fontMetrics().horizontalAdvance("M" * 12)
    aw.shutdown()
