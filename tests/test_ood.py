"""The training-data check: real models, real pictures, real reference files on disk."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sonolive.inference.gate.calibrate import as_rgb
from sonolive.inference.gate.ood import REFERENCE_FILE, OodGate, fraction_in_distribution
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
    for name in ("fast-lite", "nerve-vessel"):
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


def test_a_model_without_statistics_runs_with_a_notice(tmp_path, phantom_frames):
    folder = _copy_model("fast-lite", tmp_path / "mine")
    (folder / REFERENCE_FILE).unlink()
    seg = Segmenter(load_model(folder), device="cpu")
    assert seg.reference is None and "no reference statistics" in seg.reference_note
    out = seg.segment_pixels(phantom_frames[0][0])  # still runs, overlay not gated
    assert out.in_distribution is None and out.ood_score is None and out.present


def _write_clip(path: Path, frames: list[np.ndarray]) -> Path:
    from sonolive.inference.batch import VideoWriter

    w = VideoWriter(path, 30.0)
    for f in frames:
        w.write(f)
    w.close()
    return path


def test_process_writes_the_training_data_check(tmp_path, phantom_frames, real_images, capsys):
    import csv

    import cv2
    from media_helpers import decode_all
    from sonolive.app.cli import main

    own = _write_clip(tmp_path / "own.mp4", phantom_frames[0][:8])
    scans = [cv2.resize(f, (256, 256)) for f in real_images]
    foreign = _write_clip(tmp_path / "lung.mp4", scans)
    fast = ["--device", "cpu", "--backend", "torch", "--no-progress"]
    assert main(["process", str(own), str(foreign), "-o", str(tmp_path / "a"), *fast]) == 0
    said = capsys.readouterr().out
    assert "100% of frames like the training data (8 of 8;" in said
    assert f"0% of frames like the training data (0 of {len(real_images)};" in said
    assert main(["process", str(foreign), "-o", str(tmp_path / "b"), "--show-ood", *fast]) == 0
    for stem, want in (("own", 1.0), ("lung", 0.0)):
        summary = json.loads((tmp_path / "a" / f"{stem}_summary.json").read_text())
        assert summary["in_distribution_fraction"] == pytest.approx(want)
        rows = json.loads((tmp_path / "a" / f"{stem}_frames.json").read_text())["frames"]
        # organs are counted over the familiar frames only; the rows keep the raw figures
        assert summary["in_distribution_frames"] == (len(rows) if want else 0)
        present = {k: v["frames_present"] for k, v in summary["classes"].items()}
        if want:
            assert sum(present.values()) > 0
        else:
            assert set(present.values()) == {0}, present
            assert all(v["mean_confidence"] is None for v in summary["classes"].values())
            # nothing was counted: the share is unknown (null), not "absent in 0% of frames"
            assert all(v["fraction_present"] is None for v in summary["classes"].values())
            assert any(r["classes_present"] for r in rows), "the rows keep the raw figures"
        assert all(r["in_distribution"] is (want == 1.0) for r in rows)
        assert all(isinstance(r["ood_score"], float) for r in rows)
        with open(tmp_path / "a" / f"{stem}_frames.csv", newline="") as f:
            table = list(csv.DictReader(f))
        assert [t["in_distribution"] for t in table] == [str(want == 1.0).lower()] * len(rows)
        assert [float(t["ood_score"]) for t in table] == [r["ood_score"] for r in rows]
    # on the foreign clip the MP4 shows the plain picture; --show-ood draws the overlay
    plain = decode_all(tmp_path / "a" / "lung_annotated.mp4")
    shown = decode_all(tmp_path / "b" / "lung_annotated.mp4")
    src = decode_all(foreign)
    top = slice(0, 192)  # above the line of text at the bottom edge
    for p, s, o in zip(plain, shown, src, strict=True):
        d_plain = np.abs(p[top].astype(int) - o[top].astype(int)).mean()
        d_shown = np.abs(s[top].astype(int) - o[top].astype(int)).mean()
        assert d_plain < 3 < d_shown, (d_plain, d_shown)


def test_calibrate_command_on_an_imported_torchscript_model(tmp_path, lite_model, capsys):
    import torch
    from sonolive.app.cli import main

    folder = tmp_path / "hospital-ts"
    folder.mkdir()
    h, w = lite_model.card.input_size
    torch.jit.trace(lite_model.net.eval(), torch.zeros(1, 1, h, w)).save(str(folder / "model.pt"))
    card = lite_model.card.to_dict()
    card.update(name="hospital-ts", format="torchscript", weights="model.pt")
    card.pop("arch")
    (folder / "model.json").write_text(json.dumps(card))
    before = Segmenter(load_model(folder, trust_code=True), device="cpu")
    assert before.reference is None and "sonolive calibrate" in before.reference_note
    args = ["calibrate", "--model", str(folder), "--source", "phantom", "--frames", "40"]
    assert main([*args, "--size", "256"]) == 2, "TorchScript needs the user's trust"
    assert "TorchScript" in capsys.readouterr().err
    assert main([*args, "--size", "256", "--trust-code"]) == 0
    assert "reference statistics from 40 frames" in capsys.readouterr().out
    seg = Segmenter(load_model(folder, trust_code=True), device="cpu")
    assert seg.reference is not None
    # TorchScript hides the network's inside: the note says which score the check uses
    assert "statistics only (TorchScript" in seg.reference_note
    assert seg.segment_pixels(np.zeros((256, 256, 3), np.uint8)).in_distribution is False
