"""ClipSource, DicomClipSource and open_source on real files encoded inside the tests."""

from __future__ import annotations

import random
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from barcode import read_barcode
from media_helpers import PATCHES, encode_clip, make_dicom, make_frame, patch_colours
from sonolive.capture.clip import ClipSource
from sonolive.capture.dicom_clip import DicomClipSource, _frame_rate
from sonolive.capture.open_source import open_source
from sonolive.capture.source import EndOfStream, SourceError

# irregular gaps (ms) for the variable-frame-rate clip
VFR_GAPS = [33, 17, 50, 8, 100, 33, 25, 66]
VFR_N = 48
VFR_PTS = [0]
for _i in range(1, VFR_N):
    VFR_PTS.append(VFR_PTS[-1] + VFR_GAPS[_i % len(VFR_GAPS)])

# name -> (file name, frames, width, height, encode kwargs)
CLIPS = {
    "h264_mp4": ("h264.mp4", 75, 322, 242, {"gop": 12, "options": {"preset": "veryfast"}}),
    "mjpeg_avi": ("mjpeg.avi", 40, 321, 241, {"codec": "mjpeg"}),
    "h264_mkv": ("h264.mkv", 40, 160, 120, {"gop": 10}),
    "h264_mov": ("h264.mov", 40, 160, 120, {"gop": 10}),
    "vfr_mp4": (
        "vfr.mp4",
        VFR_N,
        160,
        120,
        {"pts": VFR_PTS, "time_base": Fraction(1, 1000), "gop": 8},
    ),
}


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("clips")
    for fname, n, w, h, kw in CLIPS.values():
        encode_clip(d / fname, n, w, h, **kw)
    return d


def _open(media: Path, key: str, **kw) -> ClipSource:
    src = ClipSource(media / CLIPS[key][0], paced=False, **kw)
    src.open()
    return src


@pytest.mark.parametrize("key", list(CLIPS))
def test_sequential_read_gives_every_frame_in_order(media, key):
    fname, n, w, h, _ = CLIPS[key]
    with _open(media, key) as src:
        assert src.frame_count == n
        codes, indices, stamps = [], [], []
        with pytest.raises(EndOfStream):
            for _ in range(n + 5):
                f = src.read()
                codes.append(read_barcode(f.pixels))
                indices.append(f.index)
                stamps.append(f.timestamp)
                assert f.pixels.shape == (h, w, 3)
                assert f.source == fname
    assert codes == list(range(n))
    assert indices == list(range(n))
    assert stamps[0] == 0.0
    assert np.all(np.diff(stamps) > 0)


