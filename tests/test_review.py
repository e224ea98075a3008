"""Clip review, snapshots and recording in the real window (offscreen), driven like a user."""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest
from barcode import read_barcode, read_bits
from media_helpers import decode_all, encode_clip, make_dicom, make_frame
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from sonolive.capture.replay import ReplaySource

N_FRAMES = 60  # 2 s at 30 fps


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return encode_clip(tmp_path_factory.mktemp("clips") / "exam.mp4", N_FRAMES, gop=10)


def _ungated_model() -> str:
    """fast-lite without reference statistics, as a user model: the barcode frames here are
    unlike its training data, and these tests check review itself, not that check."""
    import os
    import shutil
    from pathlib import Path

    from sonolive.models.registry import find_model

    dst = Path(os.environ["SONOLIVE_USER_MODELS"]) / "fast-lite-ungated"
    if not dst.exists():
        shutil.copytree(find_model("fast-lite"), dst, ignore=shutil.ignore_patterns("reference*"))
        card = json.loads((dst / "model.json").read_text())
        card["name"] = "fast-lite-ungated"
        (dst / "model.json").write_text(json.dumps(card))
    return "fast-lite-ungated"


def _window(qtbot, settings, source=None, model=None):
    from sonolive.app.main_window import MainWindow

    if source is None:
        source = ReplaySource([make_frame(i) for i in range(4)], fps=30, name="live")
    if model is None:  # the barcode frames are foreign to fast-lite: review them ungated
        model = _ungated_model()
    win = MainWindow(
        source=source,
        model=model,
        settings=settings,
        device="cpu",
        mode="review",
        backend="torch",
    )
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: win.pipeline.segmenter is not None, timeout=20000)
    win.overlay_panel.names.click()  # masks only, as in the live-path test
    win.overlay_panel.outline.click()
    assert not win.pipeline.style.names and not win.pipeline.style.outline
    return win


def _count_segment_calls(win) -> list[int]:
    seg = win.pipeline.segmenter
    calls: list[int] = []
    real = seg.segment

    def counting(frame, *rest):
        calls.append(frame.index)
        return real(frame, *rest)

    seg.segment = counting
    return calls


def _check_shown(win, index: int) -> None:
    """The frame shown is frame ``index`` and its overlay was composed from that frame."""
    r = win.last_result
    assert r.frame.index == index
    assert win.review.index == index
    assert read_barcode(r.frame.pixels) == index
    shown = win.view.current_array()
    assert np.array_equal(shown, r.image)
    labels = r.seg.labels if r.seg is not None else np.zeros(shown.shape[:2], np.uint8)
    free = labels == 0
    # names and outlines are off: outside the masks the view shows the frame itself
    assert np.array_equal(shown[free], r.frame.pixels[free])
    # the barcode read from the pixels the overlay left untouched
    bits = read_bits(shown, keep=free, min_pixels=20)
    assert len(bits) >= 6
    assert all(v == (index >> b) & 1 for b, v in bits.items()), (index, bits)


def _show(qtbot, win, index: int, timeout: int = 15000) -> None:
    qtbot.waitUntil(
        lambda: (
            win.review.index == index
            and win.last_result is not None
            and win.last_result.frame.index == index
        ),
        timeout=timeout,
    )


