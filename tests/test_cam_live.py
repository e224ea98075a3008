"""CAM for teaching: maps from the mask path's own forward pass, a map that stays until a
newer one replaces it, and a paused or stepped review frame that gets its own map."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sonolive.capture.frame import Frame
from sonolive.capture.replay import ReplaySource
from sonolive.inference.cam.control import CamControl
from sonolive.inference.cam.engine import CamEngine, CamWorker
from sonolive.inference.cam.taps import MaskTap
from sonolive.inference.pipeline import Pipeline
from sonolive.inference.segmenter import Segmenter


class Collector:
    """The view's part: takes each published frame and lets a test wait on a condition."""

    def __init__(self, pipe: Pipeline, player=None) -> None:  # noqa: ANN001
        self.pipe, self.player = pipe, player
        self.cond = threading.Condition()
        self.results: list = []

    def take(self) -> None:
        r = self.pipe.results.take_nowait()
        if r is None:
            return
        r.finish_handoff(self.pipe.stats)
        if self.player is not None:
            self.player.mark_shown(r)
        with self.cond:
            self.results.append(r)
            self.cond.notify_all()

    def wait(self, pred, timeout: float = 60.0) -> None:
        with self.cond:
            assert self.cond.wait_for(pred, timeout), "condition not reached"


def _view_frames(view: str, n: int, size: int = 256, t0: float = 0.0) -> list[np.ndarray]:
    import cv2
    from sonolive.capture.phantom import PhantomScanner

    sc = PhantomScanner(seed=5, size=size)
    return [
        cv2.cvtColor(sc.render(t0 + i / 30.0, view=view)[0], cv2.COLOR_GRAY2RGB) for i in range(n)
    ]


@pytest.mark.parametrize("backend", ["torch", "onnx"])
@pytest.mark.parametrize("layer", ["ups.2", "ups.0", "downs.1"])
def test_a_map_from_the_mask_pass_equals_the_cams_own_forward(lite_model, backend, layer):
    """The tail from the tapped activations is the same network: the same map."""
    from sonolive.inference.backends import make_segmenter

    seg = make_segmenter("fast-lite", device="cpu", backend=backend)
    rgb = _view_frames("ruq", 1)[0]
    eng = CamEngine(seg.torch_model, method="layercam", layer=layer, device="cpu")
    got = []
    tap = MaskTap(seg, layer, lambda f, t: got.append((f, t)))
    assert tap.install()
    frame = Frame(rgb, 0.0, 0)
    seg.segment(frame)
    tap.remove()
    assert seg.cam_tap is None and len(got) == 1 and got[0][0] is frame
    assert seg.net is not tap._onnx, "the plain network is back once CAM is off"
    tail = eng.compute(rgb, 1, got[0][1])
    own = eng.compute(rgb, 1, None)
    eng.close()
    assert tail.shape == rgb.shape[:2] and float(tail.max()) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(tail, own, atol=2e-3)


def test_live_maps_come_from_the_mask_pass_and_stay_on_screen(lite_model):
    """Every frame after the first map carries a map (no age cut-off making it blink), and
    the maps are made from the mask path's activations."""
    frames = _view_frames("ruq", 12)
    pipe = Pipeline(ReplaySource(frames, fps=15, loop=True), Segmenter(lite_model, device="cpu"))
    col = Collector(pipe)
    pipe.set_listeners(on_result=col.take)
    cam = CamControl(pipe, device="cpu")
    cam.set_model(lite_model)
    cam.configure(True, None, "layercam", None)
    pipe.start()
    try:
        col.wait(lambda: cam.worker.with_taps >= 3)
        n0 = len(col.results)
        col.wait(lambda: len(col.results) >= n0 + 40)
        later = col.results[n0 : n0 + 40]
    finally:
        cam.configure(False)
        pipe.stop()
    assert all(r.cam_class is not None and r.cam_age is not None for r in later), [
        r.cam_age for r in later
    ]
    assert cam.tap is None and pipe.segmenter.cam_tap is None


def test_a_map_stays_until_a_cut_and_its_age_is_the_frames_between(lite_model):
    """No time cut-off: a map made for a view is drawn on that view a second later; another
    view (a cut) hides it, and it stays hidden until a new map comes."""
    ruq = _view_frames("ruq", 31)
    other = _view_frames("suprapubic", 1)[0]
    worker = CamWorker(CamEngine(lite_model, device="cpu"), class_idx=None, max_hz=50)
    maps = threading.Event()
    worker.on_map = lambda f: maps.set()
    try:
        first = Frame(ruq[0], 0.0, 0)
        worker.offer(first)
        assert maps.wait(60)
        heat, _, age = worker.latest_for(first)
        assert heat is not None and age == 0
        heat, _, age = worker.latest_for(Frame(ruq[30], 1.0, 30))
        assert heat is not None and age == 30, "a map a second old on the same view stays"
        heat, _, age = worker.latest_for(Frame(other, 1.1, 31))
        assert heat is None and age is None, "a cut hides the map"
        heat, _, _ = worker.latest_for(Frame(ruq[30], 1.2, 32))
        assert heat is None, "once hidden, it waits for a new map"
        maps.clear()
        worker.offer(Frame(ruq[1], 1.3, 33))
        assert maps.wait(60)
        heat, _, age = worker.latest_for(Frame(ruq[2], 1.35, 34))
        assert heat is not None and age == 1
    finally:
        worker.stop()


@pytest.fixture
def phantom_clip(tmp_path):
    from sonolive.capture.mp4_writer import Mp4Writer

    path = tmp_path / "ruq.mp4"
    with Mp4Writer(path, 30) as w:
        for rgb in _view_frames("ruq", 20):
            w.write(rgb)
    return path


