"""The frame-source interface shared by the simulated scanner, clips and capture cards."""

from __future__ import annotations

import abc

from .frame import Frame
from .playback import Pacer, clamp_speed


class SourceError(RuntimeError):
    """A source could not be opened or stopped delivering; the message is for the user."""


class EndOfStream(Exception):
    """A finite source (a clip) has no more frames."""


class FrameSource(abc.ABC):
    """Turns the outside world into :class:`Frame` objects.

    ``read()`` blocks until the next frame is due (live sources pace themselves to their
    frame rate) and raises :class:`EndOfStream` at the end of a clip or
    :class:`SourceError` when the signal is lost.
    """

    #: frames per second the source delivers (nominal)
    fps: float = 30.0
    #: True for sources whose pixels are simulated (shown as a mark in the app)
    simulated: bool = False
    #: True for sources that can be paused, stepped and seeked (clips)
    seekable: bool = False

    @abc.abstractmethod
    def open(self) -> None: ...

    @abc.abstractmethod
    def read(self) -> Frame: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def describe(self) -> str:
        """A short human-readable name for the status line and the input picker."""

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SeekableSource(FrameSource):
    """A finite source with random access: clips, DICOM cines and image folders.

    Declares what review, ``process`` and recording rely on, so that no caller probes with
    ``hasattr``: ``frame_count``, ``fps``, ``duration``, ``frame_time(i)``, ``seek(i)``,
    ``position`` (the index the next ``read()`` returns), ``speed`` and ``warning`` (plain
    words when the file is damaged but partly usable). A subclass sets ``_fps``, keeps the
    next index in ``_next_index`` and may override ``_time_of`` for irregular timing.
    ``seekable`` stays False for an instance that cannot seek after all (a network stream
    opened by the clip reader).
    """

    seekable = True
    #: independent stills (an image folder): there is no motion to find an ultrasound region
    #: by, so ROI detection leaves them whole
    stills = False

    def __init__(self, paced: bool = True, loop: bool = False, fps: float = 30.0) -> None:
        self.paced = paced
        self.loop = loop
        self.warning: str | None = None
        self._fps = float(fps)
        self._pacer = Pacer()
        self._next_index = 0

    @property
    @abc.abstractmethod
    def frame_count(self) -> int:
        """Number of (usable) frames; 0 before :meth:`open`."""

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """The file, folder or URL read (what settings saved for this input are keyed by)."""

    @abc.abstractmethod
    def seek(self, index: int) -> Frame:
        """Frame ``index`` exactly; the next ``read()`` continues from ``index + 1``."""

    @property
    def fps(self) -> float:  # type: ignore[override]
        """Nominal frames per second (the average rate for variable-frame-rate clips)."""
        return self._fps

    def _time_of(self, index: int) -> float:
        return index / self._fps

    def frame_time(self, index: int) -> float:
        """Presentation time of frame ``index`` in seconds from the first frame."""
        n = self.frame_count
        if not 0 <= index < n:
            raise IndexError(f"frame {index} is outside 0..{n - 1}")
        return float(self._time_of(index))

    @property
    def duration(self) -> float:
        """Seconds from the first frame to the end of the last one."""
        n = self.frame_count
        return self.frame_time(n - 1) + 1.0 / self._fps if n else 0.0

    @property
    def position(self) -> int:
        """Index of the frame the next ``read()`` returns."""
        return self._next_index

    @property
    def speed(self) -> float:
        return self._pacer.speed

    @speed.setter
    def speed(self, value: float) -> None:
        """Playback speed factor, clamped to 0.25-4."""
        self._pacer.speed = clamp_speed(value)
        self._pacer.reset()


def as_seekable(src: FrameSource | None) -> SeekableSource | None:
    """``src`` when it can be sought (and has frames once opened), else None."""
    return src if isinstance(src, SeekableSource) and src.seekable else None
