"""The network's input made on the capture thread: the same input as the inference thread
would make, used only by a model it fits, and the areas counted at the frame's size."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import torch
from sonolive.capture.bench_sources import phantom_frames as make_frames
from sonolive.capture.replay import ReplaySource
from sonolive.inference.host_prep import shrink
from sonolive.inference.pipeline import Pipeline
from sonolive.inference.segmenter import Segmenter


def test_shrink_averages_areas_like_opencv_and_is_exact_for_whole_factors():
    # a one-pixel checkerboard: an area filter gives flat grey, a point sampler would alias
    yy, xx = np.mgrid[0:1080, 0:1080]
    board = (((yy + xx) % 2) * 255).astype(np.uint8)
    got = shrink(board, 192, 192)
    assert got.shape == (192, 192)
    assert np.abs(got.astype(int) - 127).max() <= 20
    # on a real picture it stays within a grey level or two of OpenCV's one-step area resize
    rgb = make_frames(1, 1080, seed=4)[0][0]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    ref = cv2.resize(grey, (192, 192), interpolation=cv2.INTER_AREA)
    assert np.abs(shrink(grey, 192, 192).astype(int) - ref).mean() < 2.0
    # a whole factor is one area step, identical to OpenCV's
    whole = np.random.default_rng(0).integers(0, 256, (960, 960), np.uint8)
    one_step = cv2.resize(whole, (192, 192), interpolation=cv2.INTER_AREA)
    assert (shrink(whole, 192, 192) == one_step).all()
    small = whole[:100, :120]
    assert shrink(small, 192, 192).shape == (192, 192)  # smaller pictures grow


def test_prepared_input_gives_the_same_segmentation(lite_model, phantom_frames):
    seg = Segmenter(lite_model, device="cpu", dtype=torch.float32)
    rgb = phantom_frames[0][3]
    direct = seg.segment_pixels(rgb)
    prep = seg.host_preprocessor
    assert prep is not None
    from sonolive.capture.frame import Frame

    f = Frame(pixels=rgb, timestamp=0.0, index=0)
    f.net_input = (prep.key, prep(rgb), 0.0)
    via = seg.segment(f)
    assert (via.labels == direct.labels).all()
    assert via.areas == direct.areas
    assert via.areas == {
        n: int((direct.labels == i).sum())
        for i, n in enumerate(seg.card.class_names)
        if i and (direct.labels == i).any()
    }


def test_input_prepared_for_another_model_is_not_used(lite_model, phantom_frames):
    seg = Segmenter(lite_model, device="cpu", dtype=torch.float32)
    rgb = phantom_frames[0][5]
    from sonolive.capture.frame import Frame

    f = Frame(pixels=rgb, timestamp=0.0, index=0)
    wrong = np.zeros((1, 1, 64, 64), np.float32)  # what a 64 x 64 model would take
    f.net_input = ((64, 64, 1, (0.0,), (1.0,)), wrong, 0.0)
    assert (seg.segment(f).labels == seg.segment_pixels(rgb).labels).all()
    on_device = Segmenter(seg.model, device="cpu", dtype=torch.float32, route="device")
    assert on_device.host_preprocessor is None  # the device route resizes on the device


def test_live_frames_arrive_with_their_input_prepared_on_the_capture_thread(lite_model):
    imgs, _ = make_frames(6, "640x360", seed=2)
    seg = Segmenter(lite_model, device="cpu", dtype=torch.float32)
    src = ReplaySource(imgs, fps=60.0, name="replay", simulated=True)
    got = threading.Event()
    seen = []
    pipe = Pipeline(src, seg, on_result=got.set)
    original = seg.segment

    def spy(frame, *rest):
        seen.append((frame.net_input is not None, threading.current_thread().name))
        return original(frame, *rest)

    seg.segment = spy
    pipe.start()
    try:
        assert got.wait(20)
        r = pipe.results.take(timeout=5)
        assert r is not None and r.seg is not None
    finally:
        pipe.stop()
    assert seen and all(ready for ready, _ in seen)
    assert all(name == "sonolive-infer" for _, name in seen)
    assert r.timings.preprocess > 0  # timed where it ran, inside the added latency
