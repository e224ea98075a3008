"""Recorder: fragmented H.264 MP4 on its own thread; crash safety, disk full, redaction."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
from barcode import read_barcode
from media_helpers import decode_all, make_frame
from sonolive.capture import recorder as recorder_mod
from sonolive.capture.recorder import Recorder

HERE = Path(__file__).resolve().parent


def _record(path: Path, frames, **kw) -> Recorder:
    """Record ``frames`` as the raw picture (the overlay file always carries the mark,
    which would cover these small test pictures' barcodes), or as given by ``mode``."""
    kw.setdefault("mode", "raw")
    rec = Recorder(path, fps=30, queue_size=256, **kw)
    raw = kw["mode"] == "raw"
    for f in frames:
        assert rec.write(f, None) if raw else rec.write(None, f)
    rec.close()
    return rec


def test_roundtrip_odd_size_every_frame_in_order(tmp_path):
    rec = _record(tmp_path / "rec.mp4", [make_frame(i, 161, 121) for i in range(40)])
    assert rec.error is None and rec.frames_dropped == 0
    assert rec.frames_written == 40
    assert rec.codec in av.codecs_available
    frames = decode_all(tmp_path / "rec.mp4")
    assert frames[0].shape == (122, 162, 3)  # padded to even for yuv420p
    assert [read_barcode(f) for f in frames] == list(range(40))
    assert np.abs(frames[3][:121, :161].astype(int) - make_frame(3, 161, 121)).mean() < 6


def test_file_is_fragmented_with_a_keyframe_every_second(tmp_path):
    _record(tmp_path / "frag.mp4", [make_frame(i) for i in range(75)])
    data = (tmp_path / "frag.mp4").read_bytes()
    assert data.count(b"moof") >= 3
    assert data.find(b"moov") < data.find(b"moof")  # header first (empty_moov)
    with av.open(str(tmp_path / "frag.mp4")) as c:
        keys = [i for i, p in enumerate(p for p in c.demux(video=0) if p.size) if p.is_keyframe]
    assert keys[0] == 0
    assert max(np.diff(keys)) <= 30


def test_mode_both_writes_two_files(tmp_path):
    rec = Recorder(tmp_path / "exam.mp4", fps=25, mode="both", queue_size=64)
    for i in range(12):
        rec.write(make_frame(i), make_frame(100 + i))
    rec.close()
    raw, over = tmp_path / "exam_raw.mp4", tmp_path / "exam_overlay.mp4"
    assert rec.paths == {"raw": raw, "overlay": over}
    assert [read_barcode(f) for f in decode_all(raw)] == list(range(12))
    assert [read_barcode(f) for f in decode_all(over)] == list(range(100, 112))
    assert rec.frames_written == 12


def test_overlay_mode_uses_raw_until_an_overlay_exists(tmp_path):
    rec = Recorder(tmp_path / "o.mp4", fps=30, queue_size=64)
    rec.write(make_frame(1), None)
    rec.write(make_frame(2), make_frame(7))
    rec.close()
    assert [read_barcode(f) for f in decode_all(tmp_path / "o.mp4")] == [1, 7]


def test_write_never_blocks_and_drops_when_the_queue_is_full(tmp_path, monkeypatch):
    gate = threading.Event()
    real_write = recorder_mod.Mp4Writer.write

    def slow_write(self, rgb):
        gate.wait(5)
        return real_write(self, rgb)

    monkeypatch.setattr(recorder_mod.Mp4Writer, "write", slow_write)
    rec = Recorder(tmp_path / "slow.mp4", fps=30, queue_size=2)
    frame = make_frame(0, 640, 480)
    t0 = time.perf_counter()
    accepted = [rec.write(None, frame) for _ in range(30)]
    assert time.perf_counter() - t0 < 0.25
    assert 2 <= sum(accepted) <= 3  # the queue plus the one the worker holds
    assert rec.frames_dropped == 30 - sum(accepted)
    gate.set()
    rec.close()
    assert rec.frames_written == sum(accepted)


def test_write_never_raises_on_bad_input(tmp_path):
    rec = Recorder(tmp_path / "bad.mp4", fps=30)
    assert rec.write(None, None) is False
    assert rec.write(np.zeros((4, 4, 3), np.float32), None) is False
    assert rec.write("not an image", 5) is False  # type: ignore[arg-type]
    rec.close()
    assert rec.write(None, make_frame(0)) is False  # closed
    assert rec.error is None


def test_redaction_and_watermark(tmp_path):
    frames = [np.full((120, 200, 3), 200, np.uint8) for _ in range(5)]
    box = (120, 10, 60, 40)
    _record(tmp_path / "red.mp4", frames, redact=[box])
    _record(tmp_path / "wm.mp4", frames, watermark=True)
    _record(tmp_path / "plain.mp4", frames)
    red, wm, plain = (decode_all(tmp_path / f"{n}.mp4")[2] for n in ("red", "wm", "plain"))
    x, y, w, h = box
    assert red[y + 2 : y + h - 2, x + 2 : x + w - 2].max() < 20  # black inside
    assert red[70:, :100].min() > 180  # untouched outside
    assert plain[y : y + h, x : x + w].min() > 180
    corner = (slice(90, 120), slice(0, 120))
    changed = np.abs(wm[corner].astype(int) - plain[corner]).max(axis=2) > 60
    assert changed.mean() > 0.03  # the text covers a visible part of the corner
    assert wm[corner].max() > 235 and wm[corner].min() < 40  # white text, black outline
    far = (slice(0, 40), slice(140, 200))
    assert np.abs(wm[far].astype(int) - plain[far]).max() < 12


def test_crash_leaves_a_playable_file(tmp_path):
    """SIGKILL mid-recording: the file plays back >= 90 % of the frames reported written."""
    out = tmp_path / "crash.mp4"
    cmd = [sys.executable, str(HERE / "media_helpers.py"), str(out), "3000", "30", "60"]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    watchdog = threading.Timer(30, child.kill)
    watchdog.start()
    written = 0
    try:
        for line in child.stdout:
            written = int(line)
            if written >= 120:
                child.send_signal(signal.SIGKILL)
                break
    finally:
        child.kill()
        child.wait()
        watchdog.cancel()
    assert written >= 120, "the child stopped before writing 120 frames"
    assert child.returncode == -signal.SIGKILL
    frames = decode_all(out)
    codes = [read_barcode(f) for f in frames]
    assert codes == list(range(len(frames)))
    assert len(frames) >= 0.9 * written, (len(frames), written)


class _Calls(list):
    """An ``on_error`` sink: keeps the messages and sets an event on the first."""

    def __init__(self, event: threading.Event) -> None:
        super().__init__()
        self.event = event

    def append(self, msg: str) -> None:  # the recorder's thread
        super().append(msg)
        self.event.set()


def _error_sink() -> tuple[_Calls, threading.Event]:
    event = threading.Event()
    return _Calls(event), event


def _assert_stopped_cleanly(rec: Recorder, calls: list[str], path: Path) -> None:
    assert rec.error and "disk is full" in rec.error and str(path) in rec.error
    assert "kept and playable" in rec.error
    assert calls == [rec.error]  # reported once
    assert not rec.recording
    assert rec.write(None, make_frame(0)) is False  # no exception after the failure
    rec.close()
    frames = decode_all(path)
    assert len(frames) > 0
    assert [read_barcode(f) for f in frames] == list(range(len(frames)))


def test_disk_full_stops_cleanly_injected(tmp_path, monkeypatch):
    """A full disk, injected at the muxer write: works without root (see the tmpfs test)."""
    real_write = recorder_mod.Mp4Writer.write

    def failing_write(self, rgb):
        if self.frames >= 10:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, rgb)

    monkeypatch.setattr(recorder_mod.Mp4Writer, "write", failing_write)
    calls, failed = _error_sink()
    path = tmp_path / "full.mp4"
    rec = Recorder(path, fps=30, on_error=calls.append, queue_size=64)
    for i in range(20):
        rec.write(None, make_frame(i))
    assert failed.wait(5), "the full disk was never reported"
    assert rec.frames_written == 10
    _assert_stopped_cleanly(rec, calls, path)


