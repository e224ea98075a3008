"""Review of recorded clips without Qt: a player on its own worker thread.

:class:`ClipPlayer` owns a :class:`~..capture.source.SeekableSource` (a clip, a DICOM cine,
an image folder) and one worker thread. Callers post commands (open, play/pause, seek, step,
speed, loop, A–B, refresh) that never block. Finished :class:`Result` objects (``origin``
"review") go out through :meth:`Pipeline.publish`, the live path's own hand-off: the
sinks, the latest-wins output slot and the "a result is waiting" notification.

* Seeks are latest-wins: one pending target, overwritten by each new request, so dragging
  a scrub bar never queues a backlog.
* Each shown frame goes through ``pipeline.process`` (the live path's segmenter and
  overlay), and the Result is kept in an LRU cache keyed by (frame index, model, overlay
  style), so scrubbing back does not run the model again; a model or style change
  invalidates it.
* Playback follows the clip's timing x speed through a :class:`Pacer`; when processing
  cannot keep up, frames are decoded but skipped (in order) and counted in
  ``pipeline.skipped``, as the live path counts its drops.

Events reach the caller through :class:`PlayerEvents` callbacks, called on the worker
thread; ``app/review/controller.py`` turns them into Qt signals.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..capture.frame import Frame
from ..capture.open_source import open_source
from ..capture.playback import Pacer, clamp_speed
from ..capture.roi import Roi, blank
from ..capture.roi_stage import DETECTING, RoiStage
from ..capture.source import (
    EndOfStream,
    SeekableSource,
    SourceError,
    as_seekable,
)
from ..capture.workers import spawn
from .pipeline import Pipeline, Result
from .player_events import PlayerEvents, close_quietly
from .result_cache import ResultCache
from .stats import Timings


class ClipPlayer:
    """Plays, steps and seeks a seekable source on a worker thread; publishes Results.

    :attr:`index` and :attr:`seconds` are the frame on screen, which :meth:`step`, :meth:`jump`
    and the A–B marks count from: the consumer reports each review Result it shows with
    :meth:`mark_shown` (a GUI that falls behind must not make "next frame" skip ahead).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        events: PlayerEvents | None = None,
        *,
        cache_items: int = 240,
        cache_bytes: int = 512 * 2**20,
    ) -> None:
        self.pipeline = pipeline
        self.events = events or PlayerEvents()
        self.cache = ResultCache(cache_items, cache_bytes)
        self.process_calls = 0  # frames run through the pipeline (cache misses)
        # --- shared with the worker (guarded by _cond) ---
        self._cond = threading.Condition()
        self._open_path: str | None = None
        self._seek: int | None = None
        self._refresh = False
        self._playing = False
        self._loop = False
        self._a: int | None = None
        self._b: int | None = None
        self._stop = False
        # the worker re-anchors when more than 1 s behind (slow decode), never bursts
        self._pacer = Pacer(slack=1.0, max_wait=3600.0)
        # --- worker-owned ---
        self._src: SeekableSource | None = None
        self._wk_index = -1
        self._published = -1  # the last frame index published
        self._cache_id: tuple | None = None
        self._last_publish = 0.0
        self._thread: threading.Thread | None = None
        #: the ultrasound region of the open clip (see :meth:`_open_roi`); ``roi_lookup(path)``
        #: gives a region saved for that file (the app's input picker sets it)
        self.roi_stage: RoiStage | None = None
        self.roi_lookup: Callable[[str], Roi | None] | None = None
        # --- the consumer's view ---
        self.source: SeekableSource | None = None  # the source open now (set on open)
        self.path: str | None = None
        self.count = 0
        self.fps = 30.0
        self.index = -1  # index of the frame on screen (see mark_shown)
        self.seconds = 0.0
        self._clip = 0  # clips opened so far; stamped on each Result (guarded)
        self.playing = False
        self._target: int | None = None  # the latest seek not yet published (guarded)

    # ---- commands (none of them blocks) -----------------------------------------------------
    def open(self, path: str | Path) -> None:
        """Open a clip, DICOM cine or image folder; its first frame is published when ready."""
        self._ensure_thread()
        with self._cond:
            self._open_path = str(path)
            self._seek = None
            self._playing = False
            self._target = None
            self._cond.notify_all()

    def seek(self, index: int) -> None:
        """Publish frame ``index`` exactly (latest wins: a newer seek replaces a pending one)."""
        if self.count:
            index = max(0, min(self.count - 1, int(index)))
        with self._cond:
            self._target = self._seek = int(index)
            self._cond.notify_all()

    def step(self, delta: int = 1) -> None:
        """Pause and move ``delta`` frames from the frame shown (or the pending seek)."""
        if self.playing:
            self.pause()
            base = self.index
        else:
            base = self._target if self._target is not None else self.index
        self.seek(max(0, base) + int(delta))

    def jump(self, seconds: float) -> None:
        """Move by ``seconds`` of clip time (e.g. ±1 s)."""
        self.step(round(seconds * (self.fps or 30.0)))

    def play(self) -> bool:
        """Start playing; False when nothing is open. On the last frame (no loop, no A–B)
        it plays again from the start."""
        with self._cond:
            if self._src is None and self._open_path is None:
                return False
            ab = self._a is not None and self._b is not None and self._a < self._b
            last = self.count - 1
            if not self._loop and not ab and self._seek is None and 0 <= last <= self.index:
                self._seek = self._target = 0
            self._playing = True
            self._pacer.reset()
            self._cond.notify_all()
        self.playing = True
        return True

    def pause(self) -> None:
        with self._cond:
            self._playing = False
            self._cond.notify_all()
        self.playing = False

    def set_speed(self, speed: float) -> None:
        with self._cond:
            self._pacer.speed = clamp_speed(speed)
            self._pacer.reset()

    @property
    def speed(self) -> float:
        return self._pacer.speed

    def set_loop(self, on: bool) -> None:
        with self._cond:
            self._loop = bool(on)

    @property
    def loop(self) -> bool:
        return self._loop

    def set_a(self, index: int | None = None) -> None:
        """Mark A (default: the frame shown). With A and B set, playback loops A..B."""
        with self._cond:
            self._a = self.index if index is None else int(index)

    def set_b(self, index: int | None = None) -> None:
        with self._cond:
            self._b = self.index if index is None else int(index)

    def clear_ab(self) -> None:
        with self._cond:
            self._a = self._b = None

    @property
    def ab(self) -> tuple[int | None, int | None]:
        return self._a, self._b

    def refresh(self) -> None:
        """Publish the frame on screen again (after a model or style change: recomputed);
        right after an open, the first frame, whenever it comes."""
        if self.path is None and self._open_path is None:
            return
        with self._cond:
            self._refresh = True
            self._cond.notify_all()

    def close(self, timeout: float = 2.0) -> bool:
        """End the worker (it closes the source); True when it has ended."""
        with self._cond:
            self._stop = True
            self._playing = False
            self._cond.notify_all()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
            if t.is_alive():
                return False
        self._thread = None
        return True

    @property
    def active(self) -> bool:
        return self.path is not None

    # ---- the consumer side -------------------------------------------------------------------
    def mark_shown(self, result: Result) -> bool:
        """Record a published review Result as the frame on screen; False (and nothing
        recorded) for a frame of a clip no longer open."""
        with self._cond:
            if result.origin != "review" or result.clip != self._clip:
                return False
            self.index, self.seconds = result.frame.index, float(result.frame.timestamp)
            if self._target == self.index:
                self._target = None
            return True

    # ---- worker thread -----------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._cond:
                self._stop = False
            self._thread = spawn(self._run, name="sonolive-review")

    def _has_work(self) -> bool:
        return (
            self._stop
            or self._open_path is not None
            or self._seek is not None
            or self._refresh
            or (self._playing and self._src is not None)
        )

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._has_work():
                        self._cond.wait()
                    if self._stop:
                        break
                    path, self._open_path = self._open_path, None
                    seek = None if path else self._seek
                    if seek is not None:
                        self._seek = None
                    refresh = self._refresh and path is None and seek is None
                    if refresh:
                        self._refresh = False
                        # the newest frame published: the one the view shows next (a view
                        # that lags behind a step would have an older frame replace it)
                        on_screen = self._published if self._published >= 0 else self._wk_index
                    playing = self._playing
                try:
                    if path is not None:
                        self._do_open(path)
                    elif seek is not None:
                        self._show(seek)
                    elif refresh and not self.pipeline.running:  # live owns the view now
                        self._show(on_screen)
                    elif playing:
                        self._play_one()
                except (SourceError, IndexError) as e:
                    self._fail(str(e))
                except Exception as e:  # noqa: BLE001 - the worker must survive anything
                    self._fail(f"Review failed: {e}")
        finally:
            src, self._src = self._src, None
            close_quietly(src)

    def _emit(self, callback: Callable, *args: object) -> None:
        """Tell the owner; after shutdown there is no one to tell."""
        if self._stop:
            return
        try:
            callback(*args)
        except RuntimeError:  # the owner (a QObject) was deleted while this was in flight
            with self._cond:
                self._stop = True

    def _set_state(self, playing: bool) -> None:
        with self._cond:
            self._playing = playing
        self._emit(self.events.state, playing)

    def _fail(self, msg: str) -> None:
        self._set_state(False)
        self._emit(self.events.error, msg)

    def _do_open(self, path: str) -> None:
        name = Path(path).name
        try:
            opened = open_source(path, paced=False)
            opened.open()
        except SourceError as e:
            self._emit(self.events.error, str(e))
            return
        except Exception as e:  # noqa: BLE001 - any failure is a message, never a crash
            self._emit(self.events.error, f"{name} could not be opened: {e}")
            return
        src = as_seekable(opened)
        if src is None or src.frame_count <= 0:
            close_quietly(opened)
            self._emit(self.events.error, f"{name} is not a recorded clip that can be reviewed.")
            return
        old, self._src = self._src, src
        close_quietly(old)
        # the live capture stops (off the GUI thread): review owns the segmenter from now on
        if self.pipeline.running or self.pipeline.source is not None:
            self.pipeline.set_source(None)
        self.pipeline.reset_ood()  # a new clip: the gate starts afresh, "Show anyway" is off
        self.cache.clear()
        self.pipeline.results.clear()  # nothing of the old clip (or the live run) is shown
        self._wk_index = self._published = -1
        self._open_roi(path, src)
        with self._cond:
            self._a = self._b = None
            self._pacer.reset()
            if self._seek is None:
                self._seek = 0
        self.source, self.path, self.count, self.fps = src, path, src.frame_count, float(src.fps)
        with self._cond:
            self._clip += 1
            self.index = -1
        self._emit(self.events.opened, path, src.describe(), src.frame_count, float(src.fps))
        if src.warning:
            self._emit(self.events.warning, src.warning)

    def _open_roi(self, path: str, src: SeekableSource) -> None:
        """Give the clip its ROI stage: the region saved for this file, else detected from its
        first second (and followed as it plays); stills are reviewed whole."""
        if src.stills:
            self.roi_stage = None
            return
        saved = self.roi_lookup(path) if self.roi_lookup is not None else None
        self.roi_stage = RoiStage(fixed_roi=saved, fps=float(src.fps or 30.0))
        self._detect_roi()

    def _detect_roi(self) -> None:
        stage, src = self.roi_stage, self._src
        if stage is not None and src is not None and stage.state == DETECTING:
            stage.detect_from(src)
            if stage.notice:
                self._emit(self.events.roi, stage.notice)

    # -- frames --
    def _cache_key(self, index: int) -> tuple:
        p = self.pipeline
        seg = p.segmenter
        model = (seg.card.name, id(seg)) if seg is not None else None
        style = dataclasses.astuple(p.style) if p.style is not None else None
        heat = p.heat_provider
        ident: tuple = (model, style, id(heat) if heat else None, p.show_ood)
        stage = self.roi_stage
        if stage is not None and stage.user_set:  # a region set by hand: overlays are stale
            ident = (*ident, stage.roi)
        if ident != self._cache_id:  # model or style changed: every cached overlay is stale
            self.cache.clear()
            self._cache_id = ident
        return (index, *ident)

    def _result_for(self, frame_or_index, decide_now: bool = True) -> Result:
        """The Result for a frame (decoded or by index), from the cache or processed now.

        ``decide_now``: a frame looked at on its own (open, seek, step) is judged alone
        against the training data; frames played in a row keep the live path's 0.5 s hold.
        """
        index = frame_or_index if isinstance(frame_or_index, int) else frame_or_index.index
        key = (*self._cache_key(index), decide_now)
        if self.pipeline.running:  # the live path was restarted: it owns the segmenter now
            raise SourceError("Live capture is running; review paused.")
        hit = self.cache.get(key)
        if hit is not None:
            if decide_now:  # playing on from here starts from this frame's verdict
                self.pipeline.ood_gate.decide_now(hit.seg.in_distribution if hit.seg else None)
            # a fresh timing record: this showing cost a cache lookup, not the model's time
            now = time.perf_counter()
            return dataclasses.replace(hit, t_composed=now, timings=Timings(t_enter=now))
        src = self._src
        if src is None:
            raise SourceError("No clip is open.")
        frame = src.seek(index) if isinstance(frame_or_index, int) else frame_or_index
        stage = self.roi_stage
        if stage is not None and stage.state == DETECTING:  # "Detect again" was chosen
            self._detect_roi()
            frame = src.seek(frame.index)
        roi = None
        if stage is not None:

            def roi(f: Frame) -> Frame:
                out = stage(f)
                # still deciding: nothing of the screen is shown (its text could be read)
                return out if out is not None else blank(f, np.zeros(f.pixels.shape[:2], np.uint8))

        processed = self.pipeline.process(frame, decide_now=decide_now, roi=roi)
        assert processed is not None  # this ROI choice never holds a frame back
        result = dataclasses.replace(processed, origin="review", clip=self._clip)
        self.process_calls += 1
        self.cache.put(key, result)
        return result

    def _publish(self, result: Result) -> None:
        self._wk_index = self._published = result.frame.index
        self._last_publish = time.perf_counter()
        self._emit(self.pipeline.publish, result)  # the recorder's hook, the view: as live

    def _true_count(self) -> None:
        """The source found fewer decodable frames than its header said: say the true count
        (the scrub bar follows); the clip simply ends earlier."""
        src = self._src
        if src is not None and src is self.source and src.frame_count != self.count:
            self.count = src.frame_count
            self._emit(self.events.count, self.count)

    def _show(self, index: int) -> None:
        if self._src is None:
            return
        index = max(0, min(self._src.frame_count - 1, int(index)))
        try:
            result = self._result_for(index)
        except IndexError:  # beyond the frames that decode: the last one that does
            if index < self._src.frame_count:
                raise
            self._true_count()
            result = self._result_for(self._src.frame_count - 1)
        self._publish(result)
        with self._cond:
            self._pacer.reset()

    def _next_index(self) -> int | None:
        """The frame after the one shown, honouring A–B and loop; None at the end."""
        assert self._src is not None  # called while playing an open clip
        count = self._src.frame_count
        nxt = self._wk_index + 1
        a, b = self._a, self._b
        if a is not None and b is not None and a < b:
            return a if nxt > b or nxt < a else nxt
        if nxt >= count:
            return 0 if self._loop else None
        return nxt

    def _commands_pending(self) -> bool:
        return self._stop or self._open_path is not None or self._seek is not None

    def _play_one(self) -> None:
        src = self._src
        nxt = self._next_index()
        if nxt is None or src is None:
            if self._published != self._wk_index >= 0:  # the true last frame was skipped as
                self._show(self._wk_index)  # late (the header promised more): show it
            self._set_state(False)
            return
        try:
            if src.position == nxt:
                try:
                    frame = src.read()
                except EndOfStream:
                    frame = src.seek(nxt)
            else:
                frame = src.seek(nxt)
        except IndexError:
            if nxt < src.frame_count:
                raise
            self._true_count()  # the header over-counted: the next call ends or loops
            return
        now = time.perf_counter()
        with self._cond:
            due = self._pacer.due(float(frame.timestamp), now)
            period = 1.0 / ((src.fps or 30.0) * self._pacer.speed)
        key = (*self._cache_key(frame.index), False)  # as _result_for keys a played frame
        if (
            now > due + period
            and key not in self.cache
            and now - self._last_publish < 0.25
            and frame.index not in (self._b, src.frame_count - 1)  # ends are always shown
        ):
            self._wk_index = frame.index  # too late: decoded, skipped (in order), counted
            self.pipeline.skipped += 1
            return
        result = self._result_for(frame, decide_now=False)
        ready = time.perf_counter()
        with self._cond:
            while not self._commands_pending() and self._playing:
                wait = due - time.perf_counter()
                if wait <= 0:
                    break
                self._cond.wait(wait)
            if self._commands_pending() or not self._playing:
                self._wk_index = frame.index
                return  # interrupted: a seek, open or pause takes over
            self._target = None  # any seek is done: playback has moved on from it
        # waiting for the frame's time is pacing, not latency: the record starts after it
        waited = time.perf_counter() - ready
        tm = dataclasses.replace(
            result.timings, t_enter=result.timings.t_enter + waited, paced=waited * 1000
        )
        self._publish(
            dataclasses.replace(result, t_composed=result.t_composed + waited, timings=tm)
        )
