"""Recording to H.264 MP4 that survives a crash.

The file is a *fragmented* MP4 (``frag_keyframe+empty_moov+default_base_moof``): the header
is written first and then self-contained fragments follow, each flushed to the operating
system as soon as it is complete. A new fragment starts at every keyframe (one per second at
most: GOP size = fps) and at least every ``fragment_seconds`` (0.25 s by default), so when
the app or the machine dies the file on disk is playable and misses at most the last
fragment. There is no index to rewrite at the end.

Encoding runs on the Recorder's own thread behind a small bounded queue: ``write()`` never
waits on the encoder or the disk, never raises, and drops (and counts) frames when the queue
is full. A write error (a full disk, a removed USB stick) stops the recording cleanly, keeps
what was written playable and reports it once through ``error`` and ``on_error``.
"""

from __future__ import annotations

import errno
import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from .mp4_writer import Mp4Writer, pick_codec
from .workers import spawn

RECORD_CONTENTS = ("raw", "overlay", "both")
WATERMARK_TEXT = "Not for diagnostic use"
_STOP = object()


def output_paths(path: str | Path, mode: str) -> dict[str, Path]:
    """The files a recording writes: ``{"overlay": path}``, or for ``both`` two files."""
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        path = path.with_suffix(".mp4")
    if mode == "both":
        return {
            "raw": path.with_name(f"{path.stem}_raw.mp4"),
            "overlay": path.with_name(f"{path.stem}_overlay.mp4"),
        }
    return {mode: path}


def burn_watermark(img: np.ndarray, text: str = WATERMARK_TEXT) -> None:
    """Burn ``text`` into the bottom-left corner of ``img`` (in place): white letters in a
    dark outline wide enough to survive video compression, legible on any image, as large
    as fits (up to a size that leaves the picture's corner to the picture)."""
    h, w = img.shape[:2]
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = max(0.35, min(1.2, w / 1100))
    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    if tw > 0.95 * w:  # a narrow picture: smaller, but the whole text
        scale *= 0.95 * w / tw
        (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    ring = max(2, thick)
    x, y = max(2, h // 100 + 4) + ring, h - max(4, base + 4) - ring
    # the letters as a coverage mask, the outline as that mask grown by ``ring`` pixels
    # (putText's own thickness does not grow past a couple of pixels in every OpenCV build)
    top = max(0, y - th - 2 * ring)
    box = img[top:h, 0 : min(w, x + tw + 2 * ring)]
    letters = np.zeros(box.shape[:2], np.uint8)
    cv2.putText(letters, text, (x, y - top), font, scale, 255, thick, cv2.LINE_AA)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring + 1, 2 * ring + 1))
    outline = cv2.dilate(letters, k)
    a = outline.astype(np.float32) / 255.0
    b = letters.astype(np.float32) / 255.0
    if box.ndim == 3:
        a, b = a[..., None], b[..., None]
    out = box * (1.0 - a) * (1.0 - b) + 255.0 * b
    box[:] = np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _as_rgb(img: np.ndarray | None) -> np.ndarray | None:
    if img is None:
        return None
    img = np.asarray(img)
    if img.dtype != np.uint8:
        return None
    if img.ndim == 2:
        return np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim == 3 and img.shape[2] == 3:
        return img
    if img.ndim == 3 and img.shape[2] == 4:
        return img[:, :, :3]
    return None