def test_seek_step_keys_cache_and_latest_wins(qtbot, settings, clip):
    win = _window(qtbot, settings)
    ctl = win.review
    with qtbot.waitSignal(ctl.opened, timeout=15000) as opened:
        ctl.open(str(clip))
    assert opened.args[2] == N_FRAMES and opened.args[3] == pytest.approx(30.0)
    _show(qtbot, win, 0)
    assert not win.pipeline.running, "the live capture must stop in review"
    assert win.findChild(type(win.docks["review"]), "review-dock").isVisible()
    calls = _count_segment_calls(win)

    ctl.seek(20)
    _show(qtbot, win, 20)
    _check_shown(win, 20)
    assert win.review_panel.position_label.text() == "00:00.67 · frame 21 / 60"
    assert win.review_panel.slider.value() == 20

    qtbot.keyClick(win, Qt.Key.Key_Right)
    _show(qtbot, win, 21)
    _check_shown(win, 21)
    qtbot.keyClick(win, Qt.Key.Key_Left)
    _show(qtbot, win, 20)
    _check_shown(win, 20)
    assert calls == [20, 21], "scrubbing back to frame 20 must hit the cache"
    qtbot.keyClick(win, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)  # +1 s
    _show(qtbot, win, 50)
    _check_shown(win, 50)
    qtbot.keyClick(win, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)  # -1 s
    _show(qtbot, win, 20)
    assert calls == [20, 21, 50]

    # dragging the scrub bar: many seeks, latest wins, few are computed
    before = len(calls)
    for i in range(1, 45):
        win.review_panel.slider.setSliderDown(True)
        win.review_panel.slider.setSliderPosition(i)  # emits sliderMoved -> seek
    win.review_panel.slider.setSliderDown(False)
    _show(qtbot, win, 44)
    _check_shown(win, 44)
    assert len(calls) - before < 15, f"{len(calls) - before} seeks computed for one drag"

    # a style change invalidates the cache and recomputes the frame shown
    calls.clear()
    win.overlay_panel.outline.click()
    qtbot.waitUntil(lambda: calls == [44], timeout=15000)
    win.close()


def test_a_click_on_the_scrub_bar_jumps_there(qtbot, settings, clip):
    """A reviewer clicks three quarters along the bar: the clip shows the frame three
    quarters in (a plain QSlider would only move 10 frames towards the click)."""
    from PySide6.QtCore import QPoint

    win = _window(qtbot, settings)
    with qtbot.waitSignal(win.review.opened, timeout=15000):
        win.review.open(str(clip))
    _show(qtbot, win, 0)
    bar = win.review_panel.slider
    qtbot.waitUntil(lambda: bar.isEnabled() and bar.maximum() == N_FRAMES - 1)
    for share in (0.75, 0.25):
        x = round(bar.width() * share)
        qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=QPoint(x, bar.height() // 2))
        want = round(share * (N_FRAMES - 1))
        qtbot.waitUntil(lambda w=want: abs(win.review.index - w) <= 3, timeout=15000)
        index = win.review.index
        _show(qtbot, win, index)
        _check_shown(win, index)
        assert bar.value() == index
        assert win.review_panel.position_label.text().endswith(f"frame {index + 1} / 60")
    win.close()


def test_space_plays_in_order_and_pauses(qtbot, settings, clip):
    win = _window(qtbot, settings)
    ctl = win.review
    ctl.open(str(clip))
    _show(qtbot, win, 0)
    seen: list[int] = []
    ctl.frameShown.connect(lambda r: seen.append(r.frame.index))
    win.review_panel.speed_combo.setCurrentIndex(0)  # 0.25x: 8 s of playback
    assert ctl.speed == 0.25
    with qtbot.waitSignal(ctl.stateChanged, timeout=5000) as st:
        qtbot.keyClick(win, Qt.Key.Key_Space)
    assert st.args == [True]
    assert win.review_panel.play_button.text() != "▶"
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=30000)
    # review frames come through the one bridge, so the status line counts them as live
    win._refresh_status()
    assert win.pipeline.stats.fps() > 0 and win.status_line.fps_label.text() != "0.0 fps"
    with qtbot.waitSignal(ctl.stateChanged, timeout=5000) as st:
        qtbot.keyClick(win, Qt.Key.Key_Space)
    assert st.args == [False]
    assert seen == sorted(set(seen)) and seen[0] >= 1, seen
    assert win.review_panel.play_button.text() == "▶"
    n = len(seen)
    # the worker runs commands in order: once a refresh comes back, playback has stopped
    for _ in range(2):
        with qtbot.waitSignal(ctl.frameShown, timeout=10000):
            ctl.refresh()
    assert seen[-1] == seen[-2] and len(seen) <= n + 3, "frames kept coming after pause"
    _check_shown(win, win.review.index)

    # A–B loop: playback stays between the marks and wraps to A
    ctl.seek(3)
    _show(qtbot, win, 3)
    win.review_panel.a_button.click()
    ctl.seek(6)
    _show(qtbot, win, 6)
    win.review_panel.b_button.click()
    assert ctl.ab == (3, 6)
    assert "frames 4–7" in win.review_panel.ab_label.text()
    seen.clear()
    win.review_panel.speed_combo.setCurrentIndex(1)  # 0.5x
    win.review_panel.play_button.click()
    qtbot.waitUntil(lambda: seen.count(3) >= 2, timeout=30000)
    ctl.pause()
    assert set(seen) <= {3, 4, 5, 6}, seen
    win.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # QDragEnterEvent(QPoint, ...)
