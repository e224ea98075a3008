"""A fake capture card that behaves like a real one, for tests and the file-backed benchmark.

:class:`FakeCaptureCard` is an *opener*: calling it returns a :class:`FakeCaptureDevice`
with the ``cv2.VideoCapture`` interface (``read/grab/retrieve/set/get/isOpened/release``).
The card plays a real encoded clip (decoded once with PyAV, looped) on a wall-clock
timeline at its frame rate, so ``read()`` blocks until the next frame is due, exactly like a
driver. A scripted ``schedule`` of phases drives the signal over wall time, across reopen:

* ``live`` - frames flow;
* ``freeze`` - the same (last pre-freeze) frame repeats at the frame rate;
* ``error`` - ``read()`` returns ``(False, None)``;
* ``block`` - ``read()`` blocks until the phase ends, then returns a stale pre-block frame
  (like a driver handing back an old buffer);
* ``unplugged`` - opened devices fail to read, and opening gives a closed device (or raises).

After the schedule the signal stays live. Timeline frame ``k`` shows clip frame ``k % n``,
and each clip frame carries its number as a barcode (``barcode.CORNER``: a row of cells at
the top left), so tests can tell frames from before an outage from frames after it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from barcode import CORNER, write_barcode
from sonolive.capture.mp4_writer import Mp4Writer

PHASES = ("live", "freeze", "error", "block", "unplugged")


# --------------------------------------------------------------------------- clips
def encode_barcode_clip(
    path: str | Path,
    frames: int = 120,
    width: int = 320,
    height: int = 240,
    fps: int = 30,
    codec: str = "libx264",
) -> Path:
    """Encode a test clip with PyAV whose frame ``i`` carries barcode ``i``.

    The picture is a moving pattern (so consecutive frames differ everywhere) under the
    barcode row. Height and width must be even.
    """
    path = Path(path)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = (96 + 60 * np.sin(xx / 23.0) * np.cos(yy / 17.0) + 40 * np.sin((xx + yy) / 41.0)).astype(
        np.float32
    )
    with Mp4Writer(path, fps, codec=codec, crf=18, preset="ultrafast", tune="zerolatency") as out:
        for i in range(frames):
            shift = (i * 7) % width
            g = np.roll(base, shift, axis=1) + (i % 13) * 3
            img = np.empty((height, width, 3), np.uint8)
            img[..., 0] = np.clip(g, 0, 255)
            img[..., 1] = np.clip(g * 0.9 + 10, 0, 255)
            img[..., 2] = np.clip(255 - g, 0, 255)
            write_barcode(img, i, CORNER)
            out.write(img)
    return path


def decode_clip_bgr(path: str | Path, max_frames: int | None = None) -> tuple[list, float]:
    """Decode a clip with PyAV into BGR ``uint8`` arrays (what OpenCV drivers hand out)."""
    import av

    frames: list[np.ndarray] = []
    with av.open(str(path)) as inp:
        st = inp.streams.video[0]
        fps = float(st.average_rate or st.guessed_rate or 30)
        for fr in inp.decode(st):
            frames.append(np.ascontiguousarray(fr.to_ndarray(format="bgr24")))
            if max_frames is not None and len(frames) >= max_frames:
                break
    if not frames:
        raise ValueError(f"no video frames in {path}")
    return frames, fps


def _fourcc_int(code: str) -> int:
    return sum(ord(ch) << (8 * i) for i, ch in enumerate(code[:4].ljust(4)))


_CAP = {  # cv2 property ids, spelled out so this module imports without cv2
    "POS_MSEC": 0,
    "FRAME_WIDTH": 3,
    "FRAME_HEIGHT": 4,
    "FPS": 5,
    "FOURCC": 6,
    "BUFFERSIZE": 38,
}


# --------------------------------------------------------------------------- the card
class FakeCaptureCard:
    """A scripted capture card; call it to "open" it (it is a ``DeviceSource`` opener).

    ``max_uncompressed_fps``: the bus limit for YUYV/NV12 at the clip's size; asking for
    more makes the device report this lower rate, like a USB2 card does, so the MJPG
    fall-back can be exercised. ``unplugged_raises``: opening while unplugged raises
    ``OSError`` instead of returning a closed device.
    """

    def __init__(
        self,
        clip: str | Path | None = None,
        *,
        frames: Sequence[np.ndarray] | None = None,
        fps: float | None = None,
        schedule: Sequence[tuple[str, float]] = (),
        name: str = "Fake USB3 Video Capture",
        vid: int = 0x534D,
        pid: int = 0x2109,
        max_uncompressed_fps: float | None = None,
        unplugged_raises: bool = False,
        max_frames: int | None = None,
    ) -> None:
        if frames is None:
            if clip is None:
                raise ValueError("FakeCaptureCard needs a clip or frames")
            frames, clip_fps = decode_clip_bgr(clip, max_frames)
            fps = fps or clip_fps
        self.frames = list(frames)
        self.fps = float(fps or 30.0)
        for ph, dur in schedule:
            if ph not in PHASES or dur < 0:
                raise ValueError(f"bad phase {ph!r} {dur!r}")
        self.schedule = list(schedule)
        self.name = name
        self.vid, self.pid = vid, pid
        self.max_uncompressed_fps = max_uncompressed_fps
        self.unplugged_raises = unplugged_raises
        self.t0: float | None = None
        self.opens = 0
        self.open_times: list[float] = []
        self.devices: list[FakeCaptureDevice] = []
        self._lock = threading.Lock()
        #: clip frame index -> (due instant, instant read() returned it), latest delivery
        self.deliveries: dict[int, tuple[float, float]] = {}

    # timeline ------------------------------------------------------------------------
    def start(self, t0: float | None = None) -> float:
        """Start the wall-clock timeline (done by the first open if not called)."""
        with self._lock:
            if self.t0 is None:
                self.t0 = time.perf_counter() if t0 is None else t0
            return self.t0

    def phase_bounds(self) -> list[tuple[str, float, float]]:
        """``(phase, start, end)`` in ``perf_counter`` seconds; needs a started timeline."""
        t = self.start()
        out = []
        for ph, dur in self.schedule:
            out.append((ph, t, t + dur))
            t += dur
        out.append(("live", t, math.inf))
        return out

    def phase_at(self, t: float) -> tuple[str, float, float]:
        bounds = self.phase_bounds()
        for ph, a, b in bounds:
            if a <= t < b:
                return ph, a, b
        return bounds[0]  # before the timeline started: its first phase

    def frame_number_at(self, t: float) -> int:
        """Timeline frame number shown at instant ``t``."""
        return max(0, math.floor((t - self.start()) * self.fps))

    def clip_frame(self, k: int) -> np.ndarray:
        return self.frames[k % len(self.frames)]

    # opener --------------------------------------------------------------------------
    def __call__(self, *args: object, **kwargs: object) -> FakeCaptureDevice:
        self.start()
        now = time.perf_counter()
        with self._lock:
            self.opens += 1
            self.open_times.append(now)
        present = self.phase_at(now)[0] != "unplugged"
        if not present and self.unplugged_raises:
            raise OSError(f"{self.name}: no such device")
        dev = FakeCaptureDevice(self, opened=present)
        self.devices.append(dev)
        return dev


class FakeCaptureDevice:
    """One open handle on a :class:`FakeCaptureCard`, with the ``cv2.VideoCapture`` API."""

    def __init__(self, card: FakeCaptureCard, opened: bool = True) -> None:
        self.card = card
        self.name = card.name
        self._opened = opened
        self._last_k: int | None = None
        self._delivered_k: int | None = None
        self._pending: np.ndarray | None = None
        self._pos_ms = 0.0
        h, w = card.frames[0].shape[:2]
        self._props = {
            _CAP["FRAME_WIDTH"]: float(w),
            _CAP["FRAME_HEIGHT"]: float(h),
            _CAP["FPS"]: card.fps,
            _CAP["FOURCC"]: float(_fourcc_int("YUYV")),
            _CAP["BUFFERSIZE"]: 4.0,
        }
        self.reads = 0

    # cv2.VideoCapture interface -------------------------------------------------------
    def isOpened(self) -> bool:  # noqa: N802 - cv2 spelling
        return self._opened

    def release(self) -> None:
        self._opened = False

    def set(self, prop: int, value: float) -> bool:
        if not self._opened:
            return False
        if prop in (_CAP["FRAME_WIDTH"], _CAP["FRAME_HEIGHT"]):
            return True  # only the clip's size is "supported"; the driver keeps it
        if prop == _CAP["BUFFERSIZE"]:
            self._props[prop] = float(value)
            return True
        if prop in (_CAP["FPS"], _CAP["FOURCC"]):
            self._props[prop] = float(value)
            self._props[_CAP["FPS"]] = self._achievable_fps()
            return True
        return False

    def get(self, prop: int) -> float:
        if prop == _CAP["POS_MSEC"]:
            return self._pos_ms
        return float(self._props.get(prop, 0.0))

    def _achievable_fps(self) -> float:
        want = min(self._props[_CAP["FPS"]] or self.card.fps, self.card.fps)
        cc = int(self._props[_CAP["FOURCC"]])
        uncompressed = cc in (_fourcc_int("YUYV"), _fourcc_int("YUY2"), _fourcc_int("NV12"))
        lim = self.card.max_uncompressed_fps
        if uncompressed and lim is not None:
            return min(want, lim)
        return want

    def grab(self) -> bool:
        ok, img = self._next()
        self._pending = img if ok else None
        return ok

    def retrieve(self, image: np.ndarray | None = None, flag: int = 0):
        if self._pending is None:
            return False, None
        img, self._pending = self._pending, None
        return True, img

    def read(self, image: np.ndarray | None = None):
        return self._next()

    # the timeline ---------------------------------------------------------------------
    def _next(self) -> tuple[bool, np.ndarray | None]:
        card = self.card
        if not self._opened:
            return False, None
        self.reads += 1
        now = time.perf_counter()
        t0 = card.start()
        k_now = math.floor((now - t0) * card.fps)
        k = k_now + 1 if self._last_k is None else max(self._last_k + 1, k_now)
        due = t0 + k / card.fps
        if due > now:
            time.sleep(due - now)
        phase, p_start, p_end = card.phase_at(due)
        self._last_k = k
        if not self._opened:
            return False, None
        if phase in ("error", "unplugged"):
            return False, None
        if phase == "block":
            # the read hangs until the signal returns; a handle that delivered frames before
            # the hang then hands back its old buffer (stale content), a new one a fresh frame
            had = self._delivered_k
            time.sleep(max(0.0, p_end - time.perf_counter()))
            self._last_k = card.frame_number_at(p_end)
            if not self._opened:
                return False, None
            if had is not None:
                return True, card.clip_frame(had)
            return True, self._deliver(self._last_k, p_end)
        if phase == "freeze":
            frozen = max(0, card.frame_number_at(p_start) - 1)
            return True, card.clip_frame(frozen)
        return True, self._deliver(k, due)

    def _deliver(self, k: int, due: float) -> np.ndarray:
        card = self.card
        self._pos_ms = (due - card.start()) * 1000.0
        self._delivered_k = k
        card.deliveries[k % len(card.frames)] = (due, time.perf_counter())
        return card.clip_frame(k)


__all__ = [
    "FakeCaptureCard",
    "FakeCaptureDevice",
    "decode_clip_bgr",
    "encode_barcode_clip",
]
