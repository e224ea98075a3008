"""Review of a recorded 1080p scanner screen (issue 16): only the ultrasound image is shown,
and "Adjust ROI…" works for the file as for a capture card, remembered per file."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from scanner_screens import ScannerScreen, coverage, overlaps
from sonolive.capture.mp4_writer import Mp4Writer


@pytest.fixture(scope="module")
def scanner_clip(tmp_path_factory):
    scr = ScannerScreen("sector", (560, 160, 800, 760), seed=21)
    path = tmp_path_factory.mktemp("rv") / "screen.mp4"
    with Mp4Writer(path, 30, crf=14, preset="ultrafast") as out:
        for i in range(40):
            out.write(scr.frame(i))
    return path, scr


def _window(qtbot, settings):
    from sonolive.app.main_window import MainWindow

    win = MainWindow(
        source=None,
        model="fast-lite",
        settings=settings,
        device="cpu",
        mode="review",
        backend="torch",
    )
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.pipeline.segmenter is not None, timeout=60000)
    return win


def _open(qtbot, win, path):
    """The clip's first frame, shown once the clip is open (nothing earlier counts)."""
    with qtbot.waitSignal(
        win.review.frameShown, timeout=60000, check_params_cb=lambda r: r.frame.index == 0
    ) as shown:
        win.review.open(str(path))
    return shown.args[0]


def _drag(qtbot, widget, a: QPoint, b: QPoint) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=a)
    for k in range(1, 6):
        qtbot.mouseMove(widget, a + (b - a) * (k / 5))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=b)