def test_corrupt_file_gives_message_then_good_file_opens(qtbot, settings, clip, tmp_path):
    win = _window(qtbot, settings)
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(clip.read_bytes()[:400])
    with qtbot.waitSignal(win.review.error, timeout=15000) as err:
        win.review.open(str(bad))
    assert "broken.mp4" in err.args[0] and "not a readable video" in err.args[0]
    assert win.banner.isVisible() and "broken.mp4" in win.banner.text()
    assert win.pipeline.running, "a failed open must leave the live picture running"

    # the good clip, dropped on the window
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(clip))])
    args = (Qt.DropAction.CopyAction, md, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPointF(50, 50).toPoint(), *args)
    QApplication.sendEvent(win, enter)  # routed by Qt to the window's filter
    assert enter.isAccepted()
    text = QMimeData()
    text.setText("hello")
    refused = QDragEnterEvent(QPointF(50, 50).toPoint(), args[0], text, *args[2:])
    QApplication.sendEvent(win, refused)
    assert not refused.isAccepted()
    # Qt delivers Drop only inside a platform drag session; hand it to the filter directly
    drop = QDropEvent(QPointF(50, 50), *args)
    with qtbot.waitSignal(win.review.opened, timeout=15000):
        assert win.review_windowing.eventFilter(win, drop)
    _show(qtbot, win, 0)
    _check_shown(win, 0)
    assert not win.banner.isVisible()
    assert win.settings.value("review/recent") == [str(clip)]
    assert [a.data() for a in win.review_windowing.recent_menu.actions()] == [str(clip)]
    win.close()


def test_dicom_cine_review_and_snapshot(qtbot, settings, tmp_path):
    from sonolive.app.export.snapshot import capture_snapshot, write_snapshot
    from sonolive.capture.recorder import burn_watermark

    dcm = make_dicom(tmp_path / "cine.dcm", [make_frame(i) for i in range(8)], frame_time_ms=50)
    win = _window(qtbot, settings)
    with qtbot.waitSignal(win.review.opened, timeout=15000) as opened:
        win.review.open(str(dcm))
    assert opened.args[2] == 8 and opened.args[3] == pytest.approx(20.0)  # FrameTime 50 ms
    _show(qtbot, win, 0)
    positions = []
    win.review.positionChanged.connect(lambda *a: positions.append(a))
    win.review.seek(3)
    _show(qtbot, win, 3)
    _check_shown(win, 3)
    assert positions[-1] == (3, 8, pytest.approx(0.15))
    assert win.review_panel.position_label.text() == "00:00.15 · frame 4 / 8"

    # snapshot: the PNG is the view's picture, the JSON carries the frame's figures
    r = win.last_result
    shot = capture_snapshot(win, win.pipeline.segmenter)  # the window is the display port
    png, js = write_snapshot(shot, tmp_path / "snaps")
    img = cv2.cvtColor(cv2.imread(str(png)), cv2.COLOR_BGR2RGB)
    shown = win.view.current_array()
    marked = np.array(shown, copy=True)
    burn_watermark(marked)  # the picture on screen, with the mark every export carries
    assert np.array_equal(img, marked) and not np.array_equal(img, shown)
    meta = json.loads(js.read_text())
    assert meta["not_for_diagnostic_use"] is True
    assert meta["source"] == "cine.dcm" and meta["frame_index"] == 3
    assert meta["time_s"] == pytest.approx(0.15)
    card = win.pipeline.segmenter.card
    assert (
        meta["model"] == card.name == "fast-lite-ungated" and meta["model_version"] == card.version
    )
    assert meta["app_version"] and meta["timestamp"]
    assert meta["classes_present"] == list(r.seg.areas)
    assert meta["areas_px"] == r.seg.areas
    roi = r.frame.height * r.frame.width
    for k, v in r.seg.areas.items():
        assert meta["areas_pct"][k] == pytest.approx(100 * v / roi, abs=1e-3)
        assert meta["confidence"][k] == pytest.approx(r.seg.confidence[k], abs=1e-3)

    # the action writes on the pool; the GUI keeps going
    deep = tmp_path / "action" / ("a-very-long-folder-name-" * 6) / "snapshots"
    settings.setValue("snapshot/folder", str(deep))
    fut = win.snapshots.take()
    png2, js2, _ = fut.result(timeout=10)
    assert png2.parent == deep and png2.exists() and js2.exists()
    # the note keeps the path's end (the file's name) in view, elided from the left so that
    # it ends before the fps figure instead of being cut off there
    bar = win.status_line
    qtbot.waitUntil(lambda: bar.currentMessage().endswith(".png"), timeout=5000)
    note = bar.currentMessage()
    head = "Snapshot saved: …"
    assert note.startswith(head) and str(png2).endswith(note[len(head) :])
    assert bar.fontMetrics().horizontalAdvance(note) < bar.fps_label.x()
    # a folder that cannot be created: a banner, not a crash
    (tmp_path / "file").write_text("x")
    settings.setValue("snapshot/folder", str(tmp_path / "file" / "sub"))
    fut = win.snapshots.take()
    with pytest.raises(OSError):
        fut.result(timeout=10)
    qtbot.waitUntil(lambda: "Snapshot could not be saved" in win.banner.text(), timeout=5000)
    # closing the window ends the snapshot writer (it kept the quit waiting 2 x 20 s)
    pool = win.snapshots.pool
    win.close()
    qtbot.waitUntil(lambda: not pool.alive, timeout=5000)


