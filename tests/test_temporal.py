"""Temporal stability: flicker and presence figures, and the live filter on a real model."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sonolive.inference.temporal import (
    FlickerMeter,
    PresenceHysteresis,
    PresenceMeter,
    TemporalFilter,
    clip_samples,
    present,
)

NAMES = ("background", "organ")


def _disc(cx: int, r: int = 10, size: int = 64) -> np.ndarray:
    m = np.zeros((size, size), np.uint8)
    cv2.circle(m, (cx, 32), r, 1, -1)
    return m


def test_flickering_prediction_scores_above_one() -> None:
    fm = FlickerMeter(NAMES)
    for i in range(10):
        truth = _disc(20 + i)  # the anatomy drifts one pixel a frame
        pred = truth if i % 2 else np.zeros_like(truth)  # the overlay blinks
        fm.add(pred, truth)
    assert fm.result()["organ"]["flicker_ratio"] > 1.0


def test_still_prediction_scores_zero_and_empty_pairs_are_skipped() -> None:
    fm = FlickerMeter(NAMES)
    for i in range(10):
        fm.add(_disc(30), _disc(20 + i))
    r = fm.result()["organ"]
    assert r["flicker_ratio"] == 0.0
    empty = FlickerMeter(NAMES)
    for _ in range(3):
        empty.add(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint8))
    assert empty.result()["organ"] == {
        "flicker_ratio": None,
        "pred_change": None,
        "true_change": None,
        "pairs": 0,
    }


def test_presence_on_a_hand_made_case() -> None:
    assert present(100, 10_000, 0.01) and not present(99, 10_000, 0.01)
    pm = PresenceMeter()
    pm.add(True, True, "ruq")
    pm.add(False, True, "ruq")
    pm.add(False, False, "luq")
    pm.add(True, False, "luq")
    pm.add(False, False, "luq")
    r = pm.result()
    assert r["overall"]["sensitivity"] == 0.5
    assert r["overall"]["specificity"] == pytest.approx(2 / 3, abs=1e-4)
    assert r["per_view"]["ruq"]["specificity"] is None
    assert r["per_view"]["luq"]["specificity"] == pytest.approx(2 / 3, abs=1e-4)
    h = PresenceHysteresis(0.01, 0.005)
    assert [h.update(a, 10_000) for a in (120, 70, 40, 80)] == [True, True, False, False]


@pytest.fixture(scope="module")
def lite():
    from sonolive.inference.backends import make_segmenter

    return make_segmenter("fast-lite", device="cpu", backend="torch")


def _run(seg, samples, filt):
    seg.output_filter = filt
    fm = FlickerMeter(seg.card.class_names)
    try:
        for img, mask, _ in samples:
            fm.add(seg.segment_pixels(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)).labels, mask)
    finally:
        seg.output_filter = None
    return fm.result()


def test_filter_reduces_flicker_on_a_real_model(lite) -> None:
    clip = list(clip_samples(seed=3, frames=48, size=128))[:12]  # one view, 12 frames
    off = _run(lite, clip, None)
    on = _run(lite, clip, TemporalFilter())
    total_off = sum(v["pred_change"] or 0.0 for v in off.values())
    total_on = sum(v["pred_change"] or 0.0 for v in on.values())
    assert total_on < total_off


def test_filter_resets_on_a_view_change(lite) -> None:
    clip = list(clip_samples(seed=3, frames=16, size=128))  # two frames per view
    filt = TemporalFilter(alpha=0.5)
    weights = []
    for img, _, _ in clip[:3]:
        x = lite.preprocess(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB))
        filt(x, lite.infer(x), lite.card.output)
        weights.append(float(filt.last_weight))
    assert weights[0] == 1.0  # no history
    assert weights[1] < 0.75  # same view: smoothing
    assert weights[2] == 1.0  # RUQ -> subxiphoid: the past is dropped
    filt.reset()
    assert filt._probs is None
