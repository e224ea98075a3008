"""The training-data check: real models, real pictures, real reference files on disk."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sonolive.inference.calibrate import as_rgb, calibrate, phantom_pictures
from sonolive.inference.ood import REFERENCE_FILE, OodGate, fraction_in_distribution
from sonolive.inference.segmenter import Segmenter
from sonolive.models.datasets import read_grey
from sonolive.models.loader import load_model
from sonolive.models.registry import find_model

SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples" / "usgra-seg-sample"


@pytest.fixture(scope="module")
def lite() -> Segmenter:
    return Segmenter(load_model(find_model("fast-lite")), device="cpu")


@pytest.fixture(scope="module")
def real_images() -> list[np.ndarray]:
    """Real linear-probe nerve/vessel scans: foreign to the simulated FAST models."""
    return [as_rgb(read_grey(p)) for p in sorted((SAMPLES / "images").glob("*.png"))]


def test_shipped_models_carry_statistics():
    for name in ("fast-lite", "fast-standard", "nerve-vessel"):
        seg = Segmenter(load_model(find_model(name)), device="cpu")
        assert seg.reference is not None, seg.reference_note
        assert seg.reference_note is None


def test_gate_passes_own_data_and_flags_foreign(lite, phantom_frames, real_images):
    frames, _ = phantom_frames
    own = [lite.segment_pixels(f) for f in frames]
    foreign = [lite.segment_pixels(f) for f in real_images]
    black = lite.segment_pixels(np.zeros((256, 256, 3), np.uint8))
    assert all(s.in_distribution for s in own), [s.ood_score for s in own]
    assert not any(s.in_distribution for s in foreign), [s.ood_score for s in foreign]
    assert black.in_distribution is False
    assert max(s.ood_score for s in own) < min(s.ood_score for s in foreign)
    # the nerve-vessel model sees it the other way round
    nv = Segmenter(load_model(find_model("nerve-vessel")), device="cpu")
    assert all(nv.segment_pixels(f).in_distribution for f in real_images)
    assert not any(nv.segment_pixels(f).in_distribution for f in frames[:4])


def test_hysteresis_one_odd_frame_does_not_blink(lite, phantom_frames, real_images):
    frames, _ = phantom_frames
    odd = lite.segment_pixels(real_images[0]).in_distribution
    verdicts = [lite.segment_pixels(f).in_distribution for f in frames[:6]]
    seq = verdicts[:3] + [odd] + verdicts[3:]  # one foreign frame among familiar ones
    assert odd is False and all(verdicts)
    gate = OodGate(hold_s=0.5)
    hidden = [gate.update(v, i / 30) for i, v in enumerate(seq)]
    assert not any(hidden)
    # a foreign picture held for more than half a second hides the overlay, and one familiar
    # frame in it does not bring the overlay back
    t0 = len(seq) / 30
    steady = [gate.update(odd, t0 + i / 30) for i in range(20)]
    assert steady[-1] and not steady[0]
    assert gate.update(True, t0 + 20 / 30) is True
    assert gate.update(odd, t0 + 21 / 30) is True
    assert fraction_in_distribution([True, False, None, True]) == pytest.approx(2 / 3, abs=1e-4)


def _copy_model(name: str, dst: Path) -> Path:
    shutil.copytree(find_model(name), dst)
    return dst


@pytest.mark.parametrize(
    "breakage, words",
    [
        ("nan", "NaN"),
        ("size", "wrong feature size"),
        ("other", "another model"),
        ("garbage", "not readable"),
    ],
)
def test_bad_reference_is_refused_and_the_model_still_runs(tmp_path, breakage, words):
    folder = _copy_model("fast-lite", tmp_path / "m")
    ref = folder / REFERENCE_FILE
    d = json.loads(ref.read_text())
    if breakage == "nan":
        d["mean"][0] = float("nan")
        ref.write_text(json.dumps(d))
    elif breakage == "size":
        d["mean"] = d["mean"][:-2]
        ref.write_text(json.dumps(d))
    elif breakage == "other":
        shutil.copy(find_model("nerve-vessel") / REFERENCE_FILE, ref)
    else:
        ref.write_bytes(b"\x00\x01 not json")
    seg = Segmenter(load_model(folder), device="cpu")
    assert seg.reference is None
    assert str(ref) in seg.reference_note and words in seg.reference_note
    assert "\n" not in seg.reference_note
    out = seg.segment_pixels(np.zeros((64, 64, 3), np.uint8))
    assert out.labels.shape == (64, 64) and out.in_distribution is None


def test_calibrate_writes_statistics_for_a_model_without_them(tmp_path, phantom_frames):
    folder = _copy_model("fast-lite", tmp_path / "mine")
    (folder / REFERENCE_FILE).unlink()
    seg = Segmenter(load_model(folder), device="cpu")
    assert seg.reference is None and "no reference statistics" in seg.reference_note
    assert seg.segment_pixels(phantom_frames[0][0]).in_distribution is None  # still runs
    ref = calibrate(seg, phantom_pictures(0, 40, 256), data="phantom seed 0")
    ref.save(folder)
    again = Segmenter(load_model(folder), device="cpu")
    assert again.reference is not None and again.reference.frames == 40
    assert again.segment_pixels(np.zeros((256, 256, 3), np.uint8)).in_distribution is False
