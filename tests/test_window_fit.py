"""At the default 1280x800 window nothing is cut off: every toolbar button (up to "Presenter
view"), the CAM organ box and the "maps/s" readout, and the status line."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QComboBox, QLabel, QToolButton, QWidget


def _rect_in(win, w: QWidget) -> QRect:
    return QRect(w.mapTo(win, w.rect().topLeft()), w.size())


def _fully_shown(win, w: QWidget) -> bool:
    return w.isVisible() and win.rect().contains(_rect_in(win, w))


def test_default_window_shows_everything(qtbot, settings, tmp_path):
    from sonolive.app.main_window import MainWindow

    win = MainWindow(
        source="phantom", model="fast-lite", settings=settings, device="cpu", mode="teaching",
        backend="torch",
    )  # fmt: skip
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.card is not None, timeout=30000)
    if not win.cam_panel.enabled.isChecked():
        win.cam_panel.enabled.click()
    # real figures: the CAM readout and the status line as the running window fills them
    qtbot.waitUntil(lambda: "maps/s" in win.cam_panel.age.text(), timeout=60000)
    qtbot.waitUntil(lambda: win.size().width() == 1280 and win.size().height() == 800)
    problems: list[str] = []

    def everything_shown() -> bool:
        problems[:] = _cut_off(win)
        return not problems

    try:  # layouts settle in the event loop: wait for that, then nothing may be cut off
        qtbot.waitUntil(everything_shown, timeout=5000)
    except AssertionError:
        raise AssertionError(f"cut off at 1280x800: {problems}") from None
    finally:
        win.grab().save(str(tmp_path / "window.png"))  # to look at
    # the longest backend label, from the CPU probe of the auto backend
    win.status_line.backend_label.setText("fast-lite · cpu · onnx (31.0 ms; torch 50.2 ms)")
    qtbot.waitUntil(everything_shown, timeout=5000)
    win.close()


def test_review_mode_keeps_the_default_size(qtbot, settings):
    """The Review panel's touch-size buttons must not push the window past 800 px."""
    from sonolive.app.main_window import MainWindow

    win = MainWindow(
        source="phantom", model="fast-lite", settings=settings, device="cpu", mode="review",
        backend="torch",
    )  # fmt: skip
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.card is not None, timeout=30000)  # the legend is filled
    qtbot.waitUntil(lambda: win.docks["review"].isVisible(), timeout=5000)
    panel = win.review_panel
    qtbot.waitUntil(
        lambda: win.height() <= 800 and _fully_shown(win, panel.clear_ab_button), timeout=5000
    )
    for w in (panel.slider, panel.position_label, panel.loop_box, win.cam_panel.layer):
        assert _fully_shown(win, w)
    win.close()


def _cut_off(win) -> list[str]:
    """What is not fully shown (empty when everything is)."""
    bad = []
    for bar in (win.main_toolbar, win.mode_bar):
        ext = bar.findChild(QToolButton, "qt_toolbar_ext_button")
        if ext is not None and ext.isVisible():
            bad.append(f"{bar.objectName()} overflows")
        for action in bar.actions():
            w = bar.widgetForAction(action)
            if action.isVisible() and not action.isSeparator() and w is not None:
                if not _fully_shown(win, w):
                    bad.append(action.text() or type(w).__name__)
    organ = win.cam_panel.organ
    probe = QComboBox()  # the width its longest entry needs
    probe.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    probe.addItems([organ.itemText(i) for i in range(organ.count())])
    if (
        organ.count() < 2
        or not _fully_shown(win, organ)
        or organ.width() < probe.sizeHint().width()
    ):
        bad.append("CAM organ box")
    age: QLabel = win.cam_panel.age
    need_h = age.heightForWidth(age.width()) if age.wordWrap() else age.sizeHint().height()
    need_w = 0 if age.wordWrap() else age.sizeHint().width()
    if not _fully_shown(win, age) or age.height() < need_h or age.width() < need_w:
        bad.append("maps/s readout")
    if not _fully_shown(win, age.parentWidget().parentWidget()):  # the CAM dock
        bad.append("CAM dock")
    sl = win.status_line
    for w in (
        sl.fps_label,
        sl.latency_label,
        sl.dropped_label,
        sl.backend_label,
        sl.diagnostic_label,
    ):
        if not _fully_shown(win, w) or w.width() < w.sizeHint().width():
            bad.append(w.text())
    return bad
