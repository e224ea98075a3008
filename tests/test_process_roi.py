"""``sonolive process`` with default flags on a recorded 1080p scanner screen (issue 16):
only the ultrasound image is exported, the region is reported per frame and in the summary,
and a depth change half-way is followed within one output size. Clips that are already just
the image keep their full frame."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from media_helpers import decode_all
from scanner_screens import ScannerScreen, coverage, overlaps
from sonolive.app.cli import main
from sonolive.capture.frame import Frame
from sonolive.capture.mp4_writer import Mp4Writer
from sonolive.capture.open_source import open_source
from sonolive.capture.roi import crop, fit
from sonolive.capture.roi_follow import RoiFollower
from sonolive.capture.source import EndOfStream

N, CHANGE, FPS = 50, 22, 15  # 15 fps: the follow times are in seconds, fewer frames
ROOT = Path(__file__).resolve().parents[1]


def _encode(path: Path, frames: list[np.ndarray], fps: int = FPS) -> None:
    with Mp4Writer(path, fps, crf=12, preset="ultrafast") as out:
        for f in frames:
            out.write(f)


def _decode_some(path: Path, picks) -> dict[int, np.ndarray]:
    """Only the frames ``picks`` of a clip (1080p frames are large)."""
    out = {}
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i in picks:
                out[i] = f.to_ndarray(format="rgb24")
    return out


def _diff(got: np.ndarray, want: np.ndarray) -> float:
    """Mean grey difference after a light blur, over the pixels the overlay left grey (the
    source is grey; masks, outlines and names are coloured)."""
    g = got.astype(np.int16)
    grey = cv2.erode(((g.max(2) - g.min(2)) < 10).astype(np.uint8), np.ones((7, 7), np.uint8))
    a = cv2.GaussianBlur(got[..., 1].astype(np.float32), (0, 0), 3)
    b = cv2.GaussianBlur(want[..., 1].astype(np.float32), (0, 0), 3)
    return float(np.abs(a - b)[grey > 0].mean())


@pytest.fixture(scope="module")
def screen_clip(tmp_path_factory):
    a = ScannerScreen("linear", (700, 160, 560, 520), seed=11)
    b = ScannerScreen("linear", (660, 160, 640, 820), seed=12)  # depth change: taller
    path = tmp_path_factory.mktemp("scr") / "scanner.mp4"
    _encode(path, [(a if i < CHANGE else b).frame(2 * i) for i in range(N)])
    return path, a, b


def test_process_default_exports_the_reported_roi_and_follows_a_depth_change(screen_clip, tmp_path):
    path, a, b = screen_clip
    out = tmp_path / "out"
    rc = main(["process", str(path), "-o", str(out), "--backend", "torch", "--no-progress"])
    assert rc == 0
    rows = json.loads((out / "scanner_frames.json").read_text())["frames"]
    with open(out / "scanner_frames.csv", newline="") as f:
        csv_rows = list(csv.DictReader(f))
    summary = json.loads((out / "scanner_summary.json").read_text())
    video = decode_all(out / "scanner_annotated.mp4")
    assert len(rows) == len(csv_rows) == len(video) == N
    assert [json.loads(r["roi"]) for r in csv_rows] == [r["roi"] for r in rows]

    first, last = rows[0]["roi"], rows[-1]["roi"]
    for roi, scr in ((first, a), (last, b)):
        assert coverage(roi, scr.truth) >= 0.95, (roi, scr.truth)
        for box in scr.boxes + scr.clock_boxes():
            assert not overlaps(roi, box), (roi, box)
    assert all(r["roi"] == first for r in rows[:CHANGE])
    switch = next(i for i, r in enumerate(rows) if r["roi"] != first)
    assert CHANGE < switch <= CHANGE + 1.5 * FPS  # followed within about 1.5 s
    assert summary["roi"] == first
    assert [c["roi"] for c in summary["roi_changes"]] == [first, last]
    assert summary["roi_changes"][1]["index"] == switch

    # one output size; every exported frame is the reported region's pixels (the later,
    # taller region scaled and letterboxed into the first size)
    x, y, w, h = first
    assert {v.shape for v in video} == {(h + h % 2, w + w % 2, 3)}
    picks = (0, CHANGE - 1, switch + 2, N - 1)
    source = _decode_some(path, picks)
    for i in picks:
        src = Frame(source[i], 0.0, i)
        r = rows[i]["roi"]
        top = h * 3 // 4  # above the "unlike the training data" line (a synthetic screen)
        got = video[i][:top, :w]
        err = _diff(got, fit(crop(src, r), (w, h)).pixels[:top])
        off = _diff(got, fit(crop(src, [r[0] + 24, *r[1:]]), (w, h)).pixels[:top])  # 24 px aside
        assert err < 2.0 and err < 0.3 * off, (i, err, off)


def test_process_roi_none_keeps_the_whole_screen(screen_clip, tmp_path):
    short = tmp_path / "short.mp4"
    _encode(short, list(_decode_some(screen_clip[0], range(6)).values()))
    out = tmp_path / "o"
    args = ["process", str(short), "-o", str(out), "--roi", "none", "--backend", "torch"]
    assert main([*args, "--no-progress"]) == 0
    rows = json.loads((out / "short_frames.json").read_text())["frames"]
    assert [r["roi"] for r in rows] == [[0, 0, 1920, 1080]] * 6
    assert {v.shape for v in decode_all(out / "short_annotated.mp4")} == {(1080, 1920, 3)}


def _follow_all(src) -> RoiFollower:
    fol = RoiFollower(float(src.fps))
    src.open()
    try:
        while True:
            fol.update(src.read().pixels)
    except EndOfStream:
        pass
    finally:
        src.close()
    fol.finish()
    return fol


def test_the_shipped_phantom_sample_keeps_its_full_frame():
    src = open_source(str(ROOT / "resources/samples/phantom_fast_sweep.mp4"), paced=False)
    fol = _follow_all(src)
    assert {r for _, r in fol.switches} == {(0, 0, 384, 384)} and fol.notice is None


def test_a_folder_of_stills_is_processed_whole(tmp_path):
    folder = ROOT / "resources/samples/usgra-seg-sample"
    out = tmp_path / "o"
    args = ["process", str(folder), "-o", str(out), "--backend", "torch", "--no-progress"]
    assert main(args) == 0
    rows = json.loads((out / f"{folder.name}_frames.json").read_text())["frames"]
    sizes = [cv2.imread(str(p)).shape[:2] for p in sorted((folder / "images").glob("*.png"))]
    assert len(set(sizes)) > 1, "the sample holds images of several sizes"
    # no ROI crop: every still is whole, letterboxed into the first image's size
    h0, w0 = sizes[0]
    assert [r["roi"] for r in rows] == [[0, 0, w0, h0]] * len(sizes)


def test_a_screen_without_a_region_never_exports_readable_text(tmp_path, capsys):
    """A menu screen (patient text on a light bar, a running clock, no live picture): no
    region is found, and no output frame lets the text be read back (issue 26)."""
    scr = ScannerScreen("linear", (700, 200, 560, 700), seed=13)
    frames = []
    for i in range(20):
        f = scr.base.copy()
        cv2.rectangle(f, (380, 12), (1000, 100), (170, 172, 176), -1)  # a light bar
        cv2.putText(
            f, "PATIENT: DOE^JANE", (400, 70), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (20, 20, 20), 3
        )
        scr.draw_clock(f, 2 * i)
        frames.append(f)
    path = tmp_path / "menu.mp4"
    _encode(path, frames)
    out = tmp_path / "out"
    rc = main(["process", str(path), "-o", str(out), "--backend", "torch", "--no-progress"])
    assert rc == 0
    summary = json.loads((out / "menu_summary.json").read_text())
    assert summary["roi_blanked_frames"] == len(frames)
    assert "no ultrasound region found" in summary["warning"]
    err = capsys.readouterr().err
    assert f"{path}: {len(frames)} of {len(frames)} frames written with everything outside" in err
    video = decode_all(out / "menu_annotated.mp4")
    assert len(video) == len(frames)
    for v in video:
        for x, y, w, h in [(380, 12, 620, 88), *scr.boxes, *scr.clock_boxes()]:
            if y + h < v.shape[0] * 3 // 4:  # above the app's own line at the bottom
                area = v[y : y + h, x : x + w].astype(int)
                assert area.max() - area.min() < 24, (x, y, w, h)  # flat: nothing to read