def test_review_shows_the_region_and_adjust_roi_is_remembered_per_file(
    qtbot, tmp_path, scanner_clip
):
    path, scr = scanner_clip
    ini = str(tmp_path / "s.ini")
    win = _window(qtbot, QSettings(ini, QSettings.Format.IniFormat))
    r = _open(qtbot, win, path)
    roi = r.frame.roi
    assert coverage(roi, scr.truth) >= 0.95, (roi, scr.truth)
    assert not any(overlaps(roi, b) for b in scr.boxes + scr.clock_boxes())
    assert r.image.shape == (roi[3], roi[2], 3)
    assert win.input_picker.roi_action.isEnabled()

    # Adjust ROI… on the file: drag the right edge inwards by about 200 px
    win.input_picker.roi_action.trigger()
    dlg = win.input_picker.roi_editor
    assert dlg is not None and dlg.canvas.roi == roi
    x, y, w, h = roi
    edge = dlg.canvas.to_widget(x + w, y + h // 2).toPoint() - QPoint(1, 0)
    _drag(qtbot, dlg.canvas, edge, dlg.canvas.to_widget(x + w - 200, y + h // 2).toPoint())
    new = dlg.canvas.roi
    assert abs(new[2] - (w - 200)) <= 8 and new[:2] == roi[:2], new
    # a frame still on its way with the old region may come first: wait for the new one
    with qtbot.waitSignal(
        win.review.frameShown, timeout=60000, check_params_cb=lambda r: r.frame.roi == new
    ) as shown:
        dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()
    assert shown.args[0].frame.roi == new
    assert shown.args[0].image.shape == (new[3], new[2], 3)
    saved = [k for k in QSettings(ini, QSettings.Format.IniFormat).allKeys() if "file_" in k]
    assert len(saved) == 1 and saved[0].endswith("screen.mp4")
    win.close()

    # a new window opening the same file uses the saved region; "Detect again" forgets it
    win2 = _window(qtbot, QSettings(ini, QSettings.Format.IniFormat))
    assert _open(qtbot, win2, path).frame.roi == new
    win2.input_picker.roi_action.trigger()
    with qtbot.waitSignal(
        win2.review.frameShown, timeout=60000, check_params_cb=lambda r: r.frame.roi == roi
    ) as shown:
        win2.input_picker.roi_editor.detect_button.click()
    assert shown.args[0].frame.roi == roi
    assert not any(
        k.startswith("roi/file_") for k in QSettings(ini, QSettings.Format.IniFormat).allKeys()
    )
    win2.close()


def test_a_live_card_with_no_region_blanks_the_text_and_the_banner_offers_adjust_roi(
    qtbot, settings
):
    """A menu screen on a card (patient text, a running clock, no picture): no region is
    found; the window says so with an Adjust ROI… button, and the frames that reach the view,
    snapshots and recordings carry none of the text (read back from the picture)."""
    from sonolive.app.main_window import MainWindow
    from sonolive.capture.replay import ReplaySource
    from sonolive.capture.roi_follow import NO_REGION
    from sonolive.capture.roi_stage import FULL

    scr = ScannerScreen("linear", (700, 200, 560, 700), seed=22)
    frames = []
    for i in range(8):
        f = scr.base.copy()
        scr.draw_clock(f, 30 * i)
        frames.append(f)
    win = MainWindow(source=None, model=None, settings=settings, device="cpu", mode="teaching")
    qtbot.addWidget(win)
    win.show()
    win.set_source(ReplaySource(frames, fps=30, name="card", simulated=False))
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=10000)
    assert win.banner.text() == NO_REGION
    button = win.banner.button
    assert button.isVisible() and button.defaultAction() is win.input_picker.roi_action
    stage = win.input_picker.stage
    assert stage.state == FULL and stage.uncertain
    qtbot.waitUntil(lambda: win.last_result is not None and stage.blanked > 0, timeout=10000)
    shown = win.last_result.frame.pixels
    assert shown.shape == (1080, 1920, 3)
    for x, y, w, h in scr.boxes + scr.clock_boxes():
        assert shown[y : y + h, x : x + w].max() == 0, (x, y, w, h)  # nothing left to read
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dlg = win.input_picker.roi_editor
    assert dlg is not None and dlg.isVisible()
    dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()  # the person confirms a region
    assert stage.user_set and not stage.uncertain
    assert NO_REGION not in win.banner.text() and not button.isVisible()
    win.close()


def test_review_of_a_screen_without_a_region_saves_no_readable_text(qtbot, settings, tmp_path):
    """Issue 26: in Review, A then Ctrl+S on a screen where no region can be found saved a
    PNG reading "PATIENT: DOE^JANE". Now the frame is blanked outside the picture, the banner
    offers Adjust ROI…, and the saved dataset image has nothing to read (read back)."""
    import cv2
    from PIL import Image

    scr = ScannerScreen("linear", (700, 200, 560, 700), seed=23)
    bar = (380, 12, 620, 88)
    path = tmp_path / "menu.mp4"
    with Mp4Writer(path, 30, crf=14, preset="ultrafast") as out:
        for i in range(12):
            f = scr.base.copy()
            cv2.rectangle(f, bar[:2], (bar[0] + bar[2], bar[1] + bar[3]), (170, 172, 176), -1)
            cv2.putText(
                f, "PATIENT: DOE^JANE", (400, 70), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (20,) * 3, 3
            )
            scr.draw_clock(f, 10 * i)
            out.write(f)
    ds = tmp_path / "set"
    settings.setValue("annotate/dataset", str(ds))
    settings.setValue("annotate/annotator", "Student A")
    win = _window(qtbot, settings)
    _open(qtbot, win, path)
    qtbot.waitUntil(lambda: win.last_result is not None, timeout=20000)
    qtbot.waitUntil(lambda: win.banner.button.isVisible(), timeout=10000)
    assert "no ultrasound region found" in win.banner.text()
    win.activateWindow()
    qtbot.keyClick(win, Qt.Key.Key_A)
    qtbot.waitUntil(
        lambda: (
            win.annotate.annotate_window is not None and win.annotate.annotate_window.isVisible()
        )
    )
    aw = win.annotate.annotate_window
    canvas = aw.panel.canvas
    qtbot.waitUntil(lambda: aw.panel.store is not None, timeout=10000)
    with qtbot.waitSignal(aw.datasets.listed, timeout=10000, check_params_cb=lambda n: n == 1):
        qtbot.keyClick(canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    (saved,) = sorted((ds / "images").glob("*.png"))
    img = np.asarray(Image.open(saved).convert("RGB"))
    assert img.shape == (1080, 1920, 3)
    for x, y, w, h in [bar, *scr.boxes, *scr.clock_boxes()]:
        area = img[y : y + h, x : x + w].astype(int)
        assert area.max() - area.min() < 24, (x, y, w, h)  # flat: nothing to read
    aw.close()
    win.close()
