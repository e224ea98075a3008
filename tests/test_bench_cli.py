"""``sonolive bench`` ends on every input and says what went wrong in one line."""

from __future__ import annotations

import json
import threading
import time

import pytest
import torch
from media_helpers import encode_clip
from sonolive.app.cli import main

CPU = ["--device", "cpu", "--backend", "torch"]


def _main_within(argv: list[str], seconds: float) -> int:
    """Run ``main(argv)`` on a thread; fail (instead of hanging the suite) past ``seconds``."""
    out: dict[str, int] = {}
    t = threading.Thread(target=lambda: out.setdefault("rc", main(argv)), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"sonolive {' '.join(argv)} still running after {seconds} s"
    return out["rc"]


def test_bench_ends_on_a_clip_shorter_than_frames(tmp_path, capsys):
    clip = encode_clip(tmp_path / "short.mp4", 16)
    js = tmp_path / "b.json"
    argv = ["bench", "--source", str(clip), "--frames", "100", *CPU, "--json", str(js)]
    assert _main_within(argv, 600) == 0  # a guard against a hang, not a speed limit
    res = json.loads(js.read_text())
    assert 0 < res["frames"] and res["frames"] + res["dropped"] <= 16
    assert "the source ended" in res["note"]
    assert "note: the source ended" in capsys.readouterr().out


def test_bench_on_a_source_that_ends_with_the_warm_up_reports_the_warm_up(lite_model):
    """Exactly as many frames as the warm-up, slowly enough that none is dropped: the
    figures are the warm-up's, never an empty measurement."""
    from sonolive.capture.replay import ReplaySource
    from sonolive.inference.segmenter import Segmenter
    from sonolive.inference.tools.bench import run_pipeline_bench

    seg = Segmenter(lite_model, device=torch.device("cpu"))
    frames = [torch.randint(0, 255, (128, 128, 3), dtype=torch.uint8).numpy()] * 10
    res = run_pipeline_bench(ReplaySource(frames, fps=10.0, loop=False), seg, frames=30)
    assert 0 < res["frames"] <= 10 and res["fps"] > 0
    assert "within the 10-frame warm-up" in res["note"]


def test_bench_accel_records_what_ran(tmp_path, capsys):
    """``bench --accel cudagraphs`` without CUDA: the run goes on eagerly, and the JSON and
    the output say which mode ran and why, so a GPU figure is never mislabelled."""
    js = tmp_path / "b.json"
    argv = ["bench", "--frames", "20", "--size", "256", *CPU, "--accel", "cudagraphs"]
    assert _main_within([*argv, "--json", str(js)], 120) == 0
    res = json.loads(js.read_text())
    assert res["accel"] == "off" and "CUDA graphs" in res["accel_note"] and res["frames"] > 0
    out = capsys.readouterr().out
    assert "runs eagerly" in out
    # the training-data check ran on every frame and its own cost is in the JSON
    assert set(res["ood"]) == {"p50", "p95", "p99"} and res["ood"]["p50"] > 0
    assert 0 < res["ood_features"]["p50"] <= res["ood"]["p50"]
    assert "training-data check (inside infer)" in out


def test_bench_ends_when_drops_leave_too_few_frames(lite_model):
    from sonolive.capture.replay import ReplaySource
    from sonolive.inference.segmenter import Segmenter
    from sonolive.inference.tools.bench import run_pipeline_bench

    seg = Segmenter(lite_model, device=torch.device("cpu"))
    frames = [torch.randint(0, 255, (256, 256, 3), dtype=torch.uint8).numpy()] * 40
    # 40 frames at 2000 fps into a model that needs milliseconds per frame: most are dropped,
    # so far fewer than warm-up + 30 ever reach the consumer
    src = ReplaySource(frames, fps=2000.0, loop=False)
    t0 = time.perf_counter()
    res = run_pipeline_bench(src, seg, frames=30, timeout_s=90)
    assert time.perf_counter() - t0 < 60
    assert res["dropped"] > 0 or res["frames"] < 30
    assert "note" in res


def test_bench_on_a_missing_card_is_one_line_within_5_s(capsys):
    t0 = time.perf_counter()
    rc = _main_within(["bench", "--source", "device:7", "--frames", "10", *CPU], 30)
    took = time.perf_counter() - t0
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith("error: No signal: 7") and "\n" not in err
    assert took < 5.0


@pytest.mark.parametrize(
    "args, words",
    [
        (["--model", "fast-lit"], "No model called 'fast-lit' (known: fast-lite"),
        (["--source", "missing.mp4"], "File not found: missing.mp4"),
        (["--compare", "fast-lite@onx"], "unknown backend 'onx'"),
    ],
)
def test_bench_wrong_input_is_one_line(args, words, capsys):
    rc = main(["bench", "--frames", "5", "--device", "cpu", *args])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err == err.splitlines()[0] and words in err, err


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_bench_cuda_without_cuda_is_one_line(capsys):
    assert main(["bench", "--frames", "5", "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: CUDA was requested but no CUDA GPU is available"
