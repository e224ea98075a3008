"""The Qt-free review player: open, seek, step, play, loop and A–B on a real clip, no Qt."""

from __future__ import annotations

import threading

import pytest
from barcode import read_barcode
from media_helpers import encode_clip
from sonolive.inference.pipeline import Pipeline
from sonolive.inference.player import ClipPlayer, PlayerEvents
from sonolive.inference.segmenter import Segmenter

N = 30


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return encode_clip(tmp_path_factory.mktemp("player") / "exam.mp4", N, gop=10)


class Recorder:
    """Collects what the player publishes, as a GUI would, and lets a test wait on it."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.shown: list[int] = []
        self.barcodes: list[int] = []
        self.errors: list[str] = []
        self.states: list[bool] = []
        self.opened: list[tuple] = []
        self.origins: set[str] = set()
        self.results: list = []
        self.hold = False  # True: the view is busy and takes nothing
        self.player: ClipPlayer | None = None

    def events(self) -> PlayerEvents:
        def note(lst):
            def add(*a):
                with self.cond:
                    lst.append(a if len(a) != 1 else a[0])
                    self.cond.notify_all()

            return add

        return PlayerEvents(
            opened=note(self.opened),
            state=note(self.states),
            error=note(self.errors),
        )

    def take(self) -> None:
        """The pipeline's ``on_result``: take the newest frame from its output slot."""
        if self.hold:
            return
        r = self.player.pipeline.results.take_nowait()
        if r is None:
            return
        r.finish_handoff(self.player.pipeline.stats)  # as the app's bridge does
        assert self.player.mark_shown(r)  # the frame on screen: what step() counts from
        with self.cond:
            self.origins.add(r.origin)
            self.results.append(r)
            self.shown.append(r.frame.index)
            self.barcodes.append(read_barcode(r.frame.pixels))
            self.cond.notify_all()

    def wait(self, pred, timeout: float = 20.0) -> None:
        with self.cond:
            assert self.cond.wait_for(pred, timeout), "the player did not get there in time"


@pytest.fixture
def player(lite_model):
    rec = Recorder()
    pipe = Pipeline(None, Segmenter(lite_model, device="cpu"), on_result=rec.take)
    p = ClipPlayer(pipe, rec.events())
    rec.player = p
    yield p, rec
    assert p.close(timeout=5.0), "the review worker must end when closed"


def _published(p, rec) -> list[int]:
    """The frames the player publishes, as a frame hook sees them (the waiter is woken)."""
    seen: list[int] = []

    def hook(result) -> None:
        with rec.cond:
            seen.append(result.frame.index)
            rec.cond.notify_all()

    p.pipeline.add_sink(hook)
    return seen


def test_seek_and_step_show_exact_frames_and_scrubbing_back_hits_the_cache(player, clip):
    p, rec = player
    p.open(clip)
    rec.wait(lambda: rec.shown == [0])
    assert rec.opened[0][2] == N and p.count == N
    p.seek(17)
    rec.wait(lambda: rec.shown[-1] == 17)
    assert rec.barcodes[-1] == 17, "the pixels must be exactly frame 17"
    p.step(1)
    rec.wait(lambda: rec.shown[-1] == 18)
    p.step(-2)
    rec.wait(lambda: rec.shown[-1] == 16)
    assert rec.barcodes[-3:] == [17, 18, 16]
    calls = p.process_calls
    p.seek(17)
    rec.wait(lambda: rec.shown[-1] == 17)
    assert p.process_calls == calls, "a frame already processed comes from the cache"
    # one hand-off with live: published through the pipeline, counted in its figures
    assert rec.origins == {"review"} and p.pipeline.stats.frames == len(rec.shown)
    first, again = rec.results[1], rec.results[-1]  # frame 17, processed then cached
    assert first.frame.index == again.frame.index == 17 and first.timings.infer > 0
    assert again.timings.infer == 0 and again.timings.t_enter > first.timings.t_enter, (
        "a cache hit is timed as its own showing, not as the first one"
    )


