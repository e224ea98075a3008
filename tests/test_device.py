"""Capture-card input: enumeration, format negotiation, watchdog and reconnect.

The outage tests run a :class:`FakeCaptureCard` on a real PyAV-encoded clip in real time;
each clip frame carries its number as a barcode, so frames from before an outage can be told
from frames after it. The deadlines (lost within 1 s, back within 2 s) are the spec's.
"""

from __future__ import annotations

import threading
import time

import cv2
import pytest
from barcode import CORNER, read_barcode
from fake_capture_card import FakeCaptureCard, decode_clip_bgr, encode_barcode_clip
from sonolive.capture.capture_card import LIVE, LOST, DeviceSource
from sonolive.capture.device_enum import (
    DeviceInfo,
    backends_for_os,
    find_device,
    list_devices,
    match_device,
)
from sonolive.capture.source import SourceError


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    # 12 s at 30 fps: longer than any schedule below, so barcodes never wrap
    return encode_barcode_clip(tmp_path_factory.mktemp("clip") / "bar.mp4", frames=360, fps=30)


class Recorder:
    """Reads a source on its own thread, like the pipeline does, and logs what it sees."""

    def __init__(self, src: DeviceSource) -> None:
        self.src = src
        self.frames: list[tuple[float, int, int]] = []  # (t, index, barcode)
        self.errors: list[tuple[float, str]] = []
        self.states: list[tuple[float, str, str]] = []
        src.on_state(lambda s, r: self.states.append((time.perf_counter(), s, r)))
        self._until = lambda: False
        self._done = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.is_set():
            try:
                f = self.src.read()
            except SourceError as e:
                self.errors.append((time.perf_counter(), str(e)))
                continue
            self.frames.append((time.perf_counter(), f.index, read_barcode(f.pixels, CORNER)))
            if self._until():
                self._done.set()

    def run_until(self, until, timeout: float) -> None:
        """Read frames until ``until()`` holds after a frame (checked on the reader thread)."""
        self._until = until
        self._t.start()
        reached = self._done.wait(timeout)
        self._done.set()
        self._t.join(2.0)
        assert reached, "the condition was not reached in time"

    def live_frames_after(self, t: float, seconds: float = 0.0):
        """A condition: the source went live after ``t`` and frames have flowed ``seconds``
        since."""

        def cond() -> bool:
            back = self.first_state(LIVE, after=t)
            return back is not None and self.frames[-1][0] > max(back, t) + seconds

        return cond

    def first_state(self, state: str, after: float) -> float | None:
        return next((t for t, s, _ in self.states if s == state and t >= after), None)


def _bounds(card: FakeCaptureCard, phase: str) -> tuple[float, float]:
    return next((a, b) for ph, a, b in card.phase_bounds() if ph == phase)


def _check_ordered(rec: Recorder) -> None:
    idx = [i for _, i, _ in rec.frames]
    bars = [b for _, _, b in rec.frames]
    assert idx == sorted(set(idx)), "frame indices must keep increasing"
    assert bars == sorted(set(bars)), "a frame was delivered twice or out of order"


def test_freeze_then_error_then_back(clip):
    card = FakeCaptureCard(
        clip, schedule=[("live", 1.0), ("freeze", 1.0), ("error", 0.5), ("live", 3.0)]
    )
    src = DeviceSource("fake card", opener=card)
    rec = Recorder(src)
    src.open()
    out_start, _ = _bounds(card, "freeze")
    _, back = _bounds(card, "error")
    try:
        rec.run_until(rec.live_frames_after(back, 1.6), timeout=10)
    finally:
        src.close()

    t_lost = rec.first_state(LOST, after=out_start)
    assert t_lost is not None and t_lost - out_start <= 1.0, "not reported lost within 1 s"
    lost_reasons = [r for _, s, r in rec.states if s == LOST]
    assert lost_reasons[0] == "the picture is frozen"
    assert any("read error" in r for r in lost_reasons)
    assert any(m.startswith("No signal: Fake USB3 Video Capture (") for _, m in rec.errors)

    t_live = rec.first_state(LIVE, after=back)
    assert t_live is not None and t_live - back <= 2.0, "not back within 2 s of the signal"
    assert src.state == LIVE and src.status_reason == ""
    assert card.opens >= 2, "the device was never re-opened"
    post = [(t, b) for t, _, b in rec.frames if t > t_lost]
    assert post and post[0][0] - back <= 2.0
    assert any(t > back + 1.5 for t, _ in post), "frames stopped flowing after recovery"
    pre = [b for t, _, b in rec.frames if t <= out_start]
    assert pre, "no frames before the outage"
    # nothing from before the outage after it: post-outage barcodes are from after the return
    first_back = card.frame_number_at(back)
    assert min(b for _, b in post) >= first_back - 1 > max(pre)
    _check_ordered(rec)