@pytest.fixture
def tiny_disk(tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True
    )
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode(errors='replace').strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_stops_cleanly_real(tiny_disk):
    """A real full disk (256 KiB tmpfs), filled with incompressible frames."""
    path = tiny_disk / "full.mp4"
    calls, failed = _error_sink()
    # the queue holds every frame, so none is dropped before the disk fills (no pacing needed)
    rec = Recorder(path, fps=30, on_error=calls.append, crf=5, queue_size=256)
    rng = np.random.default_rng(0)
    for i in range(200):
        f = make_frame(i, 320, 240)
        f[130:] = rng.integers(0, 256, (110, 320, 3), np.uint8)
        if not rec.write(None, f):
            break  # the disk filled up while frames were still coming
    assert failed.wait(30), "the tiny disk never filled up"
    assert rec.frames_dropped == 0
    _assert_stopped_cleanly(rec, calls, path)


def test_unwritable_location_is_reported(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    calls: list[str] = []
    rec = Recorder(blocker / "sub" / "r.mp4", fps=30, on_error=calls.append)
    rec.write(None, make_frame(0))
    rec.close()
    assert rec.error and rec.error.startswith("Recording stopped: could not write")
    assert "Nothing was recorded" in rec.error and calls == [rec.error]


def test_bad_arguments():
    with pytest.raises(ValueError):
        Recorder("x.mp4", fps=30, mode="video")
    with pytest.raises(ValueError):
        Recorder("x.mp4", fps=0)
