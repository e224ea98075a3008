"""``sonolive bench`` reports the ROI stage's cost per frame at 1080p (issue 16)."""

from __future__ import annotations

import json

from sonolive.app.cli import main


def test_bench_json_has_the_roi_stage(tmp_path, capsys):
    out = tmp_path / "bench.json"
    args = ["bench", "--frames", "20", "--size", "256", "--backend", "torch", "--device", "cpu"]
    assert main([*args, "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    roi = res["roi"]
    assert roi["size"] == "1920x1080" and roi["frames"] == 20
    assert 0 < roi["p50"] <= roi["p95"] <= roi["p99"]
    assert 0 < roi["cpu"]["p50"] <= roi["cpu"]["p95"] <= roi["cpu"]["p99"]  # the thread's own
    # it timed the real stage on a scanner screen: the region is the image, not the screen
    x, y, w, h = roi["roi"]
    assert 0 < w < 1920 and 0 < h < 1080
    assert "ROI stage at 1920x1080" in capsys.readouterr().out
