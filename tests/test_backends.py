"""PyTorch eager against ONNX Runtime: same masks, the start-up probe, the export cache and the
fallback to PyTorch when ONNX fails."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sonolive.inference import backends
from sonolive.inference.backends import describe_backend, make_segmenter
from sonolive.models.onnx_net import OnnxNet
from sonolive.models.registry import find_model
from torch import nn


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """One ONNX export cache for the module (each export costs seconds on 2 cores)."""
    d = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SONOLIVE_CACHE_DIR", str(d))
        yield d


@pytest.fixture(scope="module")
def frames():
    from sonolive.capture.bench_sources import phantom_frames

    return phantom_frames(4, 256)


def test_torch_and_onnx_give_the_same_masks(cache_dir, frames):
    t = make_segmenter("fast-lite", device="cpu", backend="torch")
    o = make_segmenter("fast-lite", device="cpu", backend="onnx")
    assert t.backend_name == "torch" and not isinstance(t.net, OnnxNet)
    assert o.backend_name == "onnx" and isinstance(o.net, OnnxNet)
    assert o.net.providers == ["CPUExecutionProvider"]
    assert list((cache_dir / "onnx").glob("*.onnx")), "the export was not cached"
    for img, _truth in zip(*frames, strict=True):
        a = t.segment_pixels(img).labels
        b = o.segment_pixels(img).labels
        assert len(np.unique(a)) >= 2
        assert (a == b).mean() >= 0.995


def test_cached_export_is_reused(cache_dir, monkeypatch):
    make_segmenter("fast-lite", device="cpu", backend="onnx")  # makes sure the cache is filled

    def no_export(*a, **k):
        raise AssertionError("exported again despite the cache")

    monkeypatch.setattr(backends, "export_onnx", no_export)
    seg = make_segmenter("fast-lite", device="cpu", backend="onnx")
    assert seg.backend_name == "onnx"


def test_auto_probes_both_and_records_the_choice(cache_dir):
    seg = make_segmenter("fast-lite", device="cpu", backend="auto", probe_runs=4)
    p = seg.probe
    assert isinstance(p["torch"], float) and isinstance(p["onnx"], float)
    assert p["torch"] > 0 and p["onnx"] > 0
    assert seg.backend_name == p["chosen"] == min(("torch", "onnx"), key=p.get)
    assert isinstance(seg.net, OnnxNet) == (seg.backend_name == "onnx")
    assert p["agreement"] >= 0.99
    assert seg.backend_name in describe_backend(seg) and "ms" in describe_backend(seg)


def test_broken_onnx_falls_back_to_torch_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setenv("SONOLIVE_CACHE_DIR", str(tmp_path))  # empty cache: must export

    def broken(*a, **k):
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(backends, "export_onnx", broken)
    seg = make_segmenter("fast-lite", device="cpu", backend="auto")
    assert seg.backend_name == "torch"
    assert not isinstance(seg.net, OnnxNet) and isinstance(seg.net, nn.Module)
    assert "exporter exploded" in seg.probe["note"]
    with pytest.raises(RuntimeError, match="exporter exploded"):
        make_segmenter("fast-lite", device="cpu", backend="onnx")


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown backend 'tensorrt'"):
        make_segmenter("fast-lite", device="cpu", backend="tensorrt")


def test_an_onnx_model_runs_in_onnx_runtime_even_when_torch_is_asked(cache_dir, tmp_path):
    make_segmenter("fast-lite", device="cpu", backend="onnx")
    exported = next((cache_dir / "onnx").glob("*.onnx"))
    folder = tmp_path / "ox"
    folder.mkdir()
    shutil.copy2(exported, folder / "model.onnx")
    card = json.loads((find_model("fast-lite") / "model.json").read_text())
    card.update(name="ox", format="onnx", weights="model.onnx")
    (folder / "model.json").write_text(json.dumps(card))
    seg = make_segmenter(str(folder), device="cpu", backend="torch")
    assert seg.backend_name == "onnx" and isinstance(seg.net, OnnxNet)
    assert "ONNX Runtime only" in seg.probe["note"]