def test_record_review_frames_shown(qtbot, settings, clip, tmp_path):
    settings.setValue("recording/folder", str(tmp_path / "rec"))
    settings.setValue("recording/redact", "140,100,20,20")  # a corner away from the barcode
    settings.setValue("recording/mode", "both")
    win = _window(qtbot, settings)
    win.review.open(str(clip))
    _show(qtbot, win, 0)
    qtbot.keyClick(win, Qt.Key.Key_R)
    assert win.recording.action.isChecked() and win.recording.recording
    qtbot.waitUntil(
        lambda: win.recording.label.isVisible() and "REC 00:0" in win.recording.label.text()
    )
    for i in range(1, 11):
        win.review.seek(i)
        _show(qtbot, win, i)
    qtbot.keyClick(win, Qt.Key.Key_R)
    assert not win.recording.action.isChecked() and not win.recording.label.isVisible()
    assert win.recording.wait_closed(10)
    rec = win.recording.last_recorder
    assert rec.error is None and rec.frames_written == 10
    raw, over = decode_all(rec.paths["raw"]), decode_all(rec.paths["overlay"])
    assert len(raw) == len(over) == 10
    assert [read_barcode(f) for f in raw] == list(range(1, 11))  # the frames shown, in order
    assert raw[0][102:118, 142:158].max() < 24 and over[0][102:118, 142:158].max() < 24
    assert raw[0][60:100, 0:50].mean() > 60  # elsewhere the picture is kept
    win.close()


def test_record_live_and_write_error_unchecks(qtbot, settings, tmp_path):
    from sonolive.capture.bench_sources import phantom_frames

    settings.setValue("recording/folder", str(tmp_path / "live"))
    settings.setValue("recording/mode", "both")
    frames, truths = phantom_frames(6, 128, seed=1)
    win = _window(qtbot, settings, ReplaySource(frames, fps=30, truths=truths))
    win.recording.action.trigger()
    rec = win.recording.recorder
    qtbot.waitUntil(lambda: rec.frames_written >= 8, timeout=20000)
    win.recording.action.trigger()
    assert win.recording.wait_closed(10)
    raw = decode_all(rec.paths["raw"])
    over = decode_all(rec.paths["overlay"])
    assert abs(len(over) - rec.frames_written) <= 30 and len(over) >= 8
    assert abs(len(raw) - len(over)) <= 1

    # the output folder is a file: the recorder fails on its thread -> banner, unchecked
    (tmp_path / "blocker").write_text("x")
    settings.setValue("recording/folder", str(tmp_path / "blocker" / "rec"))
    win.recording.action.trigger()
    assert win.recording.action.isChecked()
    qtbot.waitUntil(lambda: not win.recording.action.isChecked(), timeout=15000)
    assert "Recording stopped" in win.banner.text()
    assert not win.recording.label.isVisible()
    t0 = time.perf_counter()
    win.close()
    assert time.perf_counter() - t0 < 5