def test_blocked_read_is_lost_and_stale_buffer_dropped(clip):
    card = FakeCaptureCard(clip, schedule=[("live", 0.6), ("block", 1.2), ("live", 3.0)])
    src = DeviceSource("fake card", opener=card)
    rec = Recorder(src)
    src.open()
    b_start, b_end = _bounds(card, "block")
    try:
        rec.run_until(rec.live_frames_after(b_end), timeout=10)
    finally:
        src.close()
    t_lost = rec.first_state(LOST, after=b_start)
    assert t_lost is not None and t_lost - b_start <= 1.0
    assert any("no frames for" in r for _, s, r in rec.states if s == LOST)
    t_live = rec.first_state(LIVE, after=b_end)
    assert t_live is not None and t_live - b_end <= 2.0
    assert card.opens >= 2
    pre = [b for t, _, b in rec.frames if t <= b_start]
    post = [b for t, _, b in rec.frames if t > t_lost]
    # the first handle hands back its old buffer when the hang ends: it must not get through
    assert post and min(post) > max(pre)
    _check_ordered(rec)


def test_unplug_and_replug(clip):
    card = FakeCaptureCard(
        clip,
        schedule=[("live", 0.5), ("unplugged", 1.0), ("live", 3.0)],
        unplugged_raises=True,
    )
    src = DeviceSource("fake card", opener=card)
    rec = Recorder(src)
    src.open()
    u_start, u_end = _bounds(card, "unplugged")
    try:
        rec.run_until(rec.live_frames_after(u_end), timeout=10)
    finally:
        src.close()
    t_lost = rec.first_state(LOST, after=u_start)
    assert t_lost is not None and t_lost - u_start <= 1.0
    assert any("could not be opened" in r for _, s, r in rec.states if s == LOST)
    t_live = rec.first_state(LIVE, after=u_end)
    assert t_live is not None and t_live - u_end <= 2.0
    assert card.opens >= 3  # failed attempts while unplugged, then the successful one
    _check_ordered(rec)


def test_missing_device_is_a_plain_source_error():
    def opener(_match):
        raise OSError("no such device")

    src = DeviceSource("USB Video", opener=opener)
    with pytest.raises(SourceError) as e:
        src.open()
    assert str(e.value).startswith("No signal: USB Video (")
    assert "could not be opened" in str(e.value)
    assert src.state == LOST
    with pytest.raises(SourceError):
        src.read()

    # the real path: no device with this VID:PID is plugged in (none at all on CI)
    src = DeviceSource("ffff:fffe")
    with pytest.raises(SourceError, match=r"No signal: ffff:fffe \(no capture device"):
        src.open()


def test_closed_handle_from_opener_is_reported(clip):
    card = FakeCaptureCard(clip, schedule=[("unplugged", 60.0)])
    src = DeviceSource("fake card", opener=card)
    with pytest.raises(SourceError, match="could not be opened"):
        src.open()


