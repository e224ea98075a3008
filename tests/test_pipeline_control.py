"""Switching inputs never blocks the caller, leaks threads or lets an old input through."""

from __future__ import annotations

import threading
import time

import numpy as np
from sonolive.capture.frame import Frame
from sonolive.capture.replay import ReplaySource
from sonolive.capture.source import FrameSource, SourceError
from sonolive.inference.pipeline import Pipeline


class StuckSource(FrameSource):
    """Delivers one frame, then hangs in read() like a capture driver that stopped answering."""

    def __init__(self) -> None:
        self.n = 0
        self.closed = threading.Event()

    def open(self) -> None:
        pass

    def read(self) -> Frame:
        self.n += 1
        if self.n > 1:
            time.sleep(3.0)
        return Frame(np.zeros((8, 8, 3), np.uint8), 0.0, self.n, source="stuck")

    def close(self) -> None:
        self.closed.set()

    def describe(self) -> str:
        return "stuck"


class BusySource(StuckSource):
    def open(self) -> None:
        raise SourceError("the device is busy (used by another program)")


def _collect(pipe: Pipeline, out: list) -> None:
    def take() -> None:
        r = pipe.results.take_nowait()
        if r is not None:
            out.append(r.frame.source)

    pipe.on_result = take


def test_switching_away_from_a_stuck_source_returns_at_once():
    seen: list[str] = []
    stuck = StuckSource()
    pipe = Pipeline(stuck, None)
    _collect(pipe, seen)
    pipe.start()
    time.sleep(0.3)  # the source is now hanging inside read()
    t0 = time.perf_counter()
    frames = [np.full((8, 8, 3), 200, np.uint8)] * 3
    pipe.set_source(ReplaySource(frames, fps=30, name="fresh"))
    assert time.perf_counter() - t0 < 0.2, "set_source waited for the stuck read"
    time.sleep(0.5)
    n = len(seen)
    assert "fresh" in seen[n // 2 :]
    assert stuck.closed.wait(4.0), "the old source is closed once its read returns"
    time.sleep(0.2)
    assert "stuck" not in seen[n:], "a frame from the old input arrived after the switch"
    pipe.stop()


def test_failed_opens_do_not_leak_inference_threads():
    def infer_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "sonolive-infer" and t.is_alive()}

    before = infer_threads()
    messages: list[str] = []
    pipe = Pipeline(BusySource(), None, on_status=lambda kind, msg: messages.append(msg))
    pipe.start()
    for _ in range(3):
        pipe.set_source(BusySource())
        pipe.start()
    time.sleep(0.3)
    assert len(infer_threads() - before) == 1
    assert any("busy" in m for m in messages)
    pipe.stop()
    time.sleep(0.2)
    assert not (infer_threads() - before)
