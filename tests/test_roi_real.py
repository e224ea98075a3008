"""The region on the 37 shared real recordings (pocus-ccby, CC BY; issue 26).

Each clip goes through the region policy ``sonolive process`` uses (a
:class:`RoiFollower` that reads the first second ahead, then follows), at its own size and
scaled up to 600-1080 lines, so that the small-picture exemption is not what makes it pass.
On every frame the region must keep at least 98% of the picture, computed from the whole
clip itself (:func:`real_clips.picture_mask`). The clips are test data, read where they
lie; skipped cleanly when absent.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from real_clips import covered, decode, picture_mask, pocus_clips, scaled
from sonolive.capture.roi_follow import MIN_SCREEN_LINES, RoiFollower

CLIPS = pocus_clips()
FRAMES = 60  # the first two seconds or so: the region is decided in the first one


def _regions(frames, fps):
    scout = RoiFollower(fps)
    for f in frames[: scout.detect_frames]:
        scout.update(f)
    fol = RoiFollower(fps, initial=scout.finish())
    return [fol.update(f) for f in frames], fol


@pytest.mark.skipif(not CLIPS, reason="shared pocus-ccby recordings not present")
@pytest.mark.parametrize("k", range(len(CLIPS)), ids=[p.stem[:28] for p in CLIPS])
def test_region_keeps_the_picture_of_a_real_recording(k):
    path = CLIPS[k]
    every = 2 if k % 2 else 1  # half the clips also with every other frame dropped
    frames, fps = decode(path, every=every)
    fps /= every
    truth = picture_mask(frames)  # from the whole clip
    head = frames[:FRAMES]
    lines = (600, 720, 900, 1080)[k % 4]
    for size in (None, lines):
        fr = head if size is None else scaled(head, size)
        mask = truth
        if size is not None:
            h, w = fr[0].shape[:2]
            mask = cv2.resize(truth.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
            assert h >= MIN_SCREEN_LINES  # detection runs: no exemption
        regions, fol = _regions(fr, fps)
        assert all(r is not None for r in regions)
        worst = min(covered(r, mask) for r in regions)
        assert worst >= 0.98, (path.name, size, worst, fol.switches)
        assert fol.notice is None
