"""The feature distance of the training-data check: the network's own features, taken in its
one forward pass, on real scans of another body part (the shared recordings)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from real_data import clip_frames, linear_window, pocus_clips, shared_data
from sonolive.inference.gate.calibrate import as_rgb, folder_pictures, phantom_pictures
from sonolive.inference.gate.ood import REFERENCE_FILE, SCORE_BOTH
from sonolive.inference.segmenter import Segmenter
from sonolive.models.loader import load_model
from sonolive.models.registry import find_model

SHARED = shared_data()
needs_data = pytest.mark.skipif(SHARED is None, reason="the shared real data is not here")


def _share(seg: Segmenter, pictures) -> float:
    return float(np.mean([seg.segment_pixels(as_rgb(p)).in_distribution for p in pictures]))


@pytest.fixture(scope="module")
def nerve() -> Segmenter:
    return Segmenter(load_model(find_model("nerve-vessel")), device="cpu")


@pytest.fixture(scope="module")
def lite() -> Segmenter:
    return Segmenter(load_model(find_model("fast-lite")), device="cpu")


@pytest.fixture(scope="module")
def lungs() -> list[np.ndarray]:
    """Two frames of every shared real lung recording (convex probe), half a second apart."""
    if SHARED is None:
        pytest.skip("the shared real data is not here")
    return [f for clip in pocus_clips(SHARED) for f in clip_frames(clip, every=12, most=2)]


def test_shipped_models_use_the_network_features(nerve, lite):
    for seg in (nerve, lite):
        assert seg.reference is not None and seg.reference.kind == SCORE_BOTH
        assert seg.reference_note is None and seg.ood_features.visible
        assert seg.reference.deep.mean.shape == (192,)  # bottleneck 128 + first decoder 64


def test_features_come_from_the_frame_s_own_forward_pass(nerve, phantom_frames):
    calls = []
    handle = nerve.model.net.inc.register_forward_pre_hook(lambda *_: calls.append(1))
    try:
        x = nerve.preprocess(phantom_frames[0][0])
        out = nerve.infer(x)
        pic, small, deep = nerve.ood_inputs(x, out)
        assert len(calls) == 1, "the check must not run the network again"
        assert deep.shape == (1, 192) and torch.isfinite(deep).all()
        # the same means the blocks compute, not a stale or foreign vector
        net = nerve.model.net
        with torch.inference_mode():
            skips = [net.inc(x)]
            for down in net.downs:
                skips.append(down(torch.nn.functional.max_pool2d(skips[-1], 2)))
        assert torch.allclose(deep[0, :128], skips[-1].mean((2, 3))[0], atol=1e-5)
        # taken once: a second read without a forward pass gives nothing
        assert nerve.ood_features.take() is None
    finally:
        handle.remove()


def test_onnx_export_gives_the_same_features_and_verdicts(tmp_path, monkeypatch, nerve):
    from sonolive.inference.backends import make_segmenter

    monkeypatch.setenv("SONOLIVE_CACHE_DIR", str(tmp_path / "cache"))
    onnx = make_segmenter("nerve-vessel", device="cpu", backend="onnx")
    assert onnx.backend_name == "onnx" and onnx.ood_features.visible
    assert onnx.reference_note is None
    pics = [as_rgb(p) for p in list(folder_pictures(SHARED_OR_SAMPLE, "all"))[:6:2]]
    pics.append(np.zeros((200, 300, 3), np.uint8))
    for p in pics:
        a, b = nerve.segment_pixels(p), onnx.segment_pixels(p)
        assert a.in_distribution == b.in_distribution
        assert a.ood_score == pytest.approx(b.ood_score, rel=1e-2, abs=1e-3)


SHARED_OR_SAMPLE = (
    SHARED / "usgra-seg"
    if SHARED is not None
    else Path(__file__).resolve().parents[1] / "resources" / "samples" / "usgra-seg-sample"
)


@needs_data
def test_nerve_vessel_passes_its_own_scans_and_flags_lung_under_the_same_window(nerve, lungs):
    own = [p for i, p in enumerate(folder_pictures(SHARED / "usgra-seg", "val")) if i % 2 == 0]
    near = [linear_window(f) for f in lungs]
    assert len(own) == 41 and len(near) >= 60
    assert _share(nerve, own) >= 0.95
    assert _share(nerve, near) <= 0.05


def _stats(seg: Segmenter, pic: np.ndarray) -> np.ndarray:
    from sonolive.inference.gate.ood import frame_features

    x = seg.preprocess(as_rgb(pic))
    p, small, _ = seg.ood_inputs(x, seg.infer(x))
    return frame_features(p, small, seg.card.output, out_stride=1)


@needs_data
def test_fast_lite_passes_held_out_phantom_and_flags_real_recordings(lite, lungs):
    own = list(phantom_pictures(9000, 100))  # held out, at the calibration size (512)
    assert _share(lite, own) >= 0.99
    assert _share(lite, lungs) <= 0.05


def _copy(name: str, dst: Path) -> Path:
    shutil.copytree(find_model(name), dst)
    return dst


def test_an_old_reference_file_keeps_working_on_its_old_score(tmp_path, phantom_frames):
    folder = _copy("fast-lite", tmp_path / "m")
    d = json.loads((folder / REFERENCE_FILE).read_text())
    old = {k: d[k] for k in ("kind", "model", "num_classes", "weights_sha256", "features")}
    old.update(format=1, mean=d["mean"], whiten=d["whiten"])
    old.update(threshold=d["statistics_threshold"], false_alarm_rate=0.01, frames=1200)
    (folder / REFERENCE_FILE).write_text(json.dumps(old))
    seg = Segmenter(load_model(folder), device="cpu")
    assert seg.reference is not None and seg.reference.deep is None
    assert "older SonoLive" in seg.reference_note and "sonolive calibrate" in seg.reference_note
    new = Segmenter(load_model(find_model("fast-lite")), device="cpu")
    for f in phantom_frames[0][:3]:
        a, b = seg.segment_pixels(f), new.segment_pixels(f)
        assert a.in_distribution is True and b.in_distribution is True
        # the old file's score is the statistics distance itself, on its own threshold
        assert a.ood_score == pytest.approx(
            new.reference.score(_stats(new, f), None)
            * seg.reference.threshold
            / new.reference.threshold,
            rel=1e-3,
        )
    assert seg.segment_pixels(np.zeros((128, 128, 3), np.uint8)).in_distribution is False


def test_a_torchscript_model_says_which_score_it_uses(tmp_path, lite_model, capsys):
    from sonolive.app.cli import main

    folder = tmp_path / "ts"
    folder.mkdir()
    h, w = lite_model.card.input_size
    torch.jit.trace(lite_model.net.eval(), torch.zeros(1, 1, h, w)).save(str(folder / "model.pt"))
    card = lite_model.card.to_dict()
    card.update(name="ts", format="torchscript", weights="model.pt")
    card.pop("arch")
    (folder / "model.json").write_text(json.dumps(card))
    args = ["calibrate", "--model", str(folder), "--source", "phantom", "--frames", "40"]
    assert main([*args, "--size", "192", "--trust-code"]) == 0
    assert "score: statistics" in capsys.readouterr().out
    d = json.loads((folder / REFERENCE_FILE).read_text())
    assert d["score"] == "statistics" and d["deep"] is None
    seg = Segmenter(load_model(folder, trust_code=True), device="cpu")
    assert seg.reference is not None and not seg.ood_features.visible
    assert "picture and output statistics only" in seg.reference_note
    assert "TorchScript" in seg.reference_note
