"""``sonolive --mode review --source clip.mp4`` opens the clip in Review, controls connected
(it used to play the clip live while the panel read "frame – / –")."""

from __future__ import annotations

from media_helpers import encode_clip
from sonolive.app.cli import build_parser


def test_review_mode_with_a_clip_opens_it_in_review(qtbot, settings, tmp_path):
    from sonolive.app.main_window import MainWindow

    clip = encode_clip(tmp_path / "exam.mp4", 20)
    args = build_parser().parse_args(["--mode", "review", "--source", str(clip)])
    win = MainWindow(
        source=args.source, model="fast-lite", settings=settings, device="cpu", mode=args.mode,
        backend="torch",
    )  # fmt: skip
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.review.index == 0, timeout=20000)
    panel = win.review_panel
    assert win.review.path == str(clip) and win.review.count == 20
    assert not win.pipeline.running  # not played live behind the panel
    assert "frame 1 / 20" in panel.position_label.text()
    assert win.docks["review"].isVisible()
    panel.step_fwd.click()  # the panel's controls drive this clip
    qtbot.waitUntil(lambda: win.review.index == 1, timeout=10000)
    assert "frame 2 / 20" in panel.position_label.text()
    assert panel.slider.maximum() == 19 and panel.slider.value() == 1
    win.close()


def test_review_mode_with_the_phantom_stays_live(qtbot, settings):
    from sonolive.app.main_window import MainWindow

    win = MainWindow(source="phantom", model=None, settings=settings, mode="review")
    qtbot.addWidget(win)
    assert win.pipeline.running and win.review.path is None
    win.close()
