"""Video clips (MP4, MOV, AVI, MKV, ...) and network streams as a frame source, via PyAV.

Frame-accurate seeking: on open the clip's packets are demuxed once (no decoding, so it is
fast: the cost is reading the file) and their presentation timestamps are sorted into a
frame-index table. Frame ``i`` is the ``i``-th presentation time, so variable-frame-rate
clips index correctly. ``seek(i)`` jumps to the keyframe at or before frame ``i`` and decodes
forward to exactly frame ``i``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .frame import Frame
from .frame_size import check_frame_size
from .source import EndOfStream, SeekableSource, SourceError

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts", ".wmv", ".gif"}
)  # GIF: teaching atlases; FFmpeg decodes its frames (and their delays) like a clip
#: URL schemes PyAV (FFmpeg) opens as network streams
URL_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "srt://")
#: schemes of live streams: they arrive in real time and are never paced or seekable
LIVE_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "udp://", "srt://")


def is_url(spec: str) -> bool:
    return str(spec).lower().startswith(URL_SCHEMES)


class ClipSource(SeekableSource):
    """A video file (or network stream) decoded with PyAV.

    ``read()`` returns the next frame, paced to the clip's timing x ``speed`` when ``paced``;
    at the end it raises :class:`EndOfStream` (or starts again when ``loop``). ``seek(i)``
    returns exactly frame ``i`` and makes ``read()`` continue from ``i + 1``.

    ``Frame.timestamp`` is the presentation time in seconds from the first frame,
    ``Frame.index`` the frame index and ``Frame.source`` the file name.

    A damaged file never escapes as a raw PyAV exception: an unreadable one raises
    :class:`SourceError` on :meth:`open`; a truncated one that still holds decodable frames
    opens, delivers those and then ends. ``frame_count`` is then the usable count and
    ``warning`` says what is wrong.

    Thread-safety: a ClipSource is not thread-safe. Use it from one worker thread at a time
    (open, read, seek and close from the same thread, or hand it over with a lock); other
    threads may read the plain attributes (``frame_count``, ``fps``, ``position``).
    """

    def __init__(
        self, path: str | Path, paced: bool = True, loop: bool = False, *, timeout: float = 10.0
    ) -> None:
        self.path = str(path)
        self.url = is_url(self.path)
        self.live = self.path.lower().startswith(LIVE_SCHEMES)
        super().__init__(paced=paced and not self.live, loop=loop)
        self.name = self.path if self.url else Path(self.path).name
        self.timeout = timeout
        self.seekable = not self.url
        self._container: av.container.InputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self._time_base = Fraction(1, 1)
        self._pts: list[int] = []  # sorted presentation timestamps, one per frame
        self._pts_index: dict[int, int] = {}
        self._keyframes: list[int] = []  # frame indices of keyframes, sorted
        self._decoder: Iterator[av.VideoFrame] | None = None
        self._live_pts0: int | None = None

    # -- properties ------------------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        """Number of (usable) frames; 0 for a live stream or before :meth:`open`."""
        return len(self._pts)

    @property
    def location(self) -> str:
        return self.path

    def _time_of(self, index: int) -> float:
        return float((self._pts[index] - self._pts[0]) * self._time_base)

    def describe(self) -> str:
        if self.live or self.url:
            return f"Stream {self.name}"
        if self._pts:
            return f"Clip {self.name} ({self.frame_count} frames, {self._fps:.3g} fps)"
        return f"Clip {self.name}"

    # -- open / close ----------------------------------------------------------------------

    def _unreadable(self, detail: object) -> SourceError:
        return SourceError(f"{self.name} is not a readable video (truncated or corrupt): {detail}")

    def open(self) -> None:
        if self._container is not None:
            return
        if not self.url:
            p = Path(self.path)
            if not p.exists():
                raise SourceError(f"File not found: {self.path}")
            if not p.is_file():
                raise SourceError(f"Not a file: {self.path}")
        kwargs: dict = {"metadata_errors": "replace"}
        if self.url:
            kwargs["timeout"] = self.timeout
            if self.path.lower().startswith(("rtsp://", "rtsps://")):
                kwargs["container_options"] = {"rtsp_transport": "tcp", "fflags": "nobuffer"}
        try:
            container = av.open(self.path, **kwargs)
        except av.FFmpegError as e:
            if self.url:
                raise SourceError(f"Cannot open the stream {self.name}: {_detail(e)}") from None
            raise self._unreadable(_detail(e)) from None
        except OSError as e:
            raise SourceError(f"Cannot read {self.name}: {e.strerror or e}") from None
        try:
            if not container.streams.video:
                raise SourceError(f"{self.name} contains no video stream")
            stream = container.streams.video[0]
            check_frame_size(stream.codec_context.width, stream.codec_context.height, self.name)
            self._container, self._stream = container, stream
            self._time_base = stream.time_base or Fraction(1, 90000)
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            self._fps = float(rate) if rate and 0 < float(rate) < 1000 else 30.0
            if not self.url:
                self._scan()
                self._rewind()
            else:
                self._decoder = self._decode_iter()
            self._next_index = 0
            self._live_pts0 = None
            self._pacer.reset()
        except SourceError:
            self.close()
            raise
        except (av.FFmpegError, OSError, ValueError) as e:
            self.close()
            raise self._unreadable(_detail(e)) from None

    def close(self) -> None:
        c, self._container, self._decoder = self._container, None, None
        if c is not None:
            try:
                c.close()
            except Exception:  # noqa: BLE001 - closing a damaged file must not raise
                pass

    # -- index table -----------------------------------------------------------------------

    def _scan(self) -> None:
        """Demux every packet once (no decoding) to build the frame-index table."""
        assert self._container is not None and self._stream is not None
        pts: list[int] = []
        key_pts: list[int] = []
        problem = None
        demux = self._container.demux(self._stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                break
            except (av.FFmpegError, OSError) as e:
                problem = _detail(e)
                break
            if not packet.size:
                continue
            t = packet.pts if packet.pts is not None else packet.dts
            if t is None:
                continue
            pts.append(t)
            if packet.is_keyframe:
                key_pts.append(t)
        self._set_table(pts, key_pts)
        declared = self._stream.frames
        if problem is None and declared and len(pts) < declared:
            problem = f"{declared - len(pts)} of {declared} frames are missing"
        if not pts:
            raise self._unreadable(problem or "no video frames found")
        if not self._keyframes:
            raise self._unreadable("no keyframe found")
        if problem is not None:
            self._verify_tail(problem)

    def _set_table(self, pts: list[int], key_pts: list[int] | None = None) -> None:
        self._pts = sorted(set(pts))
        self._pts_index = {t: i for i, t in enumerate(self._pts)}
        if key_pts is not None:
            self._keyframes = sorted({self._pts_index[t] for t in key_pts})
        else:
            self._keyframes = [k for k in self._keyframes if k < len(self._pts)]

    def _verify_tail(self, problem: str) -> None:
        """A truncated file: decode its last GOP(s) to find which frames are usable."""
        declared = len(self._pts)
        for k in reversed(self._keyframes):
            got = [self._index_of(f) for f in self._decode_from(k)]
            if got:
                last = max(got)
                self._set_table(self._pts[: last + 1])
                break
        else:
            self._set_table([])
        if not self._pts:
            raise self._unreadable(problem)
        self.warning = (
            f"{self.name} is damaged ({problem}); {len(self._pts)} of at least "
            f"{declared} frames are usable."
        )

    def _index_of(self, frame: av.VideoFrame) -> int:
        t = frame.pts if frame.pts is not None else frame.dts
        if t is None:
            return self._next_index
        i = self._pts_index.get(t)
        if i is not None:
            return i
        j = bisect.bisect_left(self._pts, t)  # not in the table: the nearest frame
        if j == len(self._pts):
            return j - 1 if j else 0
        if j > 0 and t - self._pts[j - 1] < self._pts[j] - t:
            return j - 1
        return j

    # -- decoding --------------------------------------------------------------------------

    def _decode_iter(self) -> Iterator[av.VideoFrame]:
        """Decoded frames from the current demux position; skips undecodable packets."""
        assert self._container is not None and self._stream is not None
        demux = self._container.demux(self._stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                return
            except (av.FFmpegError, OSError) as e:
                if self.url:
                    raise SourceError(f"Lost the stream {self.name}: {_detail(e)}") from None
                # truncated file: flush what the decoder still holds, then end
                try:
                    yield from self._stream.codec_context.decode(None)
                except (av.FFmpegError, OSError):
                    pass
                return
            try:
                frames = packet.decode()
            except (av.FFmpegError, OSError):
                continue  # a damaged packet: skip it, keep decoding
            yield from frames

    def _seek_to_frame(self, k: int | None) -> None:
        """Position the demuxer at keyframe ``k`` (None: the start of the stream)."""
        assert self._container is not None and self._stream is not None
        target = self._pts[k] if k is not None else min(self._pts[0], 0)
        self._container.seek(target, backward=True, any_frame=False, stream=self._stream)
        self._decoder = self._decode_iter()

    def _decode_from(self, k: int | None) -> Iterator[av.VideoFrame]:
        self._seek_to_frame(k)
        assert self._decoder is not None
        return self._decoder

    def _rewind(self) -> None:
        self._seek_to_frame(None)
        self._next_index = 0
        self._pacer.reset()

    def _next_av_frame(self) -> av.VideoFrame | None:
        if self._decoder is None:
            return None
        try:
            return next(self._decoder)
        except StopIteration:
            self._decoder = None
            return None
        except (av.FFmpegError, OSError) as e:
            self._decoder = None
            raise self._unreadable(_detail(e)) from None

    def _make_frame(self, f: av.VideoFrame, index: int) -> Frame:
        try:
            rgb = f.to_ndarray(format="rgb24")
        except (av.FFmpegError, ValueError) as e:
            raise self._unreadable(_detail(e)) from None
        if self.url:
            t = f.pts if f.pts is not None else 0
            if self._live_pts0 is None:
                self._live_pts0 = t
            ts = float((t - self._live_pts0) * self._time_base)
        else:
            ts = self.frame_time(index)
        return Frame(pixels=np.ascontiguousarray(rgb), timestamp=ts, index=index, source=self.name)

    def _end_reached(self) -> None:
        """The decoder ran dry before the table's end: the rest is undecodable."""
        if not self.url and 0 < self._next_index < len(self._pts):
            declared = len(self._pts)
            self._set_table(self._pts[: self._next_index])
            self.warning = (
                f"{self.name} is damaged: only {len(self._pts)} of {declared} frames decode."
            )

    # -- public reading API ----------------------------------------------------------------

    def read(self) -> Frame:
        if self._container is None:
            raise SourceError(f"{self.name} is not open")
        restarted = False
        while True:
            f = self._next_av_frame()
            if f is None:
                if self.url:
                    raise EndOfStream(self.name)
                self._end_reached()
                if self.loop and self._pts and not restarted:
                    self._rewind()
                    restarted = True
                    continue
                raise EndOfStream(self.name)
            if self.url:
                index = self._next_index
            else:
                index = self._index_of(f)
                if index < self._next_index:
                    continue  # before the position (after a seek to an earlier keyframe)
            self._next_index = index + 1
            frame = self._make_frame(f, index)
            if self.paced:
                self._pacer.wait(frame.timestamp)
            return frame

    def seek(self, index: int) -> Frame:
        """Return exactly frame ``index``; the next :meth:`read` continues after it."""
        if self._container is None:
            raise SourceError(f"{self.name} is not open")
        if not self.seekable:
            raise SourceError(f"{self.name} is a live stream and cannot seek")
        index = int(index)
        if not 0 <= index < len(self._pts):
            raise IndexError(f"frame {index} is outside 0..{len(self._pts) - 1}")
        self._pacer.reset()
        # Decode forward when no keyframe lies between the position and the target
        # (a seek would decode the same frames again), e.g. when stepping frame by frame.
        key_at = self._keyframes[bisect.bisect_right(self._keyframes, index) - 1]
        if self._decoder is not None and (
            self._next_index <= index
            and (key_at < self._next_index or index - self._next_index < 4)
        ):
            frame = self._decode_until(index)
            if frame is not None:
                return frame
        kpos = bisect.bisect_right(self._keyframes, index) - 1
        candidates: list[int | None] = list(reversed(self._keyframes[max(0, kpos - 2) : kpos + 1]))
        candidates.append(None)
        for k in candidates:
            self._seek_to_frame(k)
            self._next_index = 0
            frame = self._decode_until(index)
            if frame is not None:
                return frame
            if index >= len(self._pts):  # the decodable frames end before it (trimmed)
                raise IndexError(f"frame {index} is outside 0..{len(self._pts) - 1}")
        raise SourceError(f"{self.name}: frame {index} cannot be decoded")

    def _decode_until(self, index: int) -> Frame | None:
        """Decode forward to frame ``index``; None when the decoder starts beyond it."""
        first = True
        last: int | None = None
        while True:
            f = self._next_av_frame()
            if f is None:
                if last is not None and last < index:  # the stream ended before the target:
                    self._next_index = last + 1  # the header over-counts, trim the table
                    self._end_reached()
                return None
            i = self._index_of(f)
            last = i
            if first and i > index:
                return None  # the seek landed after the target: try an earlier keyframe
            first = False
            if i < index:
                continue
            if i > index:
                return None
            self._next_index = index + 1
            return self._make_frame(f, index)


def _detail(e: BaseException) -> str:
    """A short plain description of a PyAV/OS error (no errno numbers)."""
    msg = getattr(e, "strerror", None) or str(e)
    return str(msg).rstrip(".")
