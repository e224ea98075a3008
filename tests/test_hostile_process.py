"""``sonolive process`` outputs against other runs, planted links, overlapping names, signals,
variable frame rates, absurd DICOM times and non-UTF-8 names (issue 29, group 5)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
from hostile_helpers import one_error_line, run_cli
from media_helpers import encode_clip, make_dicom, make_frame
from test_annotate_dataset import _cli

FAST = ["--device", "cpu", "--backend", "torch", "--no-progress"]


def _strict_json(path: Path):
    """Parse as a strict reader would: NaN/Infinity and invalid UTF-8 are errors."""

    def no_constant(name: str):
        raise ValueError(f"{path.name}: {name} is not JSON")

    return json.loads(path.read_bytes().decode("utf-8"), parse_constant=no_constant)


def _decoded_times(path: Path) -> list[float]:
    import av

    with av.open(str(path)) as c:
        return [float(f.time) for f in c.decode(video=0)]


def _start(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sonolive.app.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(cond, proc: subprocess.Popen, what: str, limit: float = 240) -> None:
    """Poll ``cond`` until true (the child is working), failing if the child ends first."""
    end = time.monotonic() + limit
    while not cond():
        assert proc.poll() is None, f"the run ended before {what}: {proc.communicate()}"
        assert time.monotonic() < end, f"no {what} within {limit} s"
        time.sleep(0.02)


def _partials(out: Path) -> list[Path]:
    return [p for p in out.glob(".*") if p.name.endswith(".partial")]


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    return encode_clip(tmp_path_factory.mktemp("long") / "long.mp4", 150, 320, 240)


def test_second_run_into_a_busy_folder_is_refused(long_clip, tmp_path, capsys):
    out = tmp_path / "out"
    a = _start(["process", str(long_clip), "-o", str(out), *FAST])
    try:
        _wait_for(lambda: bool(_partials(out)), a, "a partial file")
        other = encode_clip(tmp_path / "other.mp4", 5)
        rc, _o, err = _cli(["process", str(other), "-o", str(out), *FAST], capsys)
        line = one_error_line(err)
        assert rc == 2 and "another 'sonolive process' run" in line and str(out) in line
    finally:
        a_out, a_err = a.communicate(timeout=600)
    assert a.returncode == 0, a_err
    assert not (out / "other_annotated.mp4").exists()
    frames = _strict_json(out / "long_frames.json")["frames"]
    with open(out / "long_frames.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(frames) == len(_decoded_times(out / "long_annotated.mp4")) == 150
    assert [e["input"] for e in _strict_json(out / "process_index.json")] == [str(long_clip)]


def test_planted_links_are_never_written_through(tmp_path, capsys):
    clip = encode_clip(tmp_path / "a.mp4", 6)
    out = tmp_path / "out"
    out.mkdir()
    victims = {n: tmp_path / f"victim-{n}" for n in ("tmp", "final", "index")}
    for v in victims.values():
        v.write_text("precious")
    (out / ".a_annotated.mp4.partial").symlink_to(victims["tmp"])  # the old fixed temp name
    (out / "a_frames.csv").symlink_to(victims["final"])
    (out / "process_index.json").symlink_to(victims["index"])
    rc, _o, err = _cli(["process", str(clip), "-o", str(out), *FAST], capsys)
    assert rc == 0, err
    assert all(v.read_text() == "precious" for v in victims.values())
    assert not (out / "a_frames.csv").is_symlink() and (out / "a_frames.csv").is_file()
    assert _strict_json(out / "process_index.json")[0]["ok"] is True


def test_an_output_that_would_overwrite_an_input_is_refused(tmp_path, capsys):
    a = encode_clip(tmp_path / "a.mp4", 4)
    a2 = encode_clip(tmp_path / "a_annotated.mp4", 5)
    before = {p: p.read_bytes() for p in (a, a2)}
    rc, _o, err = _cli(["process", str(a), str(a2), "-o", str(tmp_path), *FAST], capsys)
    line = one_error_line(err)
    assert rc == 2 and "a_annotated.mp4" in line and "overwritten" in line
    assert {p: p.read_bytes() for p in (a, a2)} == before
    assert not (tmp_path / "a_frames.csv").exists()
    # the index is an output too
    idx = tmp_path / "process_index.json"
    idx.write_text("[]")
    rc, _o, err = _cli(["process", str(idx), "-o", str(tmp_path), *FAST], capsys)
    assert rc == 2 and "process_index.json" in one_error_line(err)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_cleans_up_with_one_line(long_clip, tmp_path, sig, code):
    out = tmp_path / "out"
    out.mkdir()
    (out / "process_index.json").write_text('["an old run"]')
    p = _start(["process", str(long_clip), "-o", str(out), *FAST])
    _wait_for(lambda: bool(_partials(out)), p, "a partial file")
    p.send_signal(sig)
    _stdout, err = p.communicate(timeout=120)
    assert p.returncode == code, err
    line = one_error_line(err)
    assert line.startswith("interrupted") and "partial outputs removed" in line
    assert _partials(out) == [] and not list(out.glob("long_*"))
    index = _strict_json(out / "process_index.json")
    reason = f"interrupted ({signal.Signals(sig).name})"
    assert index == [{"input": str(long_clip), "ok": False, "reason": reason}]


def test_variable_frame_rate_times_agree(tmp_path, capsys):
    pts = [0, 1, 2, 5, 6, 12, 13, 14, 30, 31, 45]
    clip = encode_clip(tmp_path / "vfr.mp4", len(pts), pts=pts, time_base=Fraction(1, 30))
    rc, _o, err = _cli(["process", str(clip), "-o", str(tmp_path / "out"), *FAST], capsys)
    assert rc == 0, err
    want = [t / 30 for t in pts]
    with open(tmp_path / "out/vfr_frames.csv", newline="", encoding="utf-8") as f:
        csv_times = [float(r["time_s"]) for r in csv.DictReader(f)]
    json_times = [r["time_s"] for r in _strict_json(tmp_path / "out/vfr_frames.json")["frames"]]
    mp4_times = _decoded_times(tmp_path / "out/vfr_annotated.mp4")
    for got in (csv_times, json_times, mp4_times):
        assert got == pytest.approx(want, abs=1e-3)


def test_absurd_dicom_frame_times_give_valid_json(tmp_path, capsys):
    import pydicom

    dcm = make_dicom(tmp_path / "cine.dcm", [make_frame(i) for i in range(4)])
    ds = pydicom.dcmread(dcm)
    ds.FrameTimeVector = [0, 1e308, 1e308, 1e308]
    ds.save_as(dcm)
    out = tmp_path / "out"
    rc, _o, err = _cli(["process", str(dcm), "-o", str(out), *FAST], capsys)
    assert rc == 0, err
    for p in [*out.glob("*.json")]:
        assert _strict_json(p) is not None  # no Infinity, no NaN
    summary = _strict_json(out / "cine_summary.json")
    assert summary["duration_s"] is None or summary["duration_s"] < 1e300
    assert len(_decoded_times(out / "cine_annotated.mp4")) == 4


def test_a_file_name_that_is_not_utf8(tmp_path):
    src = encode_clip(tmp_path / "good.mp4", 5)
    raw = os.fsencode(tmp_path) + b"/scan\xff\xfe.mp4"
    os.rename(src, raw)
    out = tmp_path / "out"
    r = run_cli(["process", os.fsdecode(raw), "-o", str(out), *FAST], timeout=300)
    assert "Traceback" not in r.stderr
    assert r.returncode == 0, r.stderr
    index = _strict_json(out / "process_index.json")
    assert index[0]["ok"] is True and "\ufffd" in index[0]["input"]
    assert (out / "scan___annotated.mp4").is_file()
    _strict_json(out / "scan___summary.json")
    _strict_json(out / "scan___frames.json")
