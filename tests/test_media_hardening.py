"""Hostile or awkward media in ``process``, review and --source: shared stems, mixed-size
image folders, huge headers, failures that must leave nothing behind, and GIF."""

from __future__ import annotations

import json
import struct
import time
import zlib
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from barcode import read_barcode
from media_helpers import decode_all, encode_clip, make_dicom, make_frame
from PIL import Image
from sonolive.app.cli import main
from sonolive.capture.open_source import open_source
from sonolive.capture.source import SourceError

FAST = ["--device", "cpu", "--backend", "torch", "--no-progress"]


def _lines(capsys) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_inputs_sharing_a_stem_get_distinct_outputs(tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    clips = [
        (encode_clip(d / "x.mp4", 3), 3),
        (encode_clip(d / "x.mkv", 4), 4),
        (encode_clip(d / "x.avi", 5, codec="mpeg4", fps=25), 5),
    ]
    for series, n in (("s1", 2), ("s2", 3)):
        (d / series).mkdir()
        dcm = make_dicom(d / series / "IM_0001.dcm", [make_frame(i) for i in range(n)])
        clips.append((dcm, n))
    out = tmp_path / "OUT"
    assert main(["process", *[str(p) for p, _ in clips], "-o", str(out), *FAST]) == 0
    index = json.loads((out / "process_index.json").read_text())
    assert [e["input"] for e in index] == [str(p) for p, _ in clips]
    videos = [Path(e["outputs"]["video"]) for e in index]
    assert len(set(videos)) == len(clips)  # nothing overwritten
    for (_, n), e, video in zip(clips, index, videos, strict=True):
        assert e["ok"] and e["frames"] == n
        assert [read_barcode(f) for f in decode_all(video)] == list(range(n))
        summary = json.loads(Path(e["outputs"]["summary"]).read_text())
        assert summary["frames"] == n and summary["outputs"]["video"] == str(video)
    err = _lines(capsys)
    for p, _ in clips:  # the closing summary lists every input
        assert any(ln.startswith(f"  {p}: ") for ln in err), err


def test_mixed_size_image_folder_is_letterboxed_not_cropped(tmp_path, capsys):
    folder = tmp_path / "stills"
    folder.mkdir()
    small = np.full((120, 160, 3), 40, np.uint8)
    big = np.full((240, 320, 3), 40, np.uint8)
    big[200:, 270:] = (255, 255, 255)  # a white block in the bottom-right corner
    wide = np.full((120, 320, 3), 40, np.uint8)  # other aspect: bars above and below
    for i, img in enumerate((small, big, wide)):
        cv2.imwrite(str(folder / f"{i}.png"), img[:, :, ::-1])
    src = open_source(str(folder), paced=False)
    src.open()
    frames = [src.read().pixels for _ in range(3)]
    assert all(f.shape == (120, 160, 3) for f in frames)
    assert frames[1][110:, 145:].min() >= 250  # the corner survived, scaled down
    assert frames[2][:25].max() == 0 and frames[2][60, 80, 0] == 40  # letterbox bars
    out = tmp_path / "OUT"
    assert main(["process", str(folder), "-o", str(out), *FAST]) == 0
    video = decode_all(out / "stills_annotated.mp4")
    assert len(video) == 3 and video[1].shape[:2] == (120, 160)


def _png_header_bomb(path: Path, w: int, h: int) -> Path:
    """A valid 1-bit greyscale PNG of w x h pixels (a few KiB on disk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes((w + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(h)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
    path.write_bytes(png + chunk(b"IEND", b""))
    return path


def _huge_clip(path: Path) -> Path:
    """One black 8000x8000 MJPEG frame in an AVI."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("mjpeg", rate=1)
        s.width = s.height = 8000
        s.pix_fmt = "yuvj420p"
        f = av.VideoFrame(8000, 8000, "yuvj420p")
        for plane in f.planes:
            plane.update(bytes(plane.buffer_size))
        for packet in [*s.encode(f), *s.encode(None)]:
            c.mux(packet)
    return path


def test_huge_frames_are_refused_from_the_header(tmp_path, capsys):
    clip = _huge_clip(tmp_path / "huge.avi")
    stills = tmp_path / "stills"
    stills.mkdir()
    _png_header_bomb(stills / "0.png", 20000, 20000)
    assert struct.unpack(">II", (stills / "0.png").read_bytes()[16:24]) == (20000, 20000)
    for spec in (clip, stills):
        t0 = time.perf_counter()
        with pytest.raises(SourceError, match="megapixels"):
            open_source(str(spec), paced=False).open()
        assert time.perf_counter() - t0 < 3.0
    out = tmp_path / "OUT"
    assert main(["process", str(clip), str(stills), "-o", str(out), *FAST]) == 1
    err = _lines(capsys)
    assert (
        f"{clip}: frames are 8000x8000 pixels (64.0 megapixels); SonoLive reads at most" in (err[0])
    )
    assert err[1].startswith(f"{stills}: 0.png:") and "megapixels" in err[1]


def test_failed_inputs_leave_no_outputs_and_keep_their_reason(tmp_path, capsys):
    import pydicom

    stills = tmp_path / "stills"
    stills.mkdir()
    for i in range(3):
        cv2.imwrite(str(stills / f"{i}.png"), make_frame(i)[:, :, ::-1])
    (stills / "3.png").write_bytes(b"not a png at all")  # fails after 3 good frames
    dcm = make_dicom(tmp_path / "nopix.dcm", [make_frame(0)])
    ds = pydicom.dcmread(dcm)
    del ds.PixelData
    ds.save_as(dcm)
    out = tmp_path / "OUT"
    assert main(["process", str(stills), str(dcm), "-o", str(out), *FAST]) == 1
    err = _lines(capsys)
    assert err[0] == f"{stills}: 3.png is not a readable image", err
    assert err[1] == (f"{dcm}: not a readable DICOM cine: it contains no image (no Pixel Data)"), (
        err
    )
    assert sorted(p.name for p in out.iterdir()) == ["process_index.json"]  # no partial files
    index = json.loads((out / "process_index.json").read_text())
    assert [e["ok"] for e in index] == [False, False]
    assert "no Pixel Data" in index[1]["reason"]


def _gif(path: Path, n: int) -> Path:
    frames = [Image.fromarray(make_frame(i)) for i in range(n)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def test_gif_plays_in_process_and_as_a_source_with_every_frame(tmp_path, capsys):
    gif = _gif(tmp_path / "atlas.gif", 7)
    src = open_source(str(gif), paced=False)
    src.open()
    assert src.frame_count == 7 and src.fps == pytest.approx(10.0)
    assert [read_barcode(src.read().pixels) for _ in range(7)] == list(range(7))
    out = tmp_path / "OUT"
    assert main(["process", str(gif), "-o", str(out), *FAST]) == 0
    assert [read_barcode(f) for f in decode_all(out / "atlas_annotated.mp4")] == list(range(7))


def test_gif_opens_in_review_with_its_frame_count(qtbot, settings, tmp_path):
    from sonolive.app.main_window import MainWindow
    from sonolive.app.review.controller import CLIP_EXTENSIONS
    from sonolive.capture.replay import ReplaySource

    assert ".gif" in CLIP_EXTENSIONS  # offered by the Open clip dialog and drag-and-drop
    gif = _gif(tmp_path / "atlas.gif", 6)
    win = MainWindow(
        ReplaySource([make_frame(i) for i in range(3)], fps=30), None, settings, "cpu", "review"
    )
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.review.opened, timeout=15000) as opened:
        win.review.open(str(gif))
    assert opened.args[2] == 6 and opened.args[3] == pytest.approx(10.0)
    win.close()
