"""The frame-source interface shared by the simulated scanner, clips and capture cards."""

from __future__ import annotations

import abc

from .frame import Frame


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
