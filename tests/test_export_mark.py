""" "Not for diagnostic use" is burned into every picture that leaves the app: the ``process``
MP4, the overlay recording, snapshots. Checked on the pixels read back from the files."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from media_helpers import decode_all, encode_clip
from sonolive.capture.recorder import burn_watermark


def mark_pixels(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the mark's white letters and its dark outline fall on an ``h x w`` picture."""
    grey = np.full((h, w, 3), 128, np.uint8)
    burn_watermark(grey)
    g = grey[..., 1].astype(int)
    return g > 200, g < 30


def assert_marked(img: np.ndarray) -> None:
    white, dark = mark_pixels(*img.shape[:2])
    assert white.sum() > 50 and dark.sum() > 50
    g = img[..., 1].astype(int)
    # lossy video blurs the letters: compare the letters with their outline, not exact values
    assert g[white].mean() > 190, f"letters {g[white].mean():.0f}"
    assert g[dark].mean() < 80, f"outline {g[dark].mean():.0f}"


def assert_unmarked(img: np.ndarray) -> None:
    white, dark = mark_pixels(*img.shape[:2])
    g = img[..., 1].astype(int)
    assert not (g[white].mean() > 190 and g[dark].mean() < 80)


def test_process_mp4_carries_the_mark(tmp_path):
    from sonolive.app.cli import main

    clip = encode_clip(tmp_path / "in.mp4", 6, 640, 480)
    out = tmp_path / "OUT"
    rc = main(["process", str(clip), "-o", str(out), "--device", "cpu", "--backend", "torch"])
    assert rc == 0
    frames = decode_all(next(out.glob("*.mp4")))
    assert len(frames) == 6
    assert_unmarked(decode_all(clip)[0])  # the input had no mark of its own
    for f in frames:
        assert_marked(f)


def test_overlay_recording_carries_the_mark_even_with_the_watermark_option_off(tmp_path):
    from sonolive.capture.recorder import Recorder

    grey = [np.full((480, 640, 3), 128, np.uint8) for _ in range(4)]
    rec = Recorder(tmp_path / "rec.mp4", fps=30, mode="both", watermark=False, queue_size=64)
    for f in grey:
        assert rec.write(f, f)
    rec.close()
    over = decode_all(rec.paths["overlay"])
    raw = decode_all(rec.paths["raw"])
    assert len(over) == len(raw) == 4
    for f in over:
        assert_marked(f)
    assert_unmarked(raw[0])  # the raw scanner picture is marked only when asked


def test_snapshot_png_carries_the_mark(qtbot, settings, tmp_path, phantom_frames):
    from PySide6.QtCore import Qt
    from sonolive.app.main_window import MainWindow
    from sonolive.capture.replay import ReplaySource

    frames, truths = phantom_frames
    settings.setValue("snapshot/folder", str(tmp_path / "snaps"))
    win = MainWindow(
        source=ReplaySource(frames, fps=10, truths=truths, simulated=True),
        model="fast-lite",
        settings=settings,
        device="cpu",
        mode="teaching",
        backend="torch",
    )
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.view.current_array() is not None, timeout=20000)
    with qtbot.waitSignal(win.snapshots.saved, timeout=20000) as saved:
        qtbot.keyClick(win.view, Qt.Key.Key_S)
    png = saved.args[0]
    img = cv2.cvtColor(cv2.imread(png), cv2.COLOR_BGR2RGB)
    assert_marked(img)
    win.close()


@pytest.mark.parametrize("size", [(120, 160), (1080, 1920)])
def test_the_mark_is_legible_at_any_size(size):
    img = np.zeros((*size, 3), np.uint8)
    burn_watermark(img)
    white, _ = mark_pixels(*size)
    assert white.sum() > 0.002 * size[0] * size[1] * 0.2
