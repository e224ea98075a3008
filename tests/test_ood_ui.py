"""The window hides the overlay on pictures unlike the model's training data."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from sonolive.capture.mp4_writer import Mp4Writer
from sonolive.capture.replay import ReplaySource
from sonolive.inference.gate.calibrate import as_rgb
from sonolive.inference.gate.marks import draw_gate_line
from sonolive.models.datasets import read_grey

SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples" / "usgra-seg-sample"


def _real_scans() -> list[np.ndarray]:
    """Real linear-probe nerve/vessel scans, at the phantom clip's size."""
    files = sorted((SAMPLES / "images").glob("*.png"))
    return [cv2.resize(as_rgb(read_grey(p)), (256, 256)) for p in files]


def test_overlay_hidden_on_foreign_input_and_show_anyway_resets(qtbot, settings, phantom_frames):
    from sonolive.app.main_window import MainWindow

    frames, truths = phantom_frames
    win = MainWindow(
        ReplaySource(_real_scans(), fps=20), "fast-lite", settings, "cpu", "bedside", "torch"
    )
    qtbot.addWidget(win)
    win.show()
    last = lambda: win.last_result  # noqa: E731

    def plain_line() -> bool:  # masks, names and CAM faded out: the picture and the line only
        r, seg = last(), win.pipeline.segmenter
        if r is None or seg is None or not r.ood_hidden:
            return False
        return np.array_equal(r.image, draw_gate_line(r.frame.pixels, seg.card))

    qtbot.waitUntil(plain_line, timeout=30000)
    r = last()
    assert r.cam_class is None and r.seg.in_distribution is False
    assert "hidden" in win.ood.gauge.toolTip() and win.ood.gauge.value() < 50
    assert not win.ood.action.isChecked()

    win.ood.action.trigger()  # "Show anyway": the overlay returns, marked
    qtbot.waitUntil(lambda: last().ood_shown_anyway, timeout=20000)
    r = last()
    h = r.image.shape[0]
    assert not np.array_equal(r.image[: h * 3 // 4], r.frame.pixels[: h * 3 // 4])

    win.set_source(ReplaySource(frames, fps=20, truths=truths))  # a new source resets it
    assert not win.ood.action.isChecked() and not win.pipeline.show_ood
    qtbot.waitUntil(
        lambda: last().seg is not None and last().seg.in_distribution and not last().ood_hidden,
        timeout=20000,
    )
    r = last()
    assert not np.array_equal(r.image, r.frame.pixels)  # the model's own data: overlay drawn
    assert "hidden" not in win.ood.gauge.toolTip() and win.ood.gauge.value() > 50
    win.close()


def test_review_judges_a_paused_frame_alone_and_show_anyway_redraws_it(qtbot, settings, tmp_path):
    """A clip opened in Review stops on its first frame: that frame alone must hide the
    overlay (no 0.5 s hold while nothing plays), and "Show anyway" redraws it at once."""
    from sonolive.app.main_window import MainWindow

    clip = tmp_path / "nerve.mp4"
    with Mp4Writer(clip, 30) as out:
        for img in _real_scans():
            out.write(img)
    win = MainWindow(str(clip), "fast-lite", settings, "cpu", "review", "torch")
    qtbot.addWidget(win)
    win.show()
    got = []

    def judged_first_frame() -> bool:  # composed again once the model has loaded
        r = win.last_result
        if r is not None and r.seg is not None and r.frame.index == 0:
            got.append(r)
        return bool(got)

    qtbot.waitUntil(judged_first_frame, timeout=30000)
    r = got[0]
    assert r.frame.index == 0 and r.seg.in_distribution is False
    assert r.ood_hidden and not r.ood_shown_anyway, "a paused foreign frame must be gated"
    assert np.array_equal(r.image, draw_gate_line(r.frame.pixels, win.pipeline.segmenter.card))
    win.ood.action.trigger()
    qtbot.waitUntil(lambda: win.last_result.ood_shown_anyway, timeout=20000)
    assert win.last_result.frame.index == 0  # the same frame, drawn again with the mark
    win.close()