def test_a_stepped_or_paused_review_frame_gets_its_own_map(lite_model, phantom_clip):
    """Without pressing Play: the frame on screen is composed again with its own map."""
    from sonolive.inference.player import ClipPlayer, PlayerEvents

    pipe = Pipeline(None, Segmenter(lite_model, device="cpu"))
    player = ClipPlayer(pipe, PlayerEvents())
    col = Collector(pipe, player)
    pipe.set_listeners(on_result=col.take)
    cam = CamControl(pipe, device="cpu")
    cam.set_model(lite_model)
    cam.configure(True, None, "layercam", None, review=True)
    try:

        def own_map(index: int):
            return lambda: any(
                r.frame.index == index and r.cam_age == 0 and r.origin == "review"
                for r in col.results
            )

        player.open(phantom_clip)
        col.wait(own_map(0))
        player.step(1)
        col.wait(own_map(1))
        player.seek(10)
        col.wait(own_map(10))
        player.play()
        col.wait(lambda: any(r.frame.index > 12 for r in col.results))
        player.pause()
        # the frame left on screen (the newest published) carries its own map in the end;
        # a loaded machine only makes that later (the CAM runs at a lower priority)
        col.wait(lambda: col.results[-1].cam_age == 0, timeout=180.0)
    finally:
        cam.configure(False)
        assert player.close(timeout=5.0)


def test_a_review_frame_shown_again_from_the_cache_gets_its_own_map_again(lite_model, phantom_clip):
    """The frame on screen, composed again with its own map, is shown once more from the
    player's cache (a seek to it, a refresh): that showing, made before the map, lacks it,
    and it gets it again. The settle worker used to skip a frame it had redone once: the
    frame stayed without its map for good."""
    from sonolive.inference.player import ClipPlayer, PlayerEvents

    pipe = Pipeline(None, Segmenter(lite_model, device="cpu"))
    player = ClipPlayer(pipe, PlayerEvents())
    col = Collector(pipe, player)
    pipe.set_listeners(on_result=col.take)
    cam = CamControl(pipe, device="cpu")
    cam.set_model(lite_model)
    cam.configure(True, None, "layercam", None, review=True)
    worker = cam.worker
    real_map_ready = worker.on_map

    def on_map(frame: Frame) -> None:  # each map done wakes the waiter too
        real_map_ready(frame)
        with col.cond:
            col.cond.notify_all()

    worker.on_map = on_map
    try:
        player.open(phantom_clip)
        # composed again with its own map, and that showing's own map made (it went through
        # the mask path again): the CAM is idle
        col.wait(
            lambda: (
                bool(col.results)
                and col.results[-1].cam_age == 0
                and worker.state is not None
                and worker.state.frame is col.results[-1].frame
                and not worker.slot.pending()
            )
        )
        n = len(col.results)
        player.seek(0)  # the frame on screen: the player's cached showing, without its map
        col.wait(lambda: len(col.results) > n)
        assert col.results[n].cam_age != 0 and player.process_calls == 1
        col.wait(lambda: col.results[-1].cam_age == 0, timeout=180.0)
        assert col.results[-1].frame.index == 0
    finally:
        cam.configure(False)
        assert player.close(timeout=5.0)


@pytest.mark.parametrize(
    "method",
    ["auto", "gradcam", "gradcam++", "xgradcam", "layercam", "smoothgradcam++", "scorecam"],
)
def test_bench_reports_a_cam_figure_for_every_method_it_lists(method, tmp_path, capsys):
    import json

    from sonolive.app.cli import main
    from sonolive.inference.choices import CAM_CHOICES

    assert method in CAM_CHOICES
    js = tmp_path / "b.json"
    argv = ["bench", "--frames", "30", "--size", "256", "--device", "cpu", "--backend", "torch"]
    assert main([*argv, "--cam", method, "--json", str(js)]) == 0
    res = json.loads(js.read_text())
    out = capsys.readouterr().out
    assert "cam_hz" in res and f"CAM {res['cam_method']}: {res['cam_hz']} maps/s" in out
    assert (res["cam_ms_last"] or 0) > 0, res.get("cam_note")
    if method not in ("smoothgradcam++", "scorecam"):  # review methods: a map can take > 1 s
        assert res["cam_maps"] >= 1, res
    if method in ("auto", "layercam"):
        assert res["cam_method"].endswith("layercam") or "(layercam)" in res["cam_method"]
        assert res["cam_from_mask_pass"] >= 1, "live maps reuse the mask path's forward pass"


def test_teaching_window_shows_the_map_and_its_real_age(qtbot, settings):
    """The real window in Teaching mode on a clip that ends: the last picture gets its own
    map, drawn on screen, and the CAM panel says it is 0 frames old."""
    from sonolive.app.main_window import MainWindow

    frames = _view_frames("subxiphoid", 3)
    win = MainWindow(
        source=ReplaySource(frames, fps=5, loop=False, simulated=True),
        model="fast-lite",
        settings=settings,
        device="cpu",
        mode="teaching",
        backend="torch",
    )
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    assert win.cam_panel.enabled.isChecked()

    def own_map_on_screen() -> bool:
        r = win.last_result
        return r is not None and r.frame.index == 2 and r.cam_age == 0

    qtbot.waitUntil(own_map_on_screen, timeout=60000)
    qtbot.waitUntil(lambda: "0 frames old" in win.cam_panel.age.text(), timeout=10000)
    r = win.last_result
    plain = win.pipeline.overlay.compose(r.frame.pixels, r.seg.labels, None, 99.0).image
    hot = np.abs(r.image.astype(int) - plain.astype(int)).max(axis=2) > 40
    assert hot.mean() > 0.01, "the heatmap is drawn on the picture"
    win.close()
