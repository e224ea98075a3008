"""A clip whose header counts one frame more than decodes: Review plays it to the end with no
error, the scrub bar shows the true count once known, and Play on the last frame restarts."""

from __future__ import annotations

from pathlib import Path

import av
from media_helpers import encode_clip
from PySide6.QtCore import Qt
from sonolive.capture.clip import ClipSource
from sonolive.capture.source import EndOfStream
from test_review import _window

N = 45


def overcounted_clip(folder: Path, n: int = N) -> Path:
    """An H.264 MP4 of ``n`` packets whose last one holds no picture (only an access unit
    delimiter): the header and the index say ``n`` frames, ``n - 1`` decode."""
    good = encode_clip(folder / "good.mp4", n, gop=10, options={"bf": "0"})
    path = folder / "overcount.mp4"
    with av.open(str(good)) as inp, av.open(str(path), "w") as out:
        s_in = inp.streams.video[0]
        s_out = out.add_stream_from_template(s_in)
        packets = [p for p in inp.demux(s_in) if p.size]
        for i, p in enumerate(packets):
            if i == len(packets) - 1:
                aud = av.Packet(b"\x00\x00\x00\x02\x09\xf0")  # 4-byte length, AUD NAL
                aud.pts, aud.dts, aud.time_base = p.pts, p.dts, p.time_base
                p = aud
            p.stream = s_out
            out.mux(p)
    with av.open(str(path)) as c:
        assert c.streams.video[0].frames == n  # the header over-counts
    return path


def test_the_clip_really_over_counts(tmp_path):
    src = ClipSource(overcounted_clip(tmp_path), paced=False)
    src.open()
    assert src.frame_count == N
    read = 0
    try:
        while True:
            src.read()
            read += 1
    except EndOfStream:
        pass
    assert read == N - 1 and src.frame_count == N - 1
    other = ClipSource(tmp_path / "overcount.mp4", paced=False)
    other.open()
    try:  # a seek past the decodable end finds the true count too: a plain IndexError
        other.seek(N - 1)
        raise AssertionError("frame N-1 does not decode")
    except IndexError as e:
        assert f"outside 0..{N - 2}" in str(e)
    assert other.frame_count == N - 1
    assert other.seek(N - 2).index == N - 2
    src.close()
    other.close()


def test_review_plays_an_over_counted_clip_to_the_end_and_play_restarts(qtbot, settings, tmp_path):
    clip = overcounted_clip(tmp_path)
    win = _window(qtbot, settings)
    errors, warnings = [], []
    win.review.error.connect(errors.append)
    win.review.warning.connect(warnings.append)
    panel = win.review_panel
    with qtbot.waitSignal(win.review.opened, timeout=20000):
        win.open_clip(str(clip))
    qtbot.waitUntil(lambda: win.review.index == 0, timeout=20000)
    assert panel.position_label.text().endswith(f"/ {N}")  # the header's word, until known

    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.review.playing, timeout=10000)
    qtbot.waitUntil(lambda: not win.review.playing, timeout=60000)  # it ends by itself
    qtbot.waitUntil(lambda: panel.position_label.text().endswith(f"/ {N - 1}"), timeout=10000)
    assert win.review.index == N - 2
    assert panel.slider.maximum() == N - 2 and panel.slider.value() == N - 2
    assert panel.position_label.text().endswith(f"frame {N - 1} / {N - 1}")
    assert errors == [] and warnings == []
    assert "outside" not in " ".join(win.messages.values())
    assert panel.play_button.text() == "▶"

    # Play on the last frame: from the start again (the view is latest-wins, so under load
    # its first frame may be a later one than 0, but never the end it stood on)
    shown = []
    win.review.frameShown.connect(lambda r: shown.append(r.frame.index))
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(shown) >= 2, timeout=20000)
    assert shown[0] < N - 2 and shown == sorted(shown)
    qtbot.waitUntil(lambda: not win.review.playing, timeout=60000)  # to the end again
    assert win.review.index == N - 2
    assert errors == []
    win.close()
