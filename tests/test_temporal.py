"""Temporal stability: flicker and presence figures, and the live filter on a real model."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from sonolive.inference.temporal import (
    FlickerMeter,
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


@pytest.fixture(scope="module")
def lite():
    from sonolive.inference.backends import make_segmenter

    return make_segmenter("fast-lite", device="cpu", backend="torch")


def _run(seg, samples, filt):
    fm = FlickerMeter(seg.card.class_names)
    for img, mask, _ in samples:
        rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        fm.add(seg.segment_pixels(rgb, smoother=filt).labels, mask)
    return fm.result()


def test_filter_reduces_flicker_on_a_real_model(lite) -> None:
    clip = list(clip_samples(seed=3, frames=16, size=128, views=1))  # one view, 16 frames
    assert len({v for _, _, v in clip}) == 1
    off = _run(lite, clip, None)
    on = _run(lite, clip, TemporalFilter())
    total_off = sum(v["pred_change"] or 0.0 for v in off.values())
    total_on = sum(v["pred_change"] or 0.0 for v in on.values())
    assert total_on < total_off


def test_filter_resets_on_a_view_change_and_on_request(lite) -> None:
    clip = list(clip_samples(seed=3, frames=4, size=128, views=2))  # two frames per view
    assert clip[1][2] == clip[0][2] != clip[2][2]
    filt = TemporalFilter(alpha=0.5)
    weights = []
    for img, _, _ in clip[:3]:
        x = lite.preprocess(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB))
        out = filt(x, lite.infer(x), lite.card.output)
        assert out.shape == (1, lite.card.num_classes, *x.shape[-2:])
        weights.append(float(filt.last_weight))
    assert weights[0] == 1.0  # no history
    assert weights[1] < 0.75  # same view: smoothing
    assert weights[2] == 1.0  # a new view: the past is dropped
    filt.reset()
    x = lite.preprocess(cv2.cvtColor(clip[3][0], cv2.COLOR_GRAY2RGB))
    filt(x, lite.infer(x), lite.card.output)
    assert float(filt.last_weight) == 1.0  # a reset (new input, new model) forgets too


def test_hysteresis_hides_a_speck_and_keeps_a_shrinking_class() -> None:
    """A class that never reaches on_fraction is never shown; one that was shown stays
    while it stays above off_fraction, and once hidden needs on_fraction again."""
    filt = TemporalFilter(alpha=1.0, on_fraction=0.01, off_fraction=0.004)
    x = torch.zeros(1, 1, 100, 100)

    def logits(area: int) -> torch.Tensor:
        out = torch.zeros(1, 2, 100, 100)
        out[0, 0] = 1.0
        out[0, 1].view(-1)[:area] = 5.0
        return out

    shown = [
        int((filt(x, logits(a), "logits")[0].argmax(0) == 1).sum()) for a in (50, 150, 60, 30, 60)
    ]
    assert shown == [0, 150, 60, 0, 0]  # once hidden, it needs on_fraction again


def test_clip_eval_reports_flicker_presence_and_the_filter(lite) -> None:
    from sonolive.inference.tools.evaluate import evaluate_clip, format_clip_table

    samples = list(clip_samples(seed=9000, frames=8, size=128, views=2))
    res = evaluate_clip(lite, samples, smoother=TemporalFilter())
    assert res["frames"] == 8 and res["temporal_filter"] is True
    assert set(res["flicker"]) == set(lite.card.class_names[1:])
    views = {v for _, _, v in samples}
    assert set(res["presence"]["per_view"]) == views
    o = res["presence"]["overall"]
    assert o["positive_frames"] + o["negative_frames"] == 8
    table = format_clip_table(res)
    assert "flicker" in table and "fluid presence" in table


def test_drop_specks_removes_a_small_class_and_keeps_a_large_one() -> None:
    from sonolive.inference.temporal import drop_specks

    out = torch.zeros(1, 3, 100, 100)
    out[0, 0] = 1.0
    out[0, 1, :30, :30] = 5.0  # 9% of the map
    out[0, 2, 90:92, 90:95] = 5.0  # 0.1%: a speck
    lab = drop_specks(out, "logits", 0.002)[0].argmax(0)
    assert int((lab == 1).sum()) == 900 and int((lab == 2).sum()) == 0


def test_a_card_min_area_fraction_is_checked_and_applied(lite_model, tmp_path) -> None:
    from sonolive.inference.segmenter import Segmenter
    from sonolive.models.card import CardError, ModelCard
    from sonolive.models.weights_io import LoadedModel

    d = lite_model.card.to_dict()
    for bad in (-0.1, 0.5, "0.01", True):
        with pytest.raises(CardError, match="min_area_fraction"):
            ModelCard.from_dict({**d, "min_area_fraction": bad})
    rgb = cv2.cvtColor(next(clip_samples(seed=9000, frames=1, size=256))[0], cv2.COLOR_GRAY2RGB)
    raw_card = ModelCard.from_dict({**d, "min_area_fraction": 0.0})
    raw = Segmenter(LoadedModel(raw_card, lite_model.net, None), device="cpu").segment_pixels(rgb)
    big = ModelCard.from_dict({**d, "min_area_fraction": 0.05})
    seg = Segmenter(LoadedModel(big, lite_model.net, None), device="cpu").segment_pixels(rgb)
    total = rgb.shape[0] * rgb.shape[1]
    small = [k for k, a in raw.areas.items() if a < 0.04 * total]
    large = [k for k, a in raw.areas.items() if a > 0.06 * total]
    assert large  # the frame shows an organ
    assert all(k in seg.areas for k in large)
    assert not any(k in seg.areas for k in small)


def test_bedside_name_holds_across_a_boundary_and_leaves_with_its_organ() -> None:
    """In the source's time: a new organ takes the name only after holding the centre for
    a second without a break, never twice within a second; the name goes at once when its
    organ leaves the picture; a seek back starts afresh."""
    from sonolive.inference.names import HOLD_S, NameHold

    hold = NameHold()
    assert hold.update(1, 0.0) == 1  # a name appears at once
    # the boundary to organ 2 wobbles across the centre for 2 s: the name stays
    wobble = [hold.update(2 if i % 3 else 1, i / 30) for i in range(1, 61)]
    assert set(wobble) == {1}
    # organ 2 holds the centre: it takes over after HOLD_S, not before
    t = 2.0
    while hold.update(2, t) == 1:
        t += 1 / 30
    assert t - 2.0 >= HOLD_S - 1e-6
    assert hold.update(1, t + 0.1) == 2 and hold.update(1, t + 0.5) == 2  # no flip back
    assert hold.update(3, t + 0.6, shown_present=False) == 3  # organ 2 left the picture
    assert hold.update(0, t + 0.7, shown_present=False) == 0
    assert hold.update(1, 0.0) == 1  # a seek back: no history
    assert hold.switches == 5
