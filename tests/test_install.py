"""The plain install (``pip install -e .``, as the README says) has the ONNX backend that the
README's speed figures were measured with."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_onnx_runtime_is_a_main_dependency():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=!~ \[]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    assert {"onnxruntime", "onnx"} <= names


def test_bench_compares_torch_and_onnx(tmp_path, monkeypatch, capsys):
    from sonolive.app.cli import main

    monkeypatch.setenv("SONOLIVE_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "b.json"
    argv = ["bench", "--compare", "fast-lite@torch,fast-lite@onnx", "--frames", "8"]
    assert main([*argv, "--size", "192", "--device", "cpu", "--json", str(out)]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert [r["backend"] for r in runs] == ["torch", "onnx"]
    assert all(r["frames"] > 0 for r in runs)
    assert "ratios against fast-lite@torch" in capsys.readouterr().out