def test_play_to_the_end_stops_and_loop_a_b_wraps(player, clip):
    p, rec = player
    p.open(clip)
    rec.wait(lambda: rec.shown == [0])
    p.set_speed(4.0)
    assert p.play()
    rec.wait(lambda: False in rec.states)  # the end of the clip pauses playback
    assert rec.shown[-1] == N - 1 and rec.shown == sorted(rec.shown)
    assert not rec.errors
    # A–B: playing from inside the loop wraps from B back to A
    p.set_a(5)
    p.set_b(8)
    p.seek(6)
    rec.wait(lambda: rec.shown[-1] == 6)
    start = len(rec.shown)
    p.play()
    rec.wait(lambda: rec.shown[start:].count(5) >= 2)
    p.pause()
    looped = rec.shown[start:]
    assert set(looped) <= {5, 6, 7, 8} and 8 in looped


def test_a_file_that_is_not_a_clip_is_a_message(player, tmp_path):
    p, rec = player
    bad = tmp_path / "noise.mp4"
    bad.write_bytes(b"\x00garbage" * 1000)
    p.open(bad)
    rec.wait(lambda: rec.errors)
    assert "noise.mp4" in rec.errors[0] and not rec.shown


def test_frame_hooks_see_each_shown_frame_and_a_failing_hook_is_reported(player, clip):
    """Review hands its shown frames to the same hooks as live (the recorder), through the
    pipeline's one hook runner: a hook that fails is said in plain words, review goes on."""
    p, rec = player
    seen: list[int] = []
    said: list[tuple[str, str]] = []

    def recorder_hook(result) -> None:
        seen.append(result.frame.index)
        if result.frame.index == 3:
            raise OSError("disk full")

    p.pipeline.add_sink(recorder_hook)
    p.pipeline.set_listeners(on_status=lambda kind, msg: said.append((kind, msg)))
    p.open(clip)
    rec.wait(lambda: rec.shown == [0])
    for i in (3, 4):
        p.seek(i)
        rec.wait(lambda i=i: rec.shown[-1] == i)
    assert seen == [0, 3, 4]
    assert ("error", "recorder_hook: disk full") in said


def test_step_while_playing_counts_from_the_frame_on_screen(player, clip):
    """A consumer that falls behind (a GUI busy repainting) must not make "next frame" jump
    to wherever the player has got to: step() counts from the frame marked as shown."""
    p, rec = player
    published = _published(p, rec)
    p.open(clip)
    rec.wait(lambda: rec.shown == [0])
    p.seek(4)
    rec.wait(lambda: rec.shown[-1] == 4)
    rec.hold = True  # the view stops taking frames: they wait in the latest-wins slot
    p.set_speed(4.0)
    p.play()
    with rec.cond:
        assert rec.cond.wait_for(lambda: published[-1] >= 12, 20.0)
    p.step(1)  # pauses; the frame on screen is still 4
    with rec.cond:
        assert rec.cond.wait_for(lambda: published[-1] == 5, 20.0)
    rec.hold = False
    rec.take()  # the view catches up with the newest frame
    assert rec.shown[-1] == 5 and p.index == 5


