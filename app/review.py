"""Review of recorded clips (video files and DICOM cines): a controller and its panel.

:class:`ReviewController` owns the clip source and a worker thread. The GUI only posts
commands (open, play/pause, seek, step, speed, loop, A–B) and receives finished
:class:`Result` objects; it never waits on decoding or inference.

* Seeks are latest-wins: one pending target, overwritten by each new request, so dragging
  the scrub bar never queues a backlog.
* Each shown frame goes through ``pipeline.process`` (same segmenter and overlay as live),
  and the Result is kept in an LRU cache keyed by (frame index, model, overlay style), so
  scrubbing back does not run the model again; a model or style change invalidates it.
* Results reach the GUI through a one-item latest-wins slot (at most one queued
  notification), so a slow GUI drops frames instead of queueing them.
* Playback follows the clip's timing x speed; when processing cannot keep up, frames are
  decoded but skipped (in order), as the live path drops frames.

:func:`install_review` adds the panel (a dock), "Open clip…", "Recent clips", drag and drop
and keyboard shortcuts to the main window.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..capture.clip import VIDEO_EXTENSIONS, clamp_speed
from ..capture.open_source import DICOM_EXTENSIONS, open_source
from ..capture.source import EndOfStream, SourceError
from ..inference.pipeline import Pipeline, Result

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
RECENT_KEY = "review/recent"
RECENT_MAX = 10
CLIP_EXTENSIONS = VIDEO_EXTENSIONS | DICOM_EXTENSIONS
TOUCH_PX = 44  # minimum height of a control, for touch screens


def format_position(index: int, count: int, seconds: float) -> str:
    """``mm:ss.ff · frame N / M`` (N counts from 1, as people count frames)."""
    seconds = max(0.0, seconds)
    m, s = divmod(seconds, 60.0)
    if count <= 0:
        return "00:00.00 · frame – / –"
    return f"{int(m):02d}:{s:05.2f} · frame {index + 1} / {count}"


class ResultCache:
    """LRU of Results keyed by (index, model key, style key), bounded by count and bytes."""

    def __init__(self, max_items: int = 240, max_bytes: int = 512 * 2**20) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._d: OrderedDict[tuple, tuple[Result, int]] = OrderedDict()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._d)

    def get(self, key: tuple) -> Result | None:
        item = self._d.get(key)
        if item is None:
            self.misses += 1
            return None
        self._d.move_to_end(key)
        self.hits += 1
        return item[0]

    def put(self, key: tuple, result: Result) -> None:
        size = int(result.frame.pixels.nbytes)
        if result.image is not result.frame.pixels:
            size += int(result.image.nbytes)
        if result.seg is not None:
            size += int(result.seg.labels.nbytes)
        old = self._d.pop(key, None)
        if old is not None:
            self.nbytes -= old[1]
        self._d[key] = (result, size)
        self.nbytes += size
        while self._d and (len(self._d) > self.max_items or self.nbytes > self.max_bytes):
            _, (_, s) = self._d.popitem(last=False)
            self.nbytes -= s

    def clear(self) -> None:
        self._d.clear()
        self.nbytes = 0


class ReviewController(QObject):
    """Plays, steps and seeks a clip on its own worker thread; emits processed frames.

    Signals (all delivered in the GUI thread):
      ``frameShown(Result)``: the frame to show; ``result.frame.index`` is its index and
      ``result.image`` its overlay, composed from exactly that frame.
      ``positionChanged(index, count, seconds)``, ``stateChanged(playing)``,
      ``error(message)`` (plain words), ``opened(path, description, count, fps)``,
      ``warning(message)`` (a damaged but partly usable file).
    """

    frameShown = Signal(object)  # noqa: N815
    positionChanged = Signal(int, int, float)  # noqa: N815
    stateChanged = Signal(bool)  # noqa: N815
    error = Signal(str)
    warning = Signal(str)
    opened = Signal(str, str, int, float)
    _notify = Signal()
    _state = Signal(bool)

    def __init__(
        self,
        pipeline: Pipeline,
        parent: QObject | None = None,
        *,
        cache_items: int = 240,
        cache_bytes: int = 512 * 2**20,
    ) -> None:
        super().__init__(parent)
        self.pipeline = pipeline
        self.cache = ResultCache(cache_items, cache_bytes)
        self.process_calls = 0  # frames run through the pipeline (cache misses)
        # --- shared with the worker (guarded by _cond) ---
        self._cond = threading.Condition()
        self._open_path: str | None = None
        self._seek: int | None = None
        self._refresh = False
        self._playing = False
        self._speed = 1.0
        self._loop = False
        self._a: int | None = None
        self._b: int | None = None
        self._stop = False
        self._out: Result | None = None  # latest-wins hand-off to the GUI
        # --- worker-owned ---
        self._src = None
        self._wk_index = -1
        self._anchor: tuple[float, float] | None = None
        self._cache_id: tuple | None = None
        self._last_publish = 0.0
        self._thread: threading.Thread | None = None
        # --- GUI-side view of the state ---
        self.path: str | None = None
        self.count = 0
        self.fps = 30.0
        self.index = -1  # index of the frame last shown
        self.seconds = 0.0
        self.playing = False
        self._target: int | None = None  # the latest seek not yet shown
        self._notify.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._state.connect(self._on_state, Qt.ConnectionType.QueuedConnection)
        self.opened.connect(self._on_opened)

    # ---- commands (GUI thread; none of them blocks) ---------------------------------------
    def open(self, path: str | Path) -> None:
        """Open a video file or DICOM cine; the first frame is shown when it is ready."""
        self._ensure_thread()
        with self._cond:
            self._open_path = str(path)
            self._seek = None
            self._playing = False
            self._cond.notify_all()
        self._target = None

    def seek(self, index: int) -> None:
        """Show frame ``index`` exactly (latest wins: a newer seek replaces a pending one)."""
        if self.count:
            index = max(0, min(self.count - 1, int(index)))
        self._target = int(index)
        with self._cond:
            self._seek = int(index)
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

    def play(self) -> None:
        with self._cond:
            if self._src is None and self._open_path is None:
                return
            self._playing = True
            self._anchor = None
            self._cond.notify_all()
        self._set_playing(True)

    def pause(self) -> None:
        with self._cond:
            self._playing = False
            self._cond.notify_all()
        self._set_playing(False)

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def set_speed(self, speed: float) -> None:
        with self._cond:
            self._speed = clamp_speed(speed)
            self._anchor = None

    @property
    def speed(self) -> float:
        return self._speed

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
        """Show the current frame again (after a model or style change: recomputed)."""
        if self.index < 0:
            return
        with self._cond:
            self._refresh = True
            self._cond.notify_all()

    def close(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._stop = True
            self._playing = False
            self._cond.notify_all()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
        self._thread = None

    @property
    def active(self) -> bool:
        return self.path is not None

    # ---- GUI-side slots -------------------------------------------------------------------
    def _set_playing(self, on: bool) -> None:
        if on != self.playing:
            self.playing = on
            self.stateChanged.emit(on)

    @Slot(bool)
    def _on_state(self, playing: bool) -> None:
        self._set_playing(playing)

    @Slot(str, str, int, float)
    def _on_opened(self, path: str, _desc: str, count: int, fps: float) -> None:
        self.path, self.count, self.fps = path, count, fps
        self.index = -1

    @Slot()
    def _deliver(self) -> None:
        with self._cond:
            result, self._out = self._out, None
        if result is None:
            return
        i = result.frame.index
        self.index = i
        self.seconds = float(result.frame.timestamp)
        if self._target == i:
            self._target = None
        self.frameShown.emit(result)
        self.positionChanged.emit(i, self.count, self.seconds)

    # ---- worker thread --------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._cond:
                self._stop = False
            self._thread = threading.Thread(target=self._run, name="sonolive-review", daemon=True)
            self._thread.start()

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
                    playing = self._playing
                try:
                    if path is not None:
                        self._do_open(path)
                    elif seek is not None:
                        self._show(seek)
                    elif refresh:
                        self._show(self._wk_index)
                    elif playing:
                        self._play_one()
                except (SourceError, IndexError) as e:
                    self._fail(str(e))
                except Exception as e:  # noqa: BLE001 - the worker must survive anything
                    self._fail(f"Review failed: {e}")
        finally:
            src, self._src = self._src, None
            if src is not None:
                try:
                    src.close()
                except Exception:  # noqa: BLE001
                    pass

    def _emit(self, signal, *args) -> None:
        """Emit from the worker; after the window is gone (shutdown) there is no one to tell."""
        if self._stop:
            return
        try:
            signal.emit(*args)
        except RuntimeError:  # the QObject was deleted while this frame was in flight
            with self._cond:
                self._stop = True

    def _fail(self, msg: str) -> None:
        with self._cond:
            self._playing = False
        self._emit(self._state, False)
        self._emit(self.error, msg)

    def _do_open(self, path: str) -> None:
        name = Path(path).name
        try:
            src = open_source(path, paced=False)
            src.open()
        except SourceError as e:
            self._emit(self.error, str(e))
            return
        except Exception as e:  # noqa: BLE001 - any failure is a message, never a crash
            self._emit(self.error, f"{name} could not be opened: {e}")
            return
        count = int(getattr(src, "frame_count", 0) or 0)
        if not getattr(src, "seekable", False) or count <= 0 or not hasattr(src, "seek"):
            src.close()
            self._emit(self.error, f"{name} is not a recorded clip that can be reviewed.")
            return
        old, self._src = self._src, src
        if old is not None:
            try:
                old.close()
            except Exception:  # noqa: BLE001
                pass
        # the live capture stops (off the GUI thread): review owns the segmenter from now on
        if self.pipeline.running or self.pipeline.source is not None:
            self.pipeline.set_source(None)
        self.pipeline.reset_ood()  # a new clip: the gate starts afresh, "Show anyway" is off
        self.cache.clear()
        self._wk_index = -1
        with self._cond:
            self._a = self._b = None
            self._anchor = None
            if self._seek is None:
                self._seek = 0
        self._emit(self.opened, path, src.describe(), count, float(src.fps))
        if getattr(src, "warning", None):
            self._emit(self.warning, src.warning)

    # -- frames --
    def _cache_key(self, index: int) -> tuple:
        p = self.pipeline
        seg = p.segmenter
        model = (seg.card.name, id(seg)) if seg is not None else None
        style = dataclasses.astuple(p.style) if p.style is not None else None
        ident = (model, style, id(p.heat_provider) if p.heat_provider else None, p.show_ood)
        if ident != self._cache_id:  # model or style changed: every cached overlay is stale
            self.cache.clear()
            self._cache_id = ident
        return (index, *ident)

    def _result_for(self, frame_or_index) -> Result:
        """The Result for a frame (decoded or by index), from the cache or processed now."""
        index = frame_or_index if isinstance(frame_or_index, int) else frame_or_index.index
        key = self._cache_key(index)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        if isinstance(frame_or_index, int):
            frame = self._src.seek(index)
        else:
            frame = frame_or_index
        if self.pipeline.running:  # the live path was restarted: it owns the segmenter now
            raise SourceError("Live capture is running; review paused.")
        frame.mark_entered()
        result = self.pipeline.process(frame)
        self.process_calls += 1
        result.extras["review"] = True
        self.cache.put(key, result)
        return result

    def _publish(self, result: Result) -> None:
        self._wk_index = result.frame.index
        self._last_publish = time.perf_counter()
        for hook in list(self.pipeline.frame_hooks):  # recorder etc.: the frames shown
            try:
                hook(result)
            except Exception:  # noqa: BLE001 - a hook must not stop review
                pass
        with self._cond:
            was_empty = self._out is None
            self._out = result
        if was_empty:
            self._emit(self._notify)

    def _show(self, index: int) -> None:
        if self._src is None:
            return
        count = self._src.frame_count
        index = max(0, min(count - 1, int(index)))
        self._publish(self._result_for(index))
        with self._cond:
            self._anchor = None

    def _next_index(self) -> int | None:
        """The frame after the one shown, honouring A–B and loop; None at the end."""
        count = self._src.frame_count
        nxt = self._wk_index + 1
        a, b = self._a, self._b
        if a is not None and b is not None and a < b:
            if nxt > b or nxt < a:
                return a
            return nxt
        if nxt >= count:
            return 0 if self._loop else None
        return nxt

    def _commands_pending(self) -> bool:
        return self._stop or self._open_path is not None or self._seek is not None

    def _play_one(self) -> None:
        src = self._src
        nxt = self._next_index()
        if nxt is None:
            with self._cond:
                self._playing = False
            self._emit(self._state, False)
            return
        if src.position == nxt:
            try:
                frame = src.read()
            except EndOfStream:
                frame = src.seek(nxt)
        else:
            frame = src.seek(nxt)
        speed = self._speed
        now = time.perf_counter()
        ts = float(frame.timestamp)
        with self._cond:
            anchor = self._anchor
            if anchor is None or ts < anchor[1]:
                anchor = self._anchor = (now, ts)
        due = anchor[0] + (ts - anchor[1]) / speed
        period = 1.0 / ((src.fps or 30.0) * speed)
        key = self._cache_key(frame.index)
        cached = key in self.cache._d
        if (
            now > due + period
            and not cached
            and now - self._last_publish < 0.25
            and frame.index != self._b
        ):
            self._wk_index = frame.index  # too late: decoded, skipped (in order)
            return
        if now - due > 1.0:  # far behind (slow decode): restart the clock here
            with self._cond:
                self._anchor = (now, ts)
            due = now
        result = self._result_for(frame)
        with self._cond:
            while not self._commands_pending() and self._playing:
                wait = due - time.perf_counter()
                if wait <= 0:
                    break
                self._cond.wait(wait)
            if self._commands_pending() or not self._playing:
                self._wk_index = frame.index
                return  # interrupted: a seek, open or pause takes over
        self._publish(result)


# ---- the panel -------------------------------------------------------------------------------
class ReviewPanel(QWidget):
    """Transport controls for :class:`ReviewController`, sized for a touch screen."""

    def __init__(self, controller: ReviewController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = c = controller

        def button(text: str, tip: str, slot) -> QPushButton:
            b = QPushButton(text)
            b.setToolTip(tip)
            b.setMinimumSize(TOUCH_PX + 8, TOUCH_PX)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the window's shortcuts
            b.clicked.connect(slot)
            return b

        self.back_1s = button("−1 s", self.tr("Back one second (Shift+Left)"), lambda: c.jump(-1))
        self.step_back = button("◀|", self.tr("Previous frame (Left)"), lambda: c.step(-1))
        self.play_button = button("▶", self.tr("Play / pause (Space)"), c.toggle_play)
        self.play_button.setMinimumWidth(TOUCH_PX * 2)
        self.step_fwd = button("|▶", self.tr("Next frame (Right)"), lambda: c.step(1))
        self.fwd_1s = button("+1 s", self.tr("Forward one second (Shift+Right)"), lambda: c.jump(1))

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimumHeight(TOUCH_PX)
        self.slider.setRange(0, 0)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setStyleSheet(
            "QSlider::groove:horizontal{height:10px;background:#555;border-radius:5px}"
            "QSlider::handle:horizontal{width:28px;margin:-12px 0;background:#ddd;"
            "border-radius:14px}"
        )
        self.slider.sliderMoved.connect(c.seek)
        self.slider.valueChanged.connect(self._slider_value)
        self.position_label = QLabel(format_position(0, 0, 0.0))
        self.position_label.setMinimumWidth(220)
        f = self.position_label.font()
        f.setPointSizeF(max(11.0, f.pointSizeF() * 1.2))
        self.position_label.setFont(f)

        self.speed_combo = QComboBox()
        for s in SPEEDS:
            self.speed_combo.addItem(f"{s:g}×", s)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_combo.setMinimumHeight(TOUCH_PX)
        self.speed_combo.currentIndexChanged.connect(
            lambda i: c.set_speed(self.speed_combo.itemData(i))
        )
        self.loop_box = QCheckBox(self.tr("Loop"))
        self.loop_box.setMinimumHeight(TOUCH_PX)
        self.loop_box.toggled.connect(c.set_loop)
        self.a_button = button("A", self.tr("Mark loop start at this frame"), self._mark_a)
        self.b_button = button("B", self.tr("Mark loop end at this frame"), self._mark_b)
        self.clear_ab_button = button(
            self.tr("Clear A–B"), self.tr("Clear the A–B loop"), self._clear_ab
        )
        self.ab_label = QLabel("")

        top = QHBoxLayout()
        top.addWidget(self.slider, 1)
        top.addWidget(self.position_label)
        grid = QGridLayout()
        row = [self.back_1s, self.step_back, self.play_button, self.step_fwd, self.fwd_1s]
        for i, w in enumerate(row):
            grid.addWidget(w, 0, i)
        grid.addWidget(QLabel(self.tr("Speed")), 0, len(row))
        grid.addWidget(self.speed_combo, 0, len(row) + 1)
        grid.addWidget(self.loop_box, 0, len(row) + 2)
        ab = QHBoxLayout()
        for w in (self.a_button, self.b_button, self.clear_ab_button, self.ab_label):
            ab.addWidget(w)
        ab.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(grid)
        lay.addLayout(ab)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        c.positionChanged.connect(self.on_position)
        c.stateChanged.connect(self.on_state)
        c.opened.connect(self._on_opened)

    @Slot(str, str, int, float)
    def _on_opened(self, _path: str, _desc: str, count: int, _fps: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, count - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._update_ab()

    @Slot(int, int, float)
    def on_position(self, index: int, count: int, seconds: float) -> None:
        self.position_label.setText(format_position(index, count, seconds))
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)

    @Slot(bool)
    def on_state(self, playing: bool) -> None:
        self.play_button.setText("❚❚" if playing else "▶")

    def _slider_value(self, value: int) -> None:
        if not self.slider.isSliderDown():  # a click on the groove or a key on the slider
            self.controller.seek(value)

    def _mark_a(self) -> None:
        self.controller.set_a()
        self._update_ab()

    def _mark_b(self) -> None:
        self.controller.set_b()
        self._update_ab()

    def _clear_ab(self) -> None:
        self.controller.clear_ab()
        self._update_ab()

    def _update_ab(self) -> None:
        a, b = self.controller.ab
        if a is None and b is None:
            self.ab_label.setText("")
            return
        fa = "–" if a is None else str(a + 1)
        fb = "–" if b is None else str(b + 1)
        self.ab_label.setText(self.tr("A–B loop: frames %1–%2").replace("%1", fa).replace("%2", fb))


# ---- installation into the main window ---------------------------------------------------------
def _is_clip_path(path: str) -> bool:
    return Path(path).suffix.lower() in CLIP_EXTENSIONS or Path(path).suffix == ""


class _WindowFilter(QObject):
    """Drag-and-drop of clips onto the window, and stopping review when it closes."""

    def __init__(self, window, controller: ReviewController) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller

    @staticmethod
    def _paths(event) -> list[str]:
        md = event.mimeData()
        if md is None or not md.hasUrls():
            return []
        return [
            u.toLocalFile() for u in md.urls() if u.isLocalFile() and _is_clip_path(u.toLocalFile())
        ]

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        t = event.type()
        if t in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if self._paths(event):
                event.acceptProposedAction()
                return True
        elif t == QEvent.Type.Drop:
            paths = self._paths(event)
            if paths:
                event.acceptProposedAction()
                self.window.open_clip(paths[0])
                return True
        elif t == QEvent.Type.Close:
            self.controller.close(timeout=0.2)
        return False


def recent_clips(settings) -> list[str]:
    v = settings.value(RECENT_KEY, [])
    if isinstance(v, str):
        v = [v] if v else []
    return [str(p) for p in (v or [])]


def add_recent_clip(settings, path: str) -> list[str]:
    items = [p for p in recent_clips(settings) if p != path]
    items.insert(0, path)
    items = items[:RECENT_MAX]
    settings.setValue(RECENT_KEY, items)
    return items


def install_review(window) -> ReviewController:
    """Add clip review to ``window`` and return its controller (also ``window.review``).

    Adds: a "review-dock" with the :class:`ReviewPanel`; a File menu with "Open clip…"
    (Ctrl+O) and "Recent clips" (10, from QSettings); drag-and-drop of video/DICOM files;
    Space / Left / Right / Shift+Left / Shift+Right while the review dock is visible; the
    "Snapshot" action (:func:`install_snapshot`). Shown frames go to ``window.on_result``.
    """
    existing = getattr(window, "review", None)
    if isinstance(existing, ReviewController):
        return existing
    ctl = ReviewController(window.pipeline, window)
    panel = ReviewPanel(ctl)
    dock = QDockWidget(QCoreApplication.translate("MainWindow", "Review"), window)
    dock.setObjectName("review-dock")
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    dock.setVisible(False)
    docks = getattr(window, "docks", None)
    if isinstance(docks, dict):
        docks["review"] = dock
    window.review = ctl
    window.review_panel = panel
    window.review_dock = dock

    ctl.frameShown.connect(window.on_result)
    ctl.error.connect(window.show_banner)
    ctl.warning.connect(window.show_banner)

    # --- menu: Open clip…, Recent clips ---
    menu = None
    for act in window.menuBar().actions():
        m = act.menu()
        if m is not None and m.objectName() == "file-menu":
            menu = m
    if menu is None:
        menu = window.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&File"))
        menu.setObjectName("file-menu")
    open_action = QAction(QCoreApplication.translate("MainWindow", "Open clip…"), window)
    open_action.setShortcut(QKeySequence.StandardKey.Open)
    menu.addAction(open_action)
    folder_action = QAction(QCoreApplication.translate("MainWindow", "Open image folder…"), window)
    menu.addAction(folder_action)
    window.open_folder_action = folder_action
    recent_menu = QMenu(QCoreApplication.translate("MainWindow", "Recent clips"), menu)
    recent_menu.setObjectName("recent-clips-menu")
    menu.addMenu(recent_menu)
    window.open_clip_action = open_action
    window.recent_menu = recent_menu

    def rebuild_recent() -> None:
        recent_menu.clear()
        items = recent_clips(window.settings)
        for p in items:
            a = recent_menu.addAction(Path(p).name)
            a.setToolTip(p)
            a.setData(p)
            a.triggered.connect(lambda _=False, p=p: window.open_clip(p))
        recent_menu.setEnabled(bool(items))

    def open_clip(path: str) -> None:
        ctl.open(path)

    def pick_clip() -> None:
        start = recent_clips(window.settings)
        folder = str(Path(start[0]).parent) if start else str(Path.home())
        exts = " ".join(f"*{e}" for e in sorted(CLIP_EXTENSIONS))
        path, _ = QFileDialog.getOpenFileName(
            window,
            QCoreApplication.translate("MainWindow", "Open clip"),
            folder,
            QCoreApplication.translate("MainWindow", "Clips (%1);;All files (*)").replace(
                "%1", exts
            ),
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        if path:
            open_clip(path)

    def pick_folder() -> None:
        folder = QFileDialog.getExistingDirectory(
            window,
            QCoreApplication.translate("MainWindow", "Open a folder of still images"),
            str(Path.home()),
            options=QFileDialog.Option.DontUseNativeDialog,
        )
        if folder:
            open_clip(folder)

    folder_action.triggered.connect(pick_folder)

    def on_opened(path: str, desc: str, _count: int, _fps: float) -> None:
        add_recent_clip(window.settings, path)
        if hasattr(window, "set_mode") and getattr(window, "mode", "review") != "review":
            try:
                window.set_mode("review")  # review's overlay style and panels
            except Exception:  # noqa: BLE001 - the mode switch is cosmetic here
                pass
            ctl.refresh()  # the first frame may have been composed in the old style
        dock.setVisible(True)
        dock.raise_()
        rebuild_recent()
        if hasattr(window, "hide_banner"):
            window.hide_banner()
        status = getattr(window, "status_line", None)
        if status is not None and hasattr(status, "source_label"):
            status.source_label.setText(desc)
        src = ctl._src
        if src is not None:
            window.source = src  # the simulated-data mark follows the source shown
            if hasattr(window, "_update_marks"):
                window._update_marks()

    window.open_clip = open_clip
    open_action.triggered.connect(pick_clip)
    ctl.opened.connect(on_opened)
    rebuild_recent()

    # --- drag and drop, close ---
    window.setAcceptDrops(True)
    window._review_filter = _WindowFilter(window, ctl)
    window.installEventFilter(window._review_filter)

    # --- keyboard shortcuts, active while the review dock is visible ---
    keys = [
        ("play", Qt.Key.Key_Space, ctl.toggle_play),
        ("step-back", Qt.Key.Key_Left, lambda: ctl.step(-1)),
        ("step-forward", Qt.Key.Key_Right, lambda: ctl.step(1)),
        ("back-1s", QKeySequence("Shift+Left"), lambda: ctl.jump(-1)),
        ("forward-1s", QKeySequence("Shift+Right"), lambda: ctl.jump(1)),
    ]
    window.review_actions = {}
    for name, key, slot in keys:
        a = QAction(name, window)
        a.setShortcut(QKeySequence(key))
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.triggered.connect(slot)
        a.setEnabled(False)
        window.addAction(a)
        window.review_actions[name] = a

    def dock_visible(on: bool) -> None:
        for a in window.review_actions.values():
            a.setEnabled(on)
        if not on:
            ctl.pause()

    dock.visibilityChanged.connect(dock_visible)

    # --- a model or style change shows the current frame again, recomputed ---
    panel_ = getattr(window, "overlay_panel", None)
    if panel_ is not None and hasattr(panel_, "styleChanged"):
        panel_.styleChanged.connect(lambda *_: ctl.refresh())
    bridge = getattr(window, "bridge", None)
    if bridge is not None and hasattr(bridge, "modelReady"):
        bridge.modelReady.connect(lambda *_: ctl.refresh())

    from .snapshot import install_snapshot

    install_snapshot(window)
    return ctl
