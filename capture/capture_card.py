"""Live input from a capture card: low-latency OpenCV capture with a watchdog and reconnect.

Threads
-------
* a **reader** thread per open handle calls ``cap.read()`` back to back and puts each frame
  into a one-slot, latest-wins holder (an older frame not yet taken is simply replaced);
* one **supervisor** thread (the watchdog) notices a ``read()`` that has been blocked for
  longer than ``stall_s`` and, whenever the signal is lost, re-opens the device with
  exponential backoff (0.2 s doubling to 1 s), matching it again by VID:PID or name.

The signal is *lost* when ``read()`` fails, when it blocks for more than ``stall_s``, or when
the picture is frozen (bit-identical content, by a cheap hash of a sub-sampled frame, or a
driver timestamp that stopped advancing) for more than ``freeze_s``. On loss the slot is
cleared and the old handle is abandoned, so no frame from before an outage is ever delivered
after it; frame indices keep increasing across reconnects.

``read()`` raising :class:`SourceError` is **transient** for this source: the source keeps
reconnecting by itself in the background and the next ``read()`` returns frames again once
the signal is back.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from .cv_capture import fourcc_to_int, fourcc_to_str, release, try_get, try_set
from .device_enum import DeviceInfo, find_device
from .frame import Frame
from .slot import LatestSlot
from .source import FrameSource, SourceError
from .workers import spawn

log = logging.getLogger(__name__)

CONNECTING, LIVE, LOST = "connecting", "live", "lost"

REASON_ERROR = "the device reported a read error"
REASON_FROZEN = "the picture is frozen"

_FORMATS = ("auto", "YUYV", "NV12", "MJPG")
_NOTES = {
    "MJPG": "MJPG (compressed: fine detail may be lost)",
    "YUYV": "YUYV (uncompressed)",
    "YUY2": "YUYV (uncompressed)",
    "NV12": "NV12 (uncompressed)",
}

StateCallback = Callable[[str, str], None]


def _quick_hash(img: np.ndarray) -> int:
    """Cheap content hash: CRC32 of every 4th pixel of one channel (~130 kB at 1080p)."""
    sub = img[::4, ::4, 1] if img.ndim == 3 else img[::4, ::4]
    return zlib.crc32(np.ascontiguousarray(sub).data)


class _OpenFailed(Exception):
    pass


class _Session:
    """One open handle plus the bookkeeping its reader thread and the watchdog share."""

    def __init__(self, cap: Any, require_change_from: frozenset[int] | None) -> None:
        now = time.perf_counter()
        self.cap = cap
        self.dead = False
        self.read_t0: float | None = None
        self.last_change_t = now
        self.last_hash: int | None = None
        self.require_change_from = require_change_from
        self.last_ts = 0.0
        self.ts_moved = False
        self.ts_change_t = now
        self.thread: threading.Thread | None = None
        #: hashes of the last frames delivered from this handle
        self.recent: deque[int | None] = deque(maxlen=8)


class DeviceSource(FrameSource):
    """A capture card (or any OpenCV video device) as a :class:`FrameSource`.

    ``match`` names the device for :func:`~.device_enum.find_device` (``"VID:PID"``, part
    of the name, a path, or an index). ``opener(match)`` may replace the default
    ``cv2.VideoCapture`` opening; it must return a ``cv2.VideoCapture``-like object (tests
    pass a ``FakeCaptureCard`` in ``tests/fake_capture_card.py``).
    """

    simulated = False
    seekable = False

    def __init__(
        self,
        match: str | DeviceInfo,
        width: int = 1920,
        height: int = 1080,
        fps: float = 60.0,
        pixel_format: str = "auto",
        opener: Callable[..., Any] | None = None,
        *,
        timeout: float = 0.5,
        stall_s: float = 0.5,
        freeze_s: float | None = 0.5,
        connect_timeout: float = 3.0,
        backoff: tuple[float, float] = (0.2, 1.0),
        drop_duplicates: bool = True,
    ) -> None:
        fmt = pixel_format.upper() if pixel_format.lower() != "auto" else "auto"
        if fmt not in _FORMATS:
            raise ValueError(f"pixel_format must be one of {_FORMATS}, got {pixel_format!r}")
        self.match = match
        self.width, self.height, self.fps = int(width), int(height), float(fps)
        self.pixel_format = fmt
        self.timeout = float(timeout)
        self.stall_s = float(stall_s)
        self.freeze_s = freeze_s
        self.connect_timeout = float(connect_timeout)
        self.backoff = backoff
        self.drop_duplicates = drop_duplicates
        self._opener = opener
        self.device: DeviceInfo | None = match if isinstance(match, DeviceInfo) else None
        self._name = self.device.name if self.device else str(match)
        self.negotiated: dict[str, Any] = {}
        self.format_note = ""
        self.opens = 0

        self._cond = threading.Condition()
        self._state = CONNECTING
        self._reason = "connecting"
        self._callbacks: list[StateCallback] = []
        #: the newest frame not yet read (latest wins: a slow reader skips old frames)
        self._latest: LatestSlot[Frame] = LatestSlot()
        self._loss_seq = 0
        self._session: _Session | None = None
        self._next_index = 0
        self._lost_hashes: frozenset[int] = frozenset()
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._opened = False

    # ------------------------------------------------------------------ public surface
    @property
    def state(self) -> str:
        """``"connecting"``, ``"live"`` or ``"lost"``."""
        return self._state

    @property
    def status_reason(self) -> str:
        """Plain-words reason for the current state (empty while live)."""
        return self._reason

    @property
    def name(self) -> str:
        return self._name

    def on_state(self, callback: StateCallback) -> StateCallback:
        """Register ``callback(state, reason)``; called from the reader or watchdog thread
        on every change of state or reason (marshal it to the UI thread yourself)."""
        with self._cond:
            self._callbacks.append(callback)
        return callback

    def describe(self) -> str:
        n = self.negotiated
        if not n:
            return self._name
        return f"{self._name} - {n['width']}x{n['height']} @ {n['fps']:g} fps, {self.format_note}"

    def open(self) -> None:
        """Open the device now; raises :class:`SourceError` when it is missing or unusable."""
        if self._opened:
            return
        self._stop.clear()
        try:
            self._connect()
        except _OpenFailed as exc:
            self._set_state(LOST, str(exc))
            raise SourceError(f"No signal: {self._name} ({exc})") from None
        self._opened = True
        self._supervisor = spawn(self._supervise, name=f"capture-watchdog:{self._name}")

    def read(self) -> Frame:
        """Newest frame not yet returned; waits up to ``timeout`` (``connect_timeout`` while
        connecting) and raises ``SourceError("No signal: <device> (<reason>)")`` otherwise."""
        if not self._opened:
            raise SourceError(f"No signal: {self._name} (the device is not open)")
        wait = self.connect_timeout if self._state == CONNECTING else self.timeout
        deadline = time.perf_counter() + wait
        with self._cond:
            loss0 = self._loss_seq
            wakes = self._latest.wakes
        while True:
            if self._stop.is_set():
                raise SourceError(f"No signal: {self._name} (the device was closed)")
            # a loss or a close wakes the slot: nothing from before it is handed out
            frame = self._latest.take(max(0.0, deadline - time.perf_counter()), since=wakes)
            if frame is not None:
                return frame
            with self._cond:
                wakes = self._latest.wakes
                if self._loss_seq != loss0 or deadline - time.perf_counter() <= 0:
                    break
        with self._cond:
            if self._state in (LIVE, CONNECTING):
                reason = f"no frames for {wait:.1f} s"
            else:
                reason = self._reason
        raise SourceError(f"No signal: {self._name} ({reason})")

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            s, self._session = self._session, None
            self._latest.clear()
            if s is not None:
                s.dead = True
            self._cond.notify_all()
        self._latest.wake()
        sup = self._supervisor
        if sup is not None and sup is not threading.current_thread():
            sup.join(timeout=2.0)
        if s is not None and s.thread is not None and s.thread is not threading.current_thread():
            s.thread.join(timeout=max(self.stall_s, 0.2))  # a blocked read is abandoned
        self._supervisor = None
        self._opened = False

    # ------------------------------------------------------------------ opening
    def _open_cap(self) -> Any:
        if self._opener is not None:
            try:
                cap = self._opener(self.match)
            except Exception as exc:
                raise _OpenFailed(f"the device could not be opened: {exc}") from None
            self._name = getattr(cap, "name", None) or self._name
        else:
            info = find_device(self.device or self.match)
            if info is None:
                raise _OpenFailed(f"no capture device matching '{self.match}' is connected")
            self.device = info
            self._name = info.name
            import cv2

            target: int | str = info.index
            if sys.platform.startswith("linux") and info.path:
                target = info.path
            try:
                cap = cv2.VideoCapture(target, info.backend)
            except Exception as exc:
                raise _OpenFailed(f"the device could not be opened: {exc}") from None
        try:
            ok = bool(cap is not None and cap.isOpened())
        except Exception:
            ok = False
        if not ok:
            release(cap)
            raise _OpenFailed(
                "the device could not be opened (unplugged, or in use by another program)"
            )
        self.opens += 1
        return cap

    def _configure(self, cap: Any) -> None:
        import cv2

        try_set(cap, cv2.CAP_PROP_BUFFERSIZE, 1)
        try_set(cap, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 1000)
        want = ["YUYV", "MJPG"] if self.pixel_format == "auto" else [self.pixel_format]
        tried: list[tuple[str, dict]] = []
        for fmt in want:
            got = self._apply_format(cap, fmt)
            tried.append((fmt, got))
            if not self._short(got):
                break
        best_fmt, best = max(tried, key=lambda t: self._score(t[1]))
        if best_fmt != tried[-1][0]:
            best = self._apply_format(cap, best_fmt)
        if not best.get("fourcc"):
            best["fourcc"] = best_fmt
        self.negotiated = best
        cc = best["fourcc"]
        self.format_note = _NOTES.get(cc, f"{cc}")
        if best.get("fps"):
            self.fps = float(best["fps"])
        log.info("capture %s negotiated %s", self._name, best)

    def _apply_format(self, cap: Any, fmt: str) -> dict:
        import cv2

        try_set(cap, cv2.CAP_PROP_FOURCC, fourcc_to_int(fmt))
        try_set(cap, cv2.CAP_PROP_FRAME_WIDTH, self.width)
        try_set(cap, cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        try_set(cap, cv2.CAP_PROP_FPS, self.fps)
        return {
            "width": int(try_get(cap, cv2.CAP_PROP_FRAME_WIDTH)),
            "height": int(try_get(cap, cv2.CAP_PROP_FRAME_HEIGHT)),
            "fps": float(try_get(cap, cv2.CAP_PROP_FPS)),
            "fourcc": fourcc_to_str(try_get(cap, cv2.CAP_PROP_FOURCC)),
        }

    def _short(self, got: dict) -> bool:
        """True when the driver gave less than asked (a bus too slow for raw video)."""
        fps_short = got["fps"] > 0 and got["fps"] < 0.97 * self.fps
        px = got["width"] * got["height"]
        size_short = px > 0 and px < self.width * self.height
        return fps_short or size_short

    def _score(self, got: dict) -> float:
        fps = got["fps"] if got["fps"] > 0 else self.fps
        px = got["width"] * got["height"] or self.width * self.height
        return min(fps, self.fps) * min(px, self.width * self.height)

    def _connect(self) -> None:
        cap = self._open_cap()
        try:
            self._configure(cap)
        except Exception as exc:
            release(cap)
            raise _OpenFailed(f"the device refused the video format: {exc}") from None
        s = _Session(cap, require_change_from=self._lost_hashes)
        with self._cond:
            if self._stop.is_set():
                release(cap)
                return
            self._session = s
        s.thread = spawn(self._reader, name=f"capture-reader:{self._name}", args=(s,))

    # ------------------------------------------------------------------ threads
    def _reader(self, s: _Session) -> None:
        import cv2

        cap = s.cap
        reason = REASON_ERROR
        try:
            while not s.dead:
                s.read_t0 = time.perf_counter()
                try:
                    ok, img = cap.read()
                except Exception as exc:  # a driver exception is a read error
                    log.info("capture read raised: %s", exc)
                    ok, img = False, None
                t_got = time.perf_counter()
                s.read_t0 = None
                if s.dead:
                    break
                if not ok or img is None:
                    break
                prev_hash = s.last_hash
                if self._frozen(s, img, cap, t_got):
                    reason = REASON_FROZEN
                    break
                if self.drop_duplicates and s.last_hash == prev_hash:
                    continue  # a repeat of the last picture carries nothing new
                if s.require_change_from:
                    if s.last_hash in s.require_change_from:
                        continue  # still a picture from before the outage
                    s.require_change_from = None
                if img.ndim == 2:
                    rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
                elif img.shape[2] == 4:
                    rgb = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
                else:
                    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
                frame = Frame(pixels=rgb, timestamp=t_got, index=0, source=self._name)
                fire = None
                with self._cond:
                    if s.dead:
                        break
                    frame.index = self._next_index
                    self._next_index += 1
                    frame.capture_ms = (time.perf_counter() - t_got) * 1e3
                    frame.mark_entered()
                    self._latest.put(frame)
                    if self._state != LIVE:
                        fire = self._change_locked(LIVE, "")
                    self._cond.notify_all()
                if fire:
                    self._fire(*fire)
                s.recent.append(s.last_hash)
            self._lose(s, reason)
        finally:
            release(cap)

    def _frozen(self, s: _Session, img: np.ndarray, cap: Any, t: float) -> bool:
        h = _quick_hash(img)
        if h != s.last_hash:
            s.last_hash = h
            s.last_change_t = t
        try:
            ts = float(cap.get(0))  # CAP_PROP_POS_MSEC: the driver's buffer timestamp
        except Exception:
            ts = 0.0
        if ts != s.last_ts:
            s.ts_moved = s.ts_moved or s.last_ts != 0.0
            s.last_ts = ts
            s.ts_change_t = t
        if self.freeze_s is None:
            return False
        if t - s.last_change_t > self.freeze_s:
            return True
        # only trust the timestamp once it has been seen advancing on this handle
        return s.ts_moved and t - s.ts_change_t > self.freeze_s

    def _supervise(self) -> None:
        """Watchdog + reconnect loop: first retry 0.2 s after a loss, doubling to 1 s while
        attempts fail (or die before the first frame), back to 0.2 s once live."""
        b0, bmax = self.backoff
        delay = b0
        next_try: float | None = None
        while not self._stop.is_set():
            now = time.perf_counter()
            with self._cond:
                s = self._session
                state = self._state
            if s is not None:
                if state == LIVE:
                    delay = b0
                t0 = s.read_t0
                if t0 is not None and now - t0 > self.stall_s:
                    self._lose(s, f"the cable seems unplugged: no frames for {now - t0:.1f} s")
            else:
                if next_try is None:
                    next_try = now + delay
                if now >= next_try:
                    next_try = None
                    try:
                        self._connect()
                    except _OpenFailed as exc:
                        self._set_state(LOST, f"{exc}; retrying")
                    delay = min(delay * 2, bmax)
            self._stop.wait(0.02)

    # ------------------------------------------------------------------ state
    def _lose(self, s: _Session, reason: str) -> None:
        with self._cond:
            if s.dead:
                return
            s.dead = True
            if self._session is s:
                self._session = None
            self._latest.clear()  # nothing from before the outage survives it
            seen = {h for h in (*s.recent, s.last_hash) if h is not None}
            if seen:
                self._lost_hashes = frozenset(seen)
            self._loss_seq += 1
            fire = self._change_locked(LOST, reason)
            self._cond.notify_all()
        self._latest.wake()
        log.warning("capture %s lost: %s", self._name, reason)
        if fire:
            self._fire(*fire)

    def _set_state(self, state: str, reason: str) -> None:
        with self._cond:
            fire = self._change_locked(state, reason)
            self._cond.notify_all()
        if fire:
            self._fire(*fire)

    def _change_locked(self, state: str, reason: str) -> tuple | None:
        if state == self._state and reason == self._reason:
            return None
        self._state, self._reason = state, reason
        return (state, reason, list(self._callbacks))

    def _fire(self, state: str, reason: str, callbacks: list[StateCallback]) -> None:
        for cb in callbacks:
            try:
                cb(state, reason)
            except Exception:
                log.exception("capture state callback failed")


__all__ = ["CONNECTING", "LIVE", "LOST", "DeviceSource"]
