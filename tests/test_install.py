"""The plain install (``pip install -e .``, as the README says) has the ONNX backend that the
README's speed figures were measured with."""

from __future__ import annotations

import json
import re
import sys
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


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None and True are immortal from 3.12")
def test_qt_calls_keep_none_and_true_alive(qtbot):
    """PySide6 6.12.0 dropped a reference to None on every Qt call that returns nothing (and
    to True on every signal emit): on Python 3.11 the window aborted with "deallocating None"
    after a minute or two of frames. A hundred calls show the drift before it can crash."""
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QLabel

    class Pinger(QObject):
        ping = Signal()

    label, pinger = QLabel("x"), Pinger()
    qtbot.addWidget(label)
    none0, true0 = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(100):
        label.setVisible(False)
        label.setText("y")
        pinger.ping.emit()
    assert abs(sys.getrefcount(None) - none0) < 50, "the Qt bindings leak references to None"
    assert abs(sys.getrefcount(True) - true0) < 50, "the Qt bindings leak references to True"
