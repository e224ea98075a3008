"""Show overlay and Show anyway across a restart, driven with the mouse and keys: Space
(play/pause) never unticks a box; unticking "Show overlay" is not saved as "no fill, no
outlines, no names", so the next start draws the masks; "Show anyway" starts off again."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt


def _click_box(qtbot, box) -> None:
    """A click on a check box's own square (its middle may lie past the text)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def _mask_strength(win) -> float:
    """How much the picture differs from the frame where the model found an organ."""
    r = win.last_result
    organ = r.seg.labels > 0
    diff = np.abs(r.image.astype(int) - r.frame.pixels.astype(int)).sum(axis=2)
    return float(np.median(diff[organ]))


def _open(qtbot, settings):
    from sonolive.app.main_window import MainWindow

    win = MainWindow("phantom", "fast-lite", settings, "cpu", "teaching", "torch")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    return win


def _wait_masks(qtbot, win, shown: bool) -> None:
    def ready() -> bool:
        r = win.last_result
        if r is None or r.seg is None or not (r.seg.labels > 0).any() or r.ood_hidden:
            return False
        if r.cam_class is not None:  # the heatmap is off in this test
            return False
        return (_mask_strength(win) > 20) == shown

    qtbot.waitUntil(ready, timeout=30000)


def test_show_overlay_and_show_anyway_across_a_restart(qtbot, settings):
    win = _open(qtbot, settings)
    panel = win.overlay_panel
    if win.cam_panel.enabled.isChecked():  # masks only: the heatmap would colour them too
        _click_box(qtbot, win.cam_panel.enabled)
    _wait_masks(qtbot, win, shown=True)

    _click_box(qtbot, panel.show_overlay)  # off
    assert not panel.show_overlay.isChecked()
    assert not panel.show_overlay.hasFocus()  # a click leaves Space to the window
    _wait_masks(qtbot, win, shown=False)
    _click_box(qtbot, panel.show_overlay)  # on again
    for _ in range(3):  # Space, as to play/pause: the box keeps its state
        qtbot.keyClick(win, Qt.Key.Key_Space)
        assert panel.show_overlay.isChecked()
    _wait_masks(qtbot, win, shown=True)

    # off when the app closes: the mode keeps fill, outlines and names as they were ticked
    _click_box(qtbot, panel.show_overlay)
    _wait_masks(qtbot, win, shown=False)
    assert panel.fill.isChecked() and panel.outline.isChecked()
    button = win.mode_bar.widgetForAction(win.ood.action)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # "Show anyway" on
    assert win.ood.action.isChecked() and win.pipeline.show_ood
    win.close()
    settings.sync()
    assert settings.value("mode/teaching/fill") in (True, "true")

    # the restart: "Show overlay" ticked, the masks drawn; "Show anyway" off, as the README says
    again = _open(qtbot, settings)
    assert again.overlay_panel.show_overlay.isChecked()
    assert again.overlay_panel.fill.isChecked() and again.overlay_panel.outline.isChecked()
    assert not again.cam_panel.enabled.isChecked()  # the rest of the mode was kept
    assert not again.ood.action.isChecked() and not again.pipeline.show_ood
    _wait_masks(qtbot, again, shown=True)
    assert again.pipeline.style.fill and again.pipeline.style.outline
    again.close()