def test_review_latency_leaves_out_the_wait_for_the_frames_time(player, clip):
    """At a quarter speed a frame is ready long before its time (~133 ms a frame) and waits
    for it; that is pacing, not the latency the status line reports: the record starts
    after the wait. Asserted on each frame's own record against the moments the frames
    were published, not on wall-clock bounds, so it holds under any load (a frame that was
    late waited for nothing: its ``paced`` is 0)."""
    import time

    p, rec = player
    published: list[tuple[object, float]] = []  # (result, the instant it was published)

    def hook(result) -> None:
        with rec.cond:
            published.append((result, time.perf_counter()))

    p.pipeline.add_sink(hook)
    p.open(clip)
    rec.wait(lambda: rec.shown == [0])
    p.set_speed(0.25)
    p.play()

    def waited() -> list:
        """(result, the instant the frame before it was published) for frames that waited."""
        with rec.cond:
            pairs = list(zip(published, published[1:], strict=False))
        return [(r, t0) for (_, t0), (r, _) in pairs if r.timings.paced > 0]

    rec.wait(lambda: len(waited()) >= 3 or False in rec.states, timeout=120.0)
    p.pause()
    paced = waited()
    assert paced, "no frame was ready before its time"
    for r, t_prev in paced:
        # the player reads, processes and waits for a frame only after publishing the one
        # before it; the record starts after the wait, so at least the wait after that
        assert r.timings.t_enter >= t_prev + r.timings.paced / 1000, (r.frame.index, r.timings)


def test_frames_later_than_their_time_are_skipped_in_order_and_counted(player, clip):
    """A network slower than the clip (here 60 ms a frame against 8 ms at 4x): frames are
    decoded and skipped in order, never queued; the skips count as drops; both ends show."""
    import time

    p, rec = player

    def slow_network(frame):
        time.sleep(0.06)  # stands for a forward pass that takes longer than a frame
        return None, None, None

    p.open(clip)
    rec.wait(lambda: rec.shown == [0])
    p.pipeline.set_heat_provider(slow_network)
    p.set_speed(4.0)
    p.play()
    rec.wait(lambda: False in rec.states, timeout=30.0)  # played to the end
    assert rec.shown[-1] == N - 1 and rec.shown == sorted(rec.shown)
    assert p.pipeline.skipped > 0
    assert len(set(rec.shown)) + p.pipeline.skipped >= N - 1


def test_a_seek_overtaken_by_playback_is_not_stepped_from_later(player, clip):
    """Seek, then Play at once while the view is busy: the seek's frame is never shown.
    Pausing later and stepping goes on from the frame on screen, not from the old seek."""
    p, rec = player
    published = _published(p, rec)
    p.open(clip)
    rec.wait(lambda: rec.shown == [0])
    rec.hold = True
    p.seek(5)
    p.set_speed(4.0)
    p.play()
    with rec.cond:
        assert rec.cond.wait_for(lambda: published and published[-1] >= 12, 60.0)
    p.pause()
    rec.hold = False
    rec.take()  # the view catches up: the newest frame is on screen
    shown = rec.shown[-1]
    assert shown >= 12
    # back one frame: playback may have reached the clip's last frame (a loaded machine
    # skips late frames), where "next" has nowhere to go; from the old seek it would be 4
    p.step(-1)
    with rec.cond:
        assert rec.cond.wait_for(lambda: published[-1] == shown - 1, 60.0), published[-3:]


def test_a_refresh_while_the_view_lags_behind_a_step_shows_the_stepped_frame(player, clip):
    """A style or model change lands just after a step, before the view has taken the
    stepped frame: the refresh shows the stepped frame again, not the older one the view
    still had (which then replaced the step's frame: the step was lost)."""
    p, rec = player
    published = _published(p, rec)
    p.open(clip)
    rec.wait(lambda: rec.shown == [0])
    rec.hold = True  # the view is busy
    p.step(1)
    rec.wait(lambda: published[-1:] == [1], timeout=60.0)
    p.refresh()
    rec.wait(lambda: len(published) >= 3, timeout=60.0)
    assert published == [0, 1, 1]
    rec.hold = False
    rec.take()
    assert rec.shown == [0, 1] and p.index == 1


def test_refresh_right_after_open_shows_the_first_frame_again(player, clip):
    """A style or model change right after opening (the window switching to Review) re-shows
    the first frame in the new style; it used to be ignored until a frame was on screen."""
    p, rec = player
    published = _published(p, rec)
    p.open(clip)
    p.refresh()
    with rec.cond:
        assert rec.cond.wait_for(lambda: published == [0, 0], 20.0), published
