"""What the pipeline and the session tell their owner, as typed events (Qt-free).

A problem carries the topic it belongs to (its banner line: a model error stays up when the
source recovers, and the other way round); nothing is routed by the start of its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Topic(str, Enum):
    """Who a problem belongs to (one banner line each)."""

    SOURCE = "source"  # the input: opening, reading, a clip that cannot be reviewed
    MODEL = "model"  # loading, segmenting, the GPU
    OUTPUT = "output"  # a frame hook (the recorder, a sink) failed
    ROI = "roi"  # no ultrasound region found, or an uncertain one ("": found again)
    OTHER = "other"


class SourceStatus(str, Enum):
    LIVE = "live"  # frames flow; ``text`` describes the source
    LOST = "lost"  # no signal; ``text`` says why
    END = "end"  # a finite source ended; ``text`` describes it


@dataclass(frozen=True)
class SourceState:
    """The live source's state changed."""

    status: SourceStatus
    text: str


@dataclass(frozen=True)
class Problem:
    """Something went wrong (or, with ``warning``, works in a lesser way) in plain words."""

    topic: Topic
    message: str
    warning: bool = False
    #: who found it: "live" (the pipeline) or "review" (the clip player), as on a Result
    origin: str = "live"

    @property
    def kind(self) -> str:
        """The legacy status kind: "warning" or "error"."""
        return "warning" if self.warning else "error"


@dataclass(frozen=True)
class ClipOpened:
    """Review opened a recording."""

    path: str
    description: str
    frames: int
    fps: float


@dataclass(frozen=True)
class ClipCount:
    """Fewer frames decoded than the recording's header said: ``frames`` is the true count."""

    frames: int


@dataclass(frozen=True)
class PlayState:
    """Review started (True) or stopped (False) playing."""

    playing: bool


@dataclass(frozen=True)
class ResultWaiting:
    """A finished frame waits in the pipeline's output slot (sent when the slot fills)."""


SessionEvent = SourceState | Problem | ClipOpened | ClipCount | PlayState | ResultWaiting

__all__ = [
    "ClipCount",
    "ClipOpened",
    "PlayState",
    "Problem",
    "ResultWaiting",
    "SessionEvent",
    "SourceState",
    "SourceStatus",
    "Topic",
]
