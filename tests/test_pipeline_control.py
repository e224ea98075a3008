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
    """Delivers one frame, then hangs in read() like a capture driver that stopped answering,
    until the test lets it go."""

    def __init__(self) -> None:
        self.n = 0
        self.hanging = threading.Event()
        self.release = threading.Event()
        self.closed = threading.Event()

    def open(self) -> None:
        pass

    def read(self) -> Frame:
        self.n += 1
        if self.n > 1:
            self.hanging.set()
            self.release.wait(10.0)
        return Frame(np.zeros((8, 8, 3), np.uint8), 0.0, self.n, source="stuck")

    def close(self) -> None:
        self.closed.set()

    def describe(self) -> str:
        return "stuck"


class BusySource(StuckSource):
    def open(self) -> None:
        raise SourceError("the device is busy (used by another program)")


class Seen:
    """What reached the view side, with a condition to wait on."""

    def __init__(self, pipe: Pipeline) -> None:
        self.cond = threading.Condition()
        self.sources: list[str] = []
        pipe.set_listeners(on_result=self._take)
        self.pipe = pipe

    def _take(self) -> None:
        r = self.pipe.results.take_nowait()
        if r is not None:
            with self.cond:
                self.sources.append(r.frame.source)
                self.cond.notify_all()

    def wait_for(self, pred, timeout: float = 10.0) -> None:
        with self.cond:
            assert self.cond.wait_for(pred, timeout), f"not reached; seen {self.sources[-5:]}"


def test_switching_away_from_a_stuck_source_returns_at_once():
    stuck = StuckSource()
    pipe = Pipeline(stuck, None)
    seen = Seen(pipe)
    pipe.start()
    assert stuck.hanging.wait(5.0), "the source never got stuck inside read()"
    t0 = time.perf_counter()
    frames = [np.full((8, 8, 3), 200, np.uint8)] * 3
    pipe.set_source(ReplaySource(frames, fps=30, name="fresh", loop=True))
    assert time.perf_counter() - t0 < 0.5, "set_source waited for the stuck read"
    seen.wait_for(lambda: seen.sources.count("fresh") >= 3)
    n = len(seen.sources)
    stuck.release.set()  # the driver answers at last: its frame must not get through
    assert stuck.closed.wait(5.0), "the old source is closed once its read returns"
    seen.wait_for(lambda: len(seen.sources) >= n + 5)
    assert "stuck" not in seen.sources[n:], "a frame from the old input arrived after the switch"
    pipe.stop()


def test_failed_opens_do_not_leak_inference_threads():
    def infer_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "sonolive-infer" and t.is_alive()}

    before = infer_threads()
    cond = threading.Condition()
    messages: list[str] = []

    def note(_kind: str, msg: str) -> None:
        with cond:
            messages.append(msg)
            cond.notify_all()

    pipe = Pipeline(BusySource(), None, on_status=note)
    pipe.start()
    for _ in range(3):
        pipe.set_source(BusySource())
        pipe.start()
    with cond:
        assert cond.wait_for(lambda: sum("busy" in m for m in messages) >= 4, 10.0)
    assert len(infer_threads() - before) == 1
    pipe.stop(timeout=5.0)
    assert not (infer_threads() - before), "stop() must end the inference thread"


def test_a_frame_in_flight_when_the_input_switches_is_never_shown(lite_model):
    """The old input's frame that is inside the network when the input switches (or review
    takes over) must not reach the view afterwards."""
    import torch
    from sonolive.inference.segmenter import Segmenter
    from sonolive.models.loader import LoadedModel

    inside, let_go = threading.Event(), threading.Event()

    class Held(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            inside.set()
            let_go.wait(10.0)  # the first forward waits for the switch; later ones pass
            return self.net(x)

    seg = Segmenter(LoadedModel(lite_model.card, Held(lite_model.net)), device="cpu")
    old = [np.full((64, 64, 3), 90, np.uint8)] * 2
    pipe = Pipeline(ReplaySource(old, fps=30, name="old"), seg)
    seen = Seen(pipe)
    pipe.start()
    try:
        assert inside.wait(20.0), "the first frame never reached the network"
        pipe.set_source(ReplaySource([np.full((64, 64, 3), 160, np.uint8)], fps=30, name="new"))
        let_go.set()
        seen.wait_for(lambda: seen.sources.count("new") >= 2, timeout=20.0)
        assert "old" not in seen.sources, "a frame of the old input was shown after the switch"
    finally:
        let_go.set()
        pipe.stop(timeout=10.0)


def test_fps_falls_to_zero_when_frames_stop():
    """The status line's fps is a rate up to now: review paused or a frozen source reads 0,
    not the rate the last frames came at."""
    from sonolive.inference.stats import LatencyStats, Timings

    stats = LatencyStats(window_s=5.0)
    for _ in range(10):
        stats.add(Timings())
    t = time.perf_counter()
    assert stats.fps(now=t + 0.5) > 0
    assert stats.fps(now=t + 6.0) == 0.0 and stats.summary()["total"]["p50"] == 0.0