class Recorder:
    """Records frames to H.264 fragmented MP4 on its own thread.

    ``mode`` chooses what is recorded: ``"overlay"`` (the annotated picture; the raw picture
    stands in while no overlay exists yet), ``"raw"``, or ``"both"`` (two files,
    ``<stem>_raw.mp4`` and ``<stem>_overlay.mp4``). ``redact`` rectangles ``(x, y, w, h)``
    are filled black in every file; "Not for diagnostic use" is burned into the bottom-left
    corner of the overlay file always, and of the raw file too with ``watermark``. Odd frame sizes are padded to even (yuv420p needs it).

    ``frames_written`` counts frames the encoder has handed to the MP4 muxer (for ``both``,
    the overlay file's), ``frames_dropped`` those dropped because the queue was full.
    ``on_error(msg)`` is called once, **on the recorder's thread**, when a write error stops
    the recording (a Qt app should forward it with a queued signal).
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        mode: str = "overlay",
        *,
        redact: Sequence[tuple[int, int, int, int]] | None = None,
        watermark: bool = False,
        on_error: Callable[[str], None] | None = None,
        queue_size: int = 8,
        fragment_seconds: float = 0.25,
        crf: int = 23,
        copy: bool = True,
    ) -> None:
        if mode not in RECORD_CONTENTS:
            raise ValueError(f"mode must be one of {RECORD_CONTENTS}, got {mode!r}")
        if not fps or fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.mode = mode
        self.fps = float(fps)
        self.paths = output_paths(path, mode)
        self.path = self.paths["raw" if mode == "raw" else "overlay"]
        self.redact = [tuple(int(v) for v in r) for r in (redact or [])]
        self.watermark = watermark
        self.on_error = on_error
        self.copy = copy
        self.codec, self.codec_note = pick_codec()
        self.frames_written = 0
        self.frames_dropped = 0
        self.error: str | None = None
        self._tracks = {
            name: Mp4Writer(
                p,
                self.fps,
                codec=self.codec,
                crf=crf,
                preset="ultrafast",
                tune="zerolatency",
                fragment_s=fragment_seconds,
                gop=max(1, round(self.fps)),  # a keyframe (and fragment) at least every second
            )
            for name, p in self.paths.items()
        }
        self._primary = self._tracks["raw" if mode == "raw" else "overlay"]
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._closing = False
        self._thread = spawn(self._run, name="sonolive-recorder")

    # -- producer side (any thread; never blocks, never raises) -----------------------------

    @property
    def recording(self) -> bool:
        return not self._closing and self.error is None

    def write(
        self, raw_rgb: np.ndarray | None = None, overlay_rgb: np.ndarray | None = None
    ) -> bool:
        """Queue one frame for encoding; False when it was dropped or the recorder stopped."""
        try:
            if self._closing or self.error is not None:
                return False
            raw, over = _as_rgb(raw_rgb), _as_rgb(overlay_rgb)
            if self.mode == "raw":
                item = {"raw": raw}
            elif self.mode == "overlay":
                item = {"overlay": over if over is not None else raw}
            else:
                item = {
                    "raw": raw if raw is not None else over,
                    "overlay": over if over is not None else raw,
                }
            if any(v is None for v in item.values()):
                self.frames_dropped += 1
                return False
            if self.copy:
                item = {k: np.array(v, copy=True) for k, v in item.items()}
            self._queue.put_nowait(item)
            return True
        except queue.Full:
            self.frames_dropped += 1
            return False
        except Exception:  # noqa: BLE001 - write() must never raise into the pipeline
            self.frames_dropped += 1
            return False

    def close(self, timeout: float | None = 10.0) -> None:
        """Finish the queued frames and close the file(s); waits at most ``timeout`` s."""
        if not self._closing:
            self._closing = True
            try:
                self._queue.put(_STOP, timeout=timeout)
            except queue.Full:
                pass
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the recorder's thread ---------------------------------------------------------------

    def _prepare(self, img: np.ndarray, track: str = "overlay") -> np.ndarray:
        # the annotated picture always carries the mark (it leaves the app); the raw
        # picture when ``watermark`` is on
        mark = self.watermark or track == "overlay"
        if (self.redact or mark) and (not img.flags.writeable or not self.copy):
            img = img.copy()  # never draw into a frame the caller still owns
        for x, y, rw, rh in self.redact:
            x0, y0 = max(0, x), max(0, y)
            x1, y1 = min(img.shape[1], x + rw), min(img.shape[0], y + rh)
            if x1 > x0 and y1 > y0:
                img[y0:y1, x0:x1] = 0
        if mark:
            burn_watermark(img)
        return img

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            if self.error is not None:
                continue
            try:
                for name, img in item.items():
                    n = self._tracks[name].write(self._prepare(img, name))
                    if self._tracks[name] is self._primary:
                        self.frames_written += n
            except Exception as e:  # noqa: BLE001 - any write error stops the recording
                self._fail(e)
        if self.error is None:
            try:
                for track in self._tracks.values():
                    n = track.close()
                    if track is self._primary:
                        self.frames_written += n
            except Exception as e:  # noqa: BLE001
                self._fail(e)

    def _fail(self, e: BaseException) -> None:
        where = ", ".join(str(p) for p in self.paths.values())
        code = getattr(e, "errno", None)
        text = str(getattr(e, "strerror", None) or e)
        kept = (
            "The file so far is kept and playable."
            if self._primary.packets
            else "Nothing was recorded."
        )
        if code in (errno.ENOSPC, errno.EDQUOT) or "no space left" in text.lower():
            msg = f"Recording stopped: the disk is full ({where}). {kept}"
        else:
            msg = f"Recording stopped: could not write {where} ({text}). {kept}"
        self.error = msg
        for track in self._tracks.values():
            track.abort()
        if self.on_error is not None:
            try:
                self.on_error(msg)
            except Exception:  # noqa: BLE001 - a broken callback must not kill the thread
                pass
