"""The ROI covers the whole image area and follows the scanner (issue 16).

Synthetic 1920x1080 scanner screens made here (:mod:`scanner_screens`): a uniform
background, menus, burned-in patient text, a depth scale, a ticking clock and moving
speckle. Frames go through the real :class:`RoiStage` (the live capture stage) as Frames;
the ROI each output frame reports must cover at least 95% of the true image area, and no
burned-in text box may overlap it.
"""

from __future__ import annotations

import numpy as np
import pytest
from scanner_screens import ScannerScreen, coverage, overlaps
from sonolive.capture.frame import Frame
from sonolive.capture.roi_follow import NO_REGION
from sonolive.capture.roi_stage import FULL, LOCKED, RoiStage


def _run(stage: RoiStage, frames):
    """Push frames through the stage; the output Frames (None where held back)."""
    return [stage(Frame(pixels=px, timestamp=i / 30, index=i)) for i, px in enumerate(frames)]


def _check(roi, screen: ScannerScreen) -> None:
    assert coverage(roi, screen.truth) >= 0.95, (roi, screen.truth)
    for b in screen.boxes + screen.clock_boxes():
        assert not overlaps(roi, b), (roi, b)


def test_rectangle_whose_content_fills_only_part_of_the_image_in_the_first_second():
    scr = ScannerScreen("linear", (700, 200, 560, 700), seed=3)
    # first second: only the top 55% of the image carries echoes (the rest is image black)
    frames = [scr.frame(i, filled=0.55 if i < 30 else 1.0) for i in range(75)]
    out = _run(RoiStage(), frames)
    first = next(i for i, f in enumerate(out) if f is not None)
    assert first <= 30  # locked after about a second
    _check(out[first].roi, scr)  # already the whole image area, not the part that moved
    _check(out[-1].roi, scr)
    assert {f.pixels.shape for f in out[first:]} == {out[first].pixels.shape}


def test_convex_sector():
    scr = ScannerScreen("sector", (560, 160, 800, 760), seed=4)
    stage = RoiStage()
    frames = [scr.frame(i) for i in range(45)]
    out = _run(stage, frames)
    assert stage.state == LOCKED
    _check(out[-1].roi, scr)
    x, y, w, h = out[-1].roi
    np.testing.assert_array_equal(out[-1].pixels, frames[-1][y : y + h, x : x + w])


def test_depth_change_half_way_makes_the_image_taller_and_is_followed():
    a = ScannerScreen("linear", (700, 160, 560, 520), seed=5)
    b = ScannerScreen("linear", (660, 160, 640, 820), seed=6)
    n = 120
    frames = [(a if i < n // 2 else b).frame(i) for i in range(n)]
    stage = RoiStage()
    out = _run(stage, frames)
    _check(out[n // 2 - 1].roi, a)
    _check(out[-1].roi, b)
    switched = next(i for i in range(n // 2, n) if out[i].roi != out[n // 2 - 1].roi)
    assert switched - n // 2 <= 45  # followed within about 1.5 s
    # one output size within the clip: the taller region is letterboxed into the first size
    assert {f.pixels.shape for f in out[30:]} == {out[30].pixels.shape}
    last = out[-1]
    x, y, w, h = last.roi
    ow, oh = last.width, last.height
    s = min(ow / w, oh / h)
    cw = round(w * s)
    x0 = (ow - cw) // 2
    assert last.pixels[:, : max(0, x0 - 1)].max(initial=0) == 0  # black bars beside it
    assert last.pixels[:, x0 + 2 : x0 + cw - 2].mean() > 20  # the image in the middle


@pytest.mark.parametrize("what", ["frozen", "black"])
def test_no_region_keeps_the_last_good_one(what):
    scr = ScannerScreen("linear", (700, 200, 560, 700), seed=7)
    good = [scr.frame(i) for i in range(40)]
    bad = [good[-1]] * 60 if what == "frozen" else [np.zeros_like(good[0])] * 60
    stage = RoiStage()
    out = _run(stage, good + bad)
    _check(out[39].roi, scr)
    assert all(f.roi == out[39].roi for f in out[40:])
    assert stage.state == LOCKED and stage.notice is None


def test_never_a_region_blanks_the_text_and_says_so_once():
    """A menu screen (chrome, patient text, a clock; no picture): no region is found, the
    frames pass whole with every text area blanked, and the notice comes once."""
    scr = ScannerScreen("linear", (700, 200, 560, 700), seed=8)
    menu = [scr.base.copy() for _ in range(60)]
    for i, f in enumerate(menu):  # the clock still runs
        scr.draw_clock(f, i)
    told: list[str] = []
    stage = RoiStage()
    stage.on_notice = told.append
    out = _run(stage, menu)
    assert stage.state == FULL and stage.notice == NO_REGION and stage.uncertain
    assert told == [NO_REGION]
    for f in out[30:]:
        assert f.roi == (0, 0, 1920, 1080)
        for x, y, w, h in scr.boxes + scr.clock_boxes():
            assert f.pixels[y : y + h, x : x + w].max() == 0  # nothing of the text is left
