"""The exam's Qt-free parts on their own: the checklist, the findings, the suggestion's vote
and gate, the last-seconds ring, and the PACS address."""

from __future__ import annotations

import numpy as np
import pytest
from sonolive.capture.frame_ring import FrameRing
from sonolive.inference.exam.checklist import Exam, ViewSuggester, vote
from sonolive.inference.exam.pacs import parse_destination
from sonolive.inference.segmentation import Segmentation

PIX = 100 * 100


def seg(areas: dict[str, int], ok: bool | None = True, conf: float = 0.9) -> Segmentation:
    return Segmentation(
        labels=np.zeros((100, 100), np.uint8),
        confidence={k: conf for k in areas},
        areas=areas,
        in_distribution=ok,
    )


def _rec(exam: Exam, view: str) -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    exam.record(view, clip=[img], clip_fps=15.0, key_image=img)


def test_checklist_findings_and_progress():
    exam = Exam()
    assert exam.progress() == "0/7" and len(exam.missing) == 7
    with pytest.raises(ValueError, match="not been recorded"):
        exam.set_finding("ruq", "fluid")
    _rec(exam, "ruq")
    exam.set_finding("ruq", "fluid")
    with pytest.raises(ValueError, match="is not a finding for RUQ"):
        exam.set_finding("ruq", "sliding_absent")  # a lung finding on an abdominal view
    _rec(exam, "lung_left")
    exam.set_finding("lung_left", "sliding_absent")
    with pytest.raises(ValueError, match="unknown view"):
        _rec(exam, "knee")
    _rec(exam, "ruq")  # recorded again: the finding stays
    assert exam.views["ruq"].finding == "fluid"
    assert exam.done == ["ruq", "lung_left"] and exam.progress() == "2/7"
    assert "pelvis_sagittal" in exam.missing
    exam.finish()
    assert exam.elapsed() == exam.elapsed()  # the clock stops at the finish


def test_vote_reads_organs_and_only_accepted_frames():
    assert vote(seg({"liver": 900, "kidney": 400}), PIX) == ("ruq",)
    assert vote(seg({"spleen": 900, "kidney": 400}), PIX) == ("luq",)
    assert vote(seg({"heart": 900, "liver": 900}), PIX) == ("subxiphoid",)
    assert vote(seg({"bladder": 900}), PIX) == ("pelvis_transverse", "pelvis_sagittal")
    assert vote(seg({"kidney": 900}), PIX) is None  # a kidney alone: RUQ or LUQ
    assert vote(seg({"heart": 20}), PIX) is None  # a speck
    assert vote(seg({"liver": 900}, ok=False), PIX) is None  # the gate rejected the picture
    assert vote(seg({"liver": 900}, ok=None), PIX) is None  # no training-data statistics


def test_suggester_needs_a_steady_majority_and_skips_done_views():
    s = ViewSuggester(window=10, quorum=0.6)
    for _ in range(5):
        assert s.update(seg({"bladder": 900}), pixels=PIX) is None  # 5 of 10: not yet
    for _ in range(1):
        got = s.update(seg({"bladder": 900}), pixels=PIX)
    assert got.view == "pelvis_transverse" and got.confidence == pytest.approx(0.6 * 0.9)
    got = s.update(seg({"bladder": 900}), {"pelvis_transverse"}, PIX)
    assert got.view == "pelvis_sagittal"
    for _ in range(5):  # the probe leaves: rejected frames do not vote
        last = s.update(seg({"bladder": 900}, ok=False), pixels=PIX)
    assert last is None


def test_frame_ring_keeps_the_last_seconds_of_one_source():
    ring = FrameRing(seconds=1.0, max_fps=10.0, max_side=64)
    big = np.full((200, 100, 3), 7, np.uint8)
    for i in range(60):  # 2 s at 30 fps
        ring.write(i / 30, big)
    frames, fps = ring.snapshot()
    assert 10 <= len(frames) <= 12 and fps == pytest.approx(10, abs=1.5)
    assert frames[0].shape == (64, 32, 3)
    ring.write(0.0, big)  # a new source starts at time 0: the clip never mixes the two
    assert len(ring.snapshot()[0]) == 1


@pytest.mark.parametrize(
    "text, words",
    [
        ("PACS@host", "write it as AET@HOST:PORT"),
        ("PACS@host:99999", "out of range"),
        ("A_VERY_LONG_AE_TITLE@host:104", "is not an AE title"),
    ],
)
def test_pacs_address_errors_are_plain(text, words):
    with pytest.raises(ValueError, match=words):
        parse_destination(text)
    d = parse_destination("ORTHANC@127.0.0.1:4242")
    assert (d.aet, d.host, d.port, str(d)) == (
        "ORTHANC",
        "127.0.0.1",
        4242,
        "ORTHANC@127.0.0.1:4242",
    )