@pytest.mark.parametrize("key", list(CLIPS))
def test_seek_returns_exactly_that_frame(media, key):
    n = CLIPS[key][1]
    order = [0, n - 1, n // 2, 1, n - 2, 0]
    order += random.Random(7).sample(range(n), 12)
    with _open(media, key) as src:
        for i in order:
            f = src.seek(i)
            assert (f.index, read_barcode(f.pixels)) == (i, i)
            assert f.timestamp == pytest.approx(src.frame_time(i))
        # stepping backwards frame by frame, then reading on after a seek
        for i in range(n - 1, n - 6, -1):
            assert read_barcode(src.seek(i).pixels) == i
        src.seek(n // 3)
        assert [read_barcode(src.read().pixels) for _ in range(3)] == [
            n // 3 + k for k in (1, 2, 3)
        ]
        with pytest.raises(IndexError):
            src.seek(n)


def test_variable_frame_rate_times_follow_the_pts(media):
    with _open(media, "vfr_mp4") as src:
        expected = [t / 1000 for t in VFR_PTS]
        got = [src.frame_time(i) for i in range(src.frame_count)]
        assert got == pytest.approx(expected, abs=1e-3)
        f = src.seek(20)
        assert f.timestamp == pytest.approx(VFR_PTS[20] / 1000, abs=1e-3)
        assert src.duration > expected[-1]


def test_properties_and_describe(media):
    with _open(media, "h264_mp4") as src:
        assert src.seekable and src.fps == pytest.approx(30.0)
        assert src.duration == pytest.approx(75 / 30, abs=0.05)
        assert "h264.mp4" in src.describe()
        src.speed = 10
        assert src.speed == 4.0
        src.speed = 0.1
        assert src.speed == 0.25


def test_paced_read_follows_fps_times_speed(media):
    def elapsed(speed: float) -> float:
        with ClipSource(media / "h264.mkv", paced=True) as src:
            src.speed = speed
            src.read()
            t0 = time.perf_counter()
            for _ in range(12):
                src.read()
            return time.perf_counter() - t0

    normal, fast = elapsed(1.0), elapsed(4.0)
    assert normal >= 0.36  # 12 frames at 30 fps = 0.4 s: never faster than the clip
    assert fast < normal * 0.5  # 0.1 s ideally


def test_loop_restarts_at_frame_zero(media):
    with _open(media, "h264_mkv", loop=True) as src:
        codes = [read_barcode(src.read().pixels) for _ in range(45)]
    assert codes == list(range(40)) + list(range(5))


def _cut(src: Path, dst: Path, fraction: float = 0.5) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


@pytest.mark.parametrize("movflags", ["faststart", "frag_keyframe+empty_moov+default_base_moof"])
def test_truncated_clip_delivers_its_decodable_frames_then_ends(tmp_path, movflags):
    full = encode_clip(tmp_path / "full.mp4", 90, gop=10, container_options={"movflags": movflags})
    cut = _cut(full, tmp_path / "cut.mp4")
    src = ClipSource(cut, paced=False)
    src.open()
    usable = src.frame_count
    assert 10 <= usable < 80
    codes = []
    with pytest.raises(EndOfStream):
        while True:
            codes.append(read_barcode(src.read().pixels))
    assert codes == list(range(usable))
    assert src.frame_count == usable
    assert read_barcode(src.seek(usable - 1).pixels) == usable - 1
    if movflags == "faststart":  # the header declares 90 frames: the damage is reported
        assert src.warning and "cut.mp4" in src.warning and str(usable) in src.warning
    src.close()


def test_truncated_clip_without_index_is_a_plain_error(tmp_path):
    full = encode_clip(tmp_path / "full.mp4", 60)  # moov atom at the end: cut loses it
    cut = _cut(full, tmp_path / "clip.mp4")
    with pytest.raises(SourceError) as e:
        ClipSource(cut).open()
    msg = str(e.value)
    assert "clip.mp4 is not a readable video (truncated or corrupt)" in msg
    assert "Errno" not in msg


@pytest.mark.parametrize("kind", ["random", "text"])
def test_corrupt_file_is_a_plain_error(tmp_path, kind):
    path = tmp_path / f"{kind}.mp4"
    if kind == "random":
        path.write_bytes(np.random.default_rng(1).integers(0, 256, 20000, np.uint8).tobytes())
    else:
        path.write_text("This is a text file, renamed.\n" * 50)
    with pytest.raises(SourceError) as e:
        with ClipSource(path):
            pass
    assert f"{kind}.mp4 is not a readable video" in str(e.value)
    assert "Errno" not in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match="File not found: .*nope.mp4"):
        ClipSource(tmp_path / "nope.mp4").open()


# -- DICOM -----------------------------------------------------------------------------------

DCM_N = 24


@pytest.fixture(scope="module")
def dicoms(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("dicom")
    frames = [make_frame(i, 160, 120) for i in range(DCM_N)]
    return {
        "rgb": make_dicom(d / "rgb.dcm", frames, photometric="RGB"),
        "ybr": make_dicom(d / "ybr.dcm", frames, photometric="YBR_FULL"),
        "mono": make_dicom(d / "mono.dcm", frames, photometric="MONOCHROME2"),
        "jpeg": make_dicom(d / "jpeg.dcm", frames, jpeg=True),
    }


def _check_colours(rgb: np.ndarray, kind: str) -> None:
    got = patch_colours(rgb)
    for name, want in PATCHES.items():
        want = np.array(want, float)
        if kind == "mono":
            g = got[name]
            assert abs(g[0] - g[1]) < 1 and abs(g[1] - g[2]) < 1  # grey -> R = G = B
            assert g[0] == pytest.approx(want.mean(), abs=2)
        else:
            assert np.abs(got[name] - want).max() < (12 if kind == "jpeg" else 3), name


@pytest.mark.parametrize("kind", ["rgb", "ybr", "mono", "jpeg"])
def test_dicom_cine(dicoms, kind):
    with DicomClipSource(dicoms[kind], paced=False) as src:
        assert src.frame_count == DCM_N
        assert src.fps == pytest.approx(25.0)  # FrameTime 40 ms
        for i in [0, DCM_N - 1, 7, 3, 15]:
            f = src.seek(i)
            assert read_barcode(f.pixels) == i and f.index == i
            assert f.timestamp == pytest.approx(i / 25)
            assert f.pixels.shape == (120, 160, 3) and f.pixels.dtype == np.uint8
        _check_colours(src.seek(5).pixels, kind)
        assert read_barcode(src.read().pixels) == 6
        src.seek(DCM_N - 2)
        src.read()
        with pytest.raises(EndOfStream):
            src.read()


def test_dicom_sequential_and_paced(dicoms):
    with DicomClipSource(dicoms["rgb"], paced=False) as src:
        codes = []
        with pytest.raises(EndOfStream):
            while True:
                codes.append(read_barcode(src.read().pixels))
        assert codes == list(range(DCM_N))
    with DicomClipSource(dicoms["rgb"], paced=True) as src:
        src.speed = 2.0
        src.read()
        t0 = time.perf_counter()
        for _ in range(10):
            src.read()
        assert time.perf_counter() - t0 >= 0.18  # 10 frames at 25 fps x 2 = 0.2 s


def test_dicom_jpeg_opencv_fallback(dicoms, monkeypatch):
    """Without a pydicom JPEG plugin (no Pillow) OpenCV decodes JPEG Baseline frames."""
    from pydicom.pixels.decoders.base import Decoder

    monkeypatch.setattr(Decoder, "is_available", property(lambda self: False))
    with DicomClipSource(dicoms["jpeg"], paced=False) as src:
        assert src.decoder_name == "opencv"
        f = src.seek(11)
        assert read_barcode(f.pixels) == 11
        _check_colours(f.pixels, "jpeg")


def test_dicom_frame_rate_sources():
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.NumberOfFrames = 3
    assert _frame_rate(ds) == (30.0, None)
    ds.RecommendedDisplayFrameRate = 15
    assert _frame_rate(ds)[0] == 15.0
    ds.CineRate = 20
    assert _frame_rate(ds)[0] == 20.0
    ds.FrameTime = 20.0
    assert _frame_rate(ds)[0] == 50.0
    ds.FrameTimeVector = [0, 10, 30]
    fps, times = _frame_rate(ds)
    assert times == pytest.approx([0.0, 0.01, 0.04]) and fps == pytest.approx(50.0)


def test_dicom_bad_files(tmp_path):
    txt = tmp_path / "notes.dcm"
    txt.write_text("not dicom at all")
    with pytest.raises(SourceError, match="notes.dcm is not a readable DICOM cine"):
        DicomClipSource(txt).open()
    with pytest.raises(SourceError, match="File not found"):
        DicomClipSource(tmp_path / "none.dcm").open()
    import pydicom

    good = make_dicom(tmp_path / "x.dcm", [make_frame(0)])
    ds = pydicom.dcmread(good)
    del ds.PixelData
    ds.save_as(tmp_path / "nopix.dcm")
    with pytest.raises(SourceError, match="no image"):
        DicomClipSource(tmp_path / "nopix.dcm").open()


# -- open_source -----------------------------------------------------------------------------


def test_open_source_picks_the_class(media, dicoms, tmp_path):
    src = open_source(str(media / "h264.mp4"), paced=False)
    assert isinstance(src, ClipSource) and src.paced is False
    assert isinstance(open_source(str(dicoms["rgb"])), DicomClipSource)
    noext = tmp_path / "IM0001"
    noext.write_bytes(dicoms["mono"].read_bytes())  # DICM magic, no extension
    assert isinstance(open_source(str(noext)), DicomClipSource)
    stream = open_source("rtsp://192.0.2.1/live")
    assert isinstance(stream, ClipSource) and not stream.seekable and not stream.paced
    assert isinstance(open_source("https://example.org/clip.mp4"), ClipSource)
    other = tmp_path / "table.csv"
    other.write_text("a,b\n")
    for bad in [str(other), str(tmp_path / "missing.mp4"), "ftp://x/y", "", str(tmp_path)]:
        with pytest.raises(SourceError):
            open_source(bad)


def test_open_source_phantom_and_device(monkeypatch):
    from sonolive.capture import capture_card as device
    from sonolive.capture import phantom

    assert isinstance(open_source("phantom"), phantom.PhantomSource)
    seen = {}

    class FakeDevice:
        def __init__(self, match, **kw):
            seen["match"] = match

    monkeypatch.setattr(device, "DeviceSource", FakeDevice)
    assert isinstance(open_source("device:0"), FakeDevice) and seen["match"] == "0"
    open_source("device:USB Capture HDMI")
    assert seen["match"] == "USB Capture HDMI"
    with pytest.raises(SourceError):
        open_source("device:")


def test_unopened_source_says_so(tmp_path):
    src = ClipSource(tmp_path / "x.mp4")
    with pytest.raises(SourceError, match="not open"):
        src.seek(0)
    with pytest.raises(SourceError, match="not open"):
        src.read()
