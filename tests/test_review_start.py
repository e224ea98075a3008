"""A recording opens in Review however it is opened: ``sonolive --mode review --source
clip.mp4`` (it used to play the clip live while the panel read "frame – / –"), the command
line in another mode, the input picker's "Open video file…" and its file entries (they used to
play the file live, a second way to open a file beside File → Open clip)."""

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
    assert panel.play_button.isEnabled() and not panel.hint.isVisibleTo(win)
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
    panel = win.review_panel  # nothing to play: the controls are greyed out, with a hint
    assert not panel.play_button.isEnabled() and not panel.slider.isEnabled()
    assert panel.hint.isVisibleTo(win) and "Open clip" in panel.hint.text()
    # the hint is readable on the panel: its text stands out from the ground (WCAG AA 4.5:1)
    win.show()
    qtbot.waitUntil(panel.hint.isVisible)
    img = panel.hint.grab().toImage()
    ground = img.pixelColor(0, 0)
    lum = [
        _luminance(img.pixelColor(x, y)) for x in range(img.width()) for y in range(img.height())
    ]
    g = _luminance(ground)
    ink = max(lum, key=lambda v: abs(v - g))
    assert (max(ink, g) + 0.05) / (min(ink, g) + 0.05) >= 4.5, (ground.name(), ink, g)
    win.close()


def _luminance(c) -> float:
    """WCAG relative luminance of a QColor."""

    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def test_a_plain_start_after_review_opens_the_last_live_mode(qtbot, settings, tmp_path):
    """The mode is remembered, but a start with nothing to review does not open an empty
    Review panel over the live picture: it opens the mode last used live."""
    from sonolive.app.main_window import MainWindow

    first = MainWindow(source="phantom", model=None, settings=settings, mode="bedside")
    qtbot.addWidget(first)
    first.set_mode("review")  # the user went on to review a clip, and quit there
    first.close()
    assert settings.value("app/mode") == "review"
    plain = MainWindow(source="phantom", model=None, settings=settings)
    qtbot.addWidget(plain)
    assert plain.mode == "bedside" and not plain.docks["review"].isVisibleTo(plain)
    plain.close()
    clip = encode_clip(tmp_path / "exam.mp4", 4)  # with a clip, Review it is
    again = MainWindow(source=str(clip), model=None, settings=settings)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.mode == "review", timeout=20000)
    again.close()


def test_a_clip_opened_while_the_model_loads_shows_segmented_in_review(qtbot, settings, tmp_path):
    """Teaching mode, clip on the command line: Review takes it (no frame plays by live and
    unsegmented during the load), and once the model is there the frame shown is segmented."""
    from sonolive.app.main_window import MainWindow

    clip = encode_clip(tmp_path / "short.mp4", 12)
    win = MainWindow(str(clip), "fast-lite", settings, "cpu", "teaching", "torch")
    qtbot.addWidget(win)
    shown = []
    win.review.frameShown.connect(shown.append)
    win.show()
    qtbot.waitUntil(lambda: win.card is not None, timeout=60000)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1].seg is not None, timeout=20000)
    assert win.mode == "review" and win.review.path == str(clip)
    assert not win.pipeline.running and win.last_result is shown[-1]
    first = len(shown)
    win.review.play()  # played to the end in Review, every frame through the model
    qtbot.waitUntil(lambda: win.review.index == 11 and not win.review.playing, timeout=30000)
    assert len(shown) > first and all(r.seg is not None for r in shown[first:])
    win.close()


def test_the_input_picker_opens_files_in_review(qtbot, settings, tmp_path, monkeypatch):
    from sonolive.app.main_window import MainWindow
    from sonolive.app.review import windowing as review_window
    from sonolive.app.source.picker import OPEN_FILE, PHANTOM

    clip = encode_clip(tmp_path / "exam.mp4", 10)
    asked = []

    def answer(*args, **kwargs):  # the user picks the clip in the one file dialog
        asked.append(args[1])
        return str(clip), ""

    monkeypatch.setattr(review_window.QFileDialog, "getOpenFileName", answer)
    win = MainWindow("phantom", None, settings, "cpu", "teaching", "torch")
    qtbot.addWidget(win)
    win.show()
    c = win.source_picker
    c.setCurrentIndex(c.findData(OPEN_FILE))
    c.activated.emit(c.findData(OPEN_FILE))
    qtbot.waitUntil(lambda: win.review.path == str(clip) and win.review.index == 0, timeout=20000)
    assert asked == ["Open clip"]  # Review's dialog: the same one as File → Open clip
    assert win.mode == "review" and not win.pipeline.running
    qtbot.waitUntil(lambda: c.currentData() == str(clip), timeout=5000)  # the entry follows

    win.review.seek(5)  # a position of its own, so that the reopening shows
    qtbot.waitUntil(lambda: win.review.index == 5, timeout=10000)
    c.setCurrentIndex(0)
    c.activated.emit(0)  # back to the simulated scanner: live again
    qtbot.waitUntil(lambda: win.pipeline.running and win.source.simulated, timeout=10000)
    assert c.currentData() == PHANTOM
    entry = c.findData(str(clip))
    c.setCurrentIndex(entry)
    c.activated.emit(entry)
    qtbot.waitUntil(lambda: not win.pipeline.running and win.review.index == 0, timeout=20000)
    qtbot.waitUntil(lambda: c.currentData() == str(clip), timeout=5000)
    assert win.review.path == str(clip)
    assert len(asked) == 1  # the entry reopened the file without asking again
    win.close()


def test_live_after_a_clip_owns_the_view_and_review_keeps_its_place(qtbot, settings, tmp_path):
    """One hand-off, two producers: once a live input runs, only live frames reach the
    window (a style change no longer re-shows the clip over it), and Review's position
    stays on the clip's frame."""
    from sonolive.app.main_window import MainWindow

    clip = encode_clip(tmp_path / "exam.mp4", 12)
    win = MainWindow(str(clip), None, settings, "cpu", "review", "torch")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.review.index == 0, timeout=20000)
    win.review.seek(7)
    qtbot.waitUntil(lambda: win.review.index == 7, timeout=20000)
    review_frames = []
    win.review.frameShown.connect(review_frames.append)
    win.set_source("phantom")
    qtbot.waitUntil(lambda: win.last_result is not None and win.last_result.origin == "live",
                    timeout=20000)  # fmt: skip
    seen = []
    win.bridge.resultReady.connect(lambda r: seen.append(r.origin))
    win.overlay_panel.outline.click()  # a style change: review refreshes only while it shows
    qtbot.waitUntil(lambda: len(seen) >= 10, timeout=20000)
    assert set(seen) == {"live"} and not review_frames
    assert win.review.index == 7 and "source" not in win.messages
    win.close()