@pytest.mark.parametrize(
    "limit,fmt,expect",
    [
        (None, "auto", "YUYV"),  # the bus carries raw 60 fps: stay uncompressed
        (30.0, "auto", "MJPG"),  # raw only gives 30 of the 60 fps asked: fall back to MJPG
        (30.0, "NV12", "NV12"),  # an explicit format is kept
    ],
)
def test_format_negotiation(clip, limit, fmt, expect):
    frames, _ = decode_clip_bgr(clip, max_frames=3)
    card = FakeCaptureCard(frames=frames, fps=60.0, max_uncompressed_fps=limit)
    src = DeviceSource("fake card", fps=60.0, pixel_format=fmt, opener=card)
    src.open()
    try:
        assert src.negotiated["fourcc"] == expect
        assert src.negotiated["width"] == 320 and src.negotiated["height"] == 240
        assert src.negotiated["fps"] == (30.0 if expect == "NV12" else 60.0)
        compressed = "compressed: fine detail may be lost" in src.format_note
        assert compressed == (expect == "MJPG")
        assert expect in src.describe()
        assert src.describe().startswith("Fake USB3 Video Capture")
        f = src.read()
        assert f.pixels.shape == (240, 320, 3) and f.source == "Fake USB3 Video Capture"
        # the driver's BGR arrives as RGB
        bgr = card.clip_frame(read_barcode(f.pixels, CORNER))
        assert (f.pixels == bgr[..., ::-1]).all()
    finally:
        src.close()
    assert card.devices[-1].get(cv2.CAP_PROP_BUFFERSIZE) == 1.0  # low-latency setting


def test_fake_clip_barcodes_survive_encoding(clip):
    frames, fps = decode_clip_bgr(clip, max_frames=40)
    assert fps == pytest.approx(30.0)
    assert [read_barcode(f, CORNER) for f in frames] == list(range(40))


# ----------------------------------------------------------------------------- enumeration
class _Cam:
    def __init__(self, index, name, path, vid, pid, backend):
        self.index, self.name, self.path = index, name, path
        self.vid, self.pid, self.backend = vid, pid, backend


def _enum(cams):
    return lambda backend: [_Cam(*c, backend) for c in cams]


def test_list_devices_never_raises():
    def boom(backend):
        raise RuntimeError("driver exploded")

    assert list_devices(boom) == []
    assert list_devices(_enum([])) == []
    assert isinstance(list_devices(), list)  # the real enumeration, whatever is plugged in


def test_backends_per_os():
    assert backends_for_os("Linux") == [cv2.CAP_V4L2]
    assert backends_for_os("Windows") == [cv2.CAP_MSMF, cv2.CAP_DSHOW]
    assert backends_for_os("Darwin") == [cv2.CAP_AVFOUNDATION]


def test_windows_falls_back_to_dshow():
    seen = []

    def fn(backend):
        seen.append(backend)
        if backend == cv2.CAP_MSMF:
            return []
        return [_Cam(0, "USB3 Capture", None, 0x534D, 0x2109, backend)]

    devs = list_devices(fn, backends=[cv2.CAP_MSMF, cv2.CAP_DSHOW])
    assert seen == [cv2.CAP_MSMF, cv2.CAP_DSHOW]
    assert devs[0].backend == cv2.CAP_DSHOW and devs[0].vid_pid == "534d:2109"


def test_find_device_prefers_vid_pid_then_name_then_index():
    cams = [
        (0, "Integrated Webcam", "/dev/video0", 0x0BDA, 0x1234),
        (2, "USB3 Video Capture", "/dev/video2", 0x534D, 0x2109),
        (4, "Other Grabber", "/dev/video4", 0x1E4E, 0x7103),
    ]
    fn = _enum(cams)
    assert find_device("534D:2109", fn).index == 2
    assert find_device("534d:2109", fn).name == "USB3 Video Capture"
    assert find_device("dead:beef", fn) is None  # an absent VID:PID never falls through
    assert find_device("video capture", fn).index == 2
    assert find_device("4", fn).name == "Other Grabber"
    assert find_device("/dev/video4", fn).index == 4
    assert find_device("nothing like it", fn) is None
    # a name that is all digits matches by name before index
    assert (
        find_device("2", _enum([(1, "Cam 2", None, None, None), (2, "X", None, None, None)])).index
        == 1
    )

    # replug: the card comes back at another index; a remembered DeviceInfo follows it
    remembered = find_device("534d:2109", fn)
    moved = _enum(
        [
            (0, "Integrated Webcam", "/dev/video0", 0x0BDA, 0x1234),
            (6, "USB3 Video Capture", "/dev/video6", 0x534D, 0x2109),
        ]
    )
    assert find_device(remembered, moved).index == 6
    # no VID:PID reported: match the name, not the old index
    plain = DeviceInfo(2, "Grabber", None, None, None, 200)
    devs = [
        DeviceInfo(2, "Webcam", None, None, None, 200),
        DeviceInfo(5, "Grabber", None, None, None, 200),
    ]
    assert match_device(plain, devs).index == 5
