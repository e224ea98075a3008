"""The one H.264 MP4 writer: recordings, ``process`` exports, phantom clips and test media.

One codec choice (:func:`pick_codec`: libx264, else the best H.264/MPEG-4 encoder this PyAV
build has) and one size policy: the first frame fixes the size, rounded up to even by
padding (yuv420p needs even sides); a later frame of another size is scaled to fit and
letterboxed, never cropped. ``fragment_s`` makes a fragmented MP4 that stays playable when
the writer dies (the live recorder uses it).

Not thread-safe: one thread writes (the recorder and ``process`` each own an encoder thread).
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from .frame_size import letterbox

#: fragmented MP4: the header first, then self-contained fragments
FRAGMENT_MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"


def pick_codec() -> tuple[str, str | None]:
    """(encoder name, note): libx264 when this PyAV build has it, else the best fallback."""
    available = av.codecs_available
    for name in ("libx264", "h264", "libopenh264", "mpeg4"):
        if name not in available:
            continue
        try:
            av.codec.Codec(name, "w")
        except Exception:  # noqa: BLE001 - a decoder-only name, or a broken build
            continue
        if name == "libx264":
            return name, None
        return name, f"libx264 is not available in this PyAV build; recording with {name}."
    raise RuntimeError("This PyAV build has no H.264 or MPEG-4 encoder.")


def _pad_even(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    if not (h % 2 or w % 2):
        return rgb
    return np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)))


TIME_SCALE = 90_000  # ticks per second of a timestamped stream (the MPEG clock)
MAX_TIME_S = 10 * 24 * 3600.0  # a frame time beyond ten days is not a clip's time


class Mp4Writer:
    """Encodes RGB (``HxWx3``) or grey (``HxW``) ``uint8`` frames to an H.264 MP4.

    ``preset``/``tune``/``crf`` go to libx264 (other encoders get a bit rate instead).
    ``frames`` counts frames encoded, ``packets`` packets muxed.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        *,
        crf: int = 23,
        preset: str = "veryfast",
        tune: str | None = None,
        fragment_s: float | None = None,
        gop: int | None = None,
        threads: int = 0,
        codec: str | None = None,
        timestamps: bool = False,
    ) -> None:
        self.path = Path(path)
        self.fps = float(fps) if fps and fps > 0 else 30.0
        self.crf = crf
        self.preset = preset
        self.tune = tune
        self.fragment_s = fragment_s
        self.gop = gop
        self.threads = threads
        self.codec = codec or pick_codec()[0]
        #: frames keep the times given to write() (variable frame rate), in 1/90000 s
        self.timestamps = timestamps
        self._last_pts = -1
        self.size: tuple[int, int] | None = None  # (w, h), even
        self.frames = 0
        self.packets = 0
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None

    def _open(self, w: int, h: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, str] = {}
        if self.fragment_s is not None:
            options = {
                "movflags": FRAGMENT_MOVFLAGS,
                "frag_duration": str(max(1, int(self.fragment_s * 1e6))),
                "flush_packets": "1",
            }
        self._container = av.open(str(self.path), "w", format="mp4", container_options=options)
        rate = Fraction(self.fps).limit_denominator(1001)
        stream = self._container.add_stream(self.codec, rate=rate)
        assert isinstance(stream, av.VideoStream)  # a video codec makes a video stream
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        cc = stream.codec_context
        cc.time_base = Fraction(1, TIME_SCALE) if self.timestamps else 1 / rate
        if self.gop is not None:
            cc.gop_size = self.gop
        if self.threads:
            cc.thread_count = self.threads
        if self.tune != "zerolatency":  # frame threads add frames of delay: not for live
            stream.thread_type = "AUTO"
        if self.codec in ("libx264", "h264"):
            opts: dict[str, object] = {"preset": self.preset, "crf": str(self.crf)}
            if self.tune:
                opts["tune"] = self.tune
            stream.options = opts
        else:
            cc.bit_rate = int(w * h * self.fps * 0.2)
        for attr in ("colorspace", "color_primaries", "color_trc"):
            try:  # tag BT.601 (what the RGB->YUV conversion uses) so players agree
                setattr(cc, attr, 6)
            except Exception:  # noqa: BLE001 - tags are cosmetic
                pass
        self._stream = stream
        self.size = (w, h)

    def write(self, img: np.ndarray, time_s: float | None = None) -> int:
        """Encode one frame; returns the number of packets muxed. ``time_s`` (with
        ``timestamps``): the frame's time; frames always move forward in time, and a time
        that is missing or out of range takes one nominal frame step."""
        img = np.asarray(img)
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        if self._container is None:
            img = _pad_even(img)
            self._open(img.shape[1], img.shape[0])
        else:
            img = letterbox(img, *(self.size or (img.shape[1], img.shape[0])))
        # OpenCV's BT.601 conversion (the same matrix as libswscale's) is 7x faster at 1080p
        yuv = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2YUV_I420)
        frame = av.VideoFrame.from_ndarray(np.asarray(yuv, np.uint8), format="yuv420p")
        frame.pts = self._pts(time_s) if self.timestamps else self.frames
        self.frames += 1
        n = 0
        assert self._stream is not None and self._container is not None
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
            n += 1
        self.packets += n
        return n

    def _pts(self, time_s: float | None) -> int:
        step = max(1, round(TIME_SCALE / self.fps))
        pts = self._last_pts + step
        if time_s is not None and math.isfinite(time_s) and 0 <= time_s < MAX_TIME_S:
            pts = max(self._last_pts + 1, round(time_s * TIME_SCALE))
        self._last_pts = pts
        return pts

    def close(self) -> int:
        """Flush the encoder and close the file; returns the packets flushed."""
        if self._container is None:
            return 0
        n = 0
        try:
            assert self._stream is not None  # opened together with the container
            for packet in self._stream.encode(None):
                self._container.mux(packet)
                n += 1
            self.packets += n
        finally:
            self.abort()
        return n

    def abort(self) -> None:
        """Close without raising (after a write error the trailer may fail too)."""
        c, self._container = self._container, None
        if c is not None:
            try:
                c.close()
            except Exception:  # noqa: BLE001
                pass

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
