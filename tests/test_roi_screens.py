"""Scanner screens built around real recordings (issue 26): 1920x1080, menus, patient text
on a light bar right above the picture and on a dark bar below it, a side panel right
beside it with a running clock and a frame counter, a freeze, a depth change, 15 and 25 fps
content shown at 30 and 60 Hz, through H.264 at realistic bit rates.

The decoded frames go through the live :class:`RoiStage` (the one ROI path, also used by
Review, annotation and ``process``): on the first frame, the last and the first frames after
a depth change, the region keeps at least 95% of the picture and no pixel of burned-in text.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from real_clips import decode, picture_mask, pocus_dir
from scanner_screens import RealScreen, text_pixels
from sonolive.capture.frame import Frame
from sonolive.capture.roi_stage import LOCKED, RoiStage

DATA = pocus_dir()
pytestmark = pytest.mark.skipif(DATA is None, reason="shared pocus-ccby recordings not present")


def _clip(name: str, n: int = 40):
    frames, _ = decode(DATA / name)
    return frames[:n], picture_mask(frames)


def _h264(path: Path, frames, hz: float, mbps: float) -> list[np.ndarray]:
    """``frames`` through libx264 at ``mbps`` Mbit/s, decoded back."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=int(hz))
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        s.bit_rate = int(mbps * 1e6)
        s.options = {"preset": "ultrafast"}
        for f in frames:
            c.mux(s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        c.mux(s.encode())
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def _run(frames, hz: float):
    stage = RoiStage(detect_frames=round(hz), fps=hz)
    return stage, [
        stage(Frame(pixels=px, timestamp=i / hz, index=i)) for i, px in enumerate(frames)
    ]


def _check(scr: RealScreen, out, i: int) -> None:
    roi = out[i].roi
    truth = scr.truth(i)
    x, y, w, h = roi
    kept = truth[y : y + h, x : x + w].sum() / truth.sum()
    assert kept >= 0.95, (i, roi, scr.truth_box(i), kept)
    assert text_pixels(roi, scr.boxes(i)) == 0, (i, roi)


CASES = {
    # name: (clip, content fps, display Hz, Mbit/s, frames, depth change, freeze, background)
    "dark-15fps-at-30Hz-depth-freeze": (
        "Reg_pat2Image_134240.mpeg",
        15,
        30,
        6,
        96,
        (50, 860),
        (20, 34),
        (0, 0, 0),
    ),
    "bright-25fps-at-60Hz": (
        "Cov_convex_volpecelli_sonographic_v1.mov",
        25,
        60,
        8,
        76,
        None,
        None,
        (16, 18, 24),
    ),
    "whitelung-25fps-at-30Hz-4Mbps": (
        "Vir_whitelung_h1n1.mp4",
        25,
        30,
        4,
        44,
        None,
        (30, 44),
        (0, 0, 0),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_region_on_a_scanner_screen_around_a_real_recording(case, tmp_path):
    name, fps, hz, mbps, n, depth, freeze, bg = CASES[case]
    clip, pic = _clip(name)
    scr = RealScreen(
        clip,
        pic,
        content_fps=fps,
        display_hz=hz,
        lines=700,
        depth=depth,
        freeze=freeze,
        background=bg,
    )
    frames = _h264(tmp_path / "screen.mp4", [scr.frame(i) for i in range(n)], hz, mbps)
    stage, out = _run(frames, hz)
    assert stage.state == LOCKED and stage.notice is None
    first = next(i for i, f in enumerate(out) if f is not None)
    assert first <= hz  # locked within about a second
    _check(scr, out, first)
    _check(scr, out, n - 1)
    if depth is not None:
        switched = next(i for i in range(depth[0], n) if out[i].roi != out[depth[0] - 1].roi)
        assert switched - depth[0] <= 1.5 * hz
        _check(scr, out, switched)
        _check(scr, out, depth[0] - 1)
