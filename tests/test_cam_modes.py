"""CAM heatmaps (torchcam, Seg-Grad-CAM) and the Bedside / Teaching / Review modes."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from sonolive.capture.replay import ReplaySource
from sonolive.inference.cam.engine import LIVE_METHODS, CamEngine
from sonolive.inference.overlay import Overlay, OverlayStyle
from sonolive.inference.pipeline import Pipeline
from sonolive.inference.segmenter import Segmenter


@pytest.mark.parametrize("method", LIVE_METHODS)
def test_cam_map_has_frame_size_and_normalised_range(lite_model, phantom_frames, method):
    rgb = phantom_frames[0][2]
    eng = CamEngine(lite_model, method=method, device="cpu")
    heat = eng.compute(rgb, 1)
    eng.close()
    assert heat.shape == rgb.shape[:2] and heat.dtype == np.float32
    assert heat.min() == pytest.approx(0.0, abs=1e-6) and heat.max() == pytest.approx(1.0, abs=1e-6)


def test_cam_peak_falls_inside_the_organ_on_phantom_frames(lite_model):
    """Known geometry: every phantom frame comes with its exact mask."""
    from sonolive.capture.phantom import phantom_samples

    eng = CamEngine(lite_model, device="cpu")
    hits, total = 0, 0
    for img, mask in phantom_samples(seed=424242, frames=12, size=256):
        rgb = np.repeat(img[..., None], 3, axis=2)
        for c in np.unique(mask):
            if c == 0 or (mask == c).sum() < 400:
                continue
            heat = eng.compute(rgb, int(c))
            y, x = np.unravel_index(int(heat.argmax()), heat.shape)
            hits += int(mask[y, x] == c)
            total += 1
    eng.close()
    assert total >= 15
    assert hits / total >= 0.8, f"CAM peak inside the organ in only {hits}/{total} cases"


def _wait_until(pred, timeout: float = 30.0) -> None:
    """Wait on a condition, checking it at 100 Hz (threads here signal nothing we can join)."""
    tick = threading.Event()
    deadline = time.perf_counter() + timeout
    while not pred():
        assert time.perf_counter() < deadline, "condition not reached in time"
        tick.wait(0.01)


def _mask_fps(pipe: Pipeline, frames: int) -> float:
    """Masks per second over the next ``frames`` results handed to the view."""
    n0, t0 = pipe.stats.frames, time.perf_counter()
    _wait_until(lambda: pipe.stats.frames >= n0 + frames)
    return (pipe.stats.frames - n0) / (time.perf_counter() - t0)


def test_cam_runs_beside_the_masks(lite_model, phantom_frames):
    """Masks keep flowing while the CAM makes maps (how fast each runs is a benchmark's
    question: ``sonolive bench --cam``, not a timed assertion here)."""
    from sonolive.inference.cam.control import CamControl

    frames, truths = phantom_frames
    done = []
    pipe = Pipeline(
        ReplaySource(frames, fps=15, truths=truths), Segmenter(lite_model, device="cpu")
    )
    pipe.set_listeners(
        on_result=lambda: (
            (r := pipe.results.take_nowait()) and (r.finish_handoff(pipe.stats), done.append(r))
        )
    )
    pipe.start()
    try:
        _wait_until(lambda: pipe.stats.frames >= 10)  # warm-up
        cam = CamControl(pipe, device="cpu")
        cam.set_model(lite_model)
        cam.configure(True, None, "gradcam", None)
        _wait_until(lambda: cam.worker.computed >= 1)
        _mask_fps(pipe, 45)
        computed = cam.worker.computed
        cam.configure(False)
    finally:
        pipe.stop()
    assert computed >= 3, "the CAM worker should have produced maps meanwhile"
    assert any(r.cam_age is not None for r in done), "composed frames should carry the CAM age"


def test_bedside_style_draws_one_large_name_at_the_centre(lite_model):
    card = lite_model.card
    rgb = np.full((400, 400, 3), 60, np.uint8)
    labels = np.zeros((400, 400), np.uint8)
    labels[100:300, 100:300] = 1  # an organ under the centre
    labels[10:60, 10:60] = 2  # another one off-centre
    bedside = Overlay(
        card, OverlayStyle(opacity=0.18, center_label_only=True, label_scale=1.6)
    ).compose(rgb, labels)
    teaching = Overlay(card, OverlayStyle(opacity=0.45)).compose(rgb, labels)
    assert [a.name for a in bedside.labels] == [card.classes[1].display]
    assert {a.name for a in teaching.labels} == {card.classes[1].display, card.classes[2].display}
    white_b = (bedside.image == 255).all(axis=2)
    white_t = (teaching.image == 255).all(axis=2)
    ys, xs = np.nonzero(white_b)
    assert abs(ys.mean() - 200) < 30 and abs(xs.mean() - 200) < 60
    assert white_b.sum() > 1.5 * white_t[100:300, 100:300].sum()  # larger text


def _window(qtbot, settings, frames, truths, mode):
    from sonolive.app.main_window import MainWindow

    win = MainWindow(
        source=ReplaySource(frames, fps=20, truths=truths, simulated=True),
        model="fast-lite",
        settings=settings,
        device="cpu",
        mode=mode,
        backend="torch",
    )
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitUntil(
        lambda: win.last_result is not None and win.last_result.seg is not None, timeout=60000
    )
    return win


def test_teaching_mode_shows_legend_cam_and_side_by_side(qtbot, settings, phantom_frames):
    frames, truths = phantom_frames
    win = _window(qtbot, settings, frames, truths, "teaching")
    assert win.docks["legend"].isVisible() and win.docks["cam"].isVisible()
    assert win.side_action.isChecked() and win.cam_panel.enabled.isChecked()
    # a frame drawn with a map (the last map stays, however old, until a newer one or a
    # cut; on a loaded machine the CAM, at a lower priority, comes late: a long wait)
    drawn = []

    def heat_drawn() -> bool:
        r = win.last_result
        if r is not None and r.cam_age is not None:
            drawn.append(r)
        return bool(drawn)

    qtbot.waitUntil(heat_drawn, timeout=120000)
    r = drawn[0]
    # raw | overlay: the view holds both pictures side by side
    shown = win.view.current_array()
    assert shown.shape[1] > 2 * r.frame.width
    assert (shown[:, : r.frame.width] == r.frame.pixels).all()
    # the heatmap is blended in: the picture differs from the same overlay without heat
    no_heat = Overlay(win.card, win.pipeline.style).compose(r.frame.pixels, r.seg.labels).image
    assert (r.image != no_heat).any(axis=2).mean() > 0.005
    # the legend names every class and gives a confidence for those present
    assert set(win.legend.rows) == set(win.card.class_names[1:])
    present = next(iter(r.seg.confidence))
    qtbot.waitUntil(lambda: "%" in win.legend.rows[present][2].text(), timeout=30000)
    # the legend's swatches are painted in the class colours (read back from the widget)
    for c in win.card.classes[1:]:
        sw = win.legend.rows[c.name][0]
        img = sw.grab().toImage()
        row = [img.pixelColor(x, img.height() // 2) for x in range(img.width())]
        painted = sum((p.red(), p.green(), p.blue()) == tuple(c.color) for p in row)
        assert painted >= 12, f"the {c.name} swatch is not painted in {c.color}"
    win.close()


def test_bedside_mode_is_minimal_and_switching_never_stops_the_pipeline(
    qtbot, settings, phantom_frames
):
    frames, truths = phantom_frames
    win = _window(qtbot, settings, frames, truths, "teaching")
    threads = list(win.pipeline._threads)
    assert win.pipeline.temporal is None  # Teaching shows each frame on its own
    win.mode_actions["bedside"].trigger()
    filt = win.pipeline.temporal  # Bedside smooths the overlay over frames
    assert filt is not None
    assert win.mode == "bedside"
    assert not win.docks["legend"].isVisible() and not win.docks["overlay"].isVisible()
    assert not win.main_toolbar.isVisible() and win.mode_bar.isVisible()
    assert win.pipeline.style.center_label_only and win.pipeline.style.opacity < 0.3
    n = win.pipeline.stats.frames
    qtbot.waitUntil(lambda: win.pipeline.stats.frames >= n + 5, timeout=10000)
    r = win.last_result
    assert r.cam_age is None  # no heatmap at the bedside
    qtbot.waitUntil(lambda: filt._probs is not None, timeout=10000)  # live frames went through it
    assert win.view.current_array().shape == r.frame.pixels.shape  # one picture, no split
    win.mode_actions["review"].trigger()
    win.mode_actions["teaching"].trigger()
    assert win.pipeline.temporal is None
    assert win.pipeline._threads == threads and all(t.is_alive() for t in threads)
    win.close()


def test_each_mode_remembers_its_settings(qtbot, settings, phantom_frames):
    frames, truths = phantom_frames
    win = _window(qtbot, settings, frames, truths, "teaching")
    win.overlay_panel.opacity.setValue(70)
    win.mode_actions["bedside"].trigger()
    assert win.overlay_panel.opacity.value() == 18
    win.mode_actions["teaching"].trigger()
    assert win.overlay_panel.opacity.value() == 70
    win.close()
    again = _window(qtbot, settings, frames, truths, None)
    assert again.mode == "teaching" and again.overlay_panel.opacity.value() == 70
    again.close()


def test_presenter_view_mirrors_the_picture(qtbot, settings, phantom_frames):
    frames, truths = phantom_frames
    win = _window(qtbot, settings, frames, truths, "teaching")
    win.presenter_action.trigger()
    assert win.presenter is not None and win.presenter.isVisible()
    n = win.presenter.view.frames_shown
    qtbot.waitUntil(lambda: win.presenter.view.frames_shown >= n + 3, timeout=10000)
    assert "Not for diagnostic use" in win.presenter.view.marks
    win.presenter_action.trigger()
    win.close()


def test_the_last_frame_of_an_ended_clip_gets_its_own_map(lite_model, phantom_frames):
    """At 2 pictures a second every map is for a picture no longer on screen when it is done
    (so it is hidden); once the clip has ended, the last picture is composed again with its
    own map, once."""
    from sonolive.capture.replay import ReplaySource
    from sonolive.inference.cam.control import CamControl
    from sonolive.inference.pipeline import Pipeline
    from sonolive.inference.segmenter import Segmenter

    frames, _ = phantom_frames
    src = ReplaySource(frames[:4], fps=2.0, loop=False)
    results = []
    got = threading.Event()
    pipe = Pipeline(src, Segmenter(lite_model, device="cpu"), on_result=got.set)
    pipe.add_sink(results.append)
    cam = CamControl(pipe, device="cpu")
    cam.set_model(lite_model)
    cam.configure(True, None, "layercam", None)
    pipe.start()
    try:
        deadline = time.monotonic() + 60

        def own_map_on_last() -> bool:
            return any(r.frame.index == 3 and r.cam_age == 0 for r in results)

        while not own_map_on_last() and time.monotonic() < deadline:
            got.wait(0.1)
            got.clear()
        assert own_map_on_last()
        last = [r for r in results if r.frame.index == 3]
        assert len(last) == 2  # composed once as it came, once more with its own map
    finally:
        cam.configure(False)
        pipe.stop()
