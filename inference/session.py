"""The Qt-free session: the pipeline, Review's player, CAM control and the ROI choice, with
one stream of typed events (napari's ``ViewerModel`` to the window's ``_qt`` side).

The app wraps it (``app/bridge.py`` re-emits its events as Qt signals in the GUI thread) and
hands it to its controllers; the controllers change the session through its methods and
show what it tells them through small ports (banner, status, display), never through the
window. Events are delivered on whichever thread caused them (capture, inference, review
worker): a listener marshals them itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..models.card import ModelCard
from .cam.control import CamControl
from .chain import RoiFn
from .events import (
    ClipCount,
    ClipOpened,
    PlayState,
    Problem,
    ResultWaiting,
    SessionEvent,
    Topic,
)
from .gate.marks import ENGLISH, GateWords
from .overlay import OverlayStyle
from .pipeline import Pipeline
from .player import ClipPlayer, PlayerEvents

Listener = Callable[[SessionEvent], None]

_WAITING = ResultWaiting()


class Session:
    """Owns the pipeline, the review player, CAM control and the live ROI choice."""

    def __init__(
        self,
        style: OverlayStyle | None = None,
        *,
        device: str = "auto",
        gate_words: GateWords = ENGLISH,
        cache_items: int = 240,
        cache_bytes: int = 512 * 2**20,
    ) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self.pipeline = Pipeline(None, None, style, gate_words=gate_words)
        self.pipeline.set_listeners(on_result=self._result_waiting, on_event=self._emit)
        self.cam = CamControl(self.pipeline, device)
        events = PlayerEvents(
            opened=lambda path, desc, n, fps: self._emit(ClipOpened(path, desc, n, fps)),
            state=lambda playing: self._emit(PlayState(playing)),
            count=lambda frames: self._emit(ClipCount(frames)),
            error=lambda msg: self._emit(Problem(Topic.SOURCE, msg, origin="review")),
            warning=lambda msg: self._emit(Problem(Topic.OTHER, msg, True, origin="review")),
            roi=lambda msg: self._emit(Problem(Topic.ROI, msg, True, origin="review")),
        )
        self.player = ClipPlayer(
            self.pipeline, events, cache_items=cache_items, cache_bytes=cache_bytes
        )

    @property
    def card(self) -> ModelCard | None:
        """The card of the model in use (None: no model)."""
        seg = self.pipeline.segmenter
        return seg.card if seg is not None else None

    # ---- events ----------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Listener:
        """Call ``listener(event)`` for every event from now on (on the thread that caused
        it); returns it, for :meth:`unsubscribe`."""
        with self._lock:
            self._listeners.append(listener)
        return listener

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def report(self, topic: Topic, message: str, warning: bool = False) -> None:
        """Tell the listeners of a problem found outside the pipeline (a CAM failure, …)."""
        self._emit(Problem(topic, message, warning))

    def _result_waiting(self) -> None:
        self._emit(_WAITING)

    def _emit(self, event: SessionEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)  # a listener that fails is the caller's to see (the player's)

    # ---- the ROI choice ------------------------------------------------------------------
    def set_roi(self, live: RoiFn | None, review_lookup: Callable | None = None) -> None:
        """The live source's ROI choice (run on the capture thread) and, for Review, the
        region saved for a file (``review_lookup(path)``); Review detects the rest itself."""
        self.pipeline.set_roi(live)
        self.player.roi_lookup = review_lookup

    # ---- life --------------------------------------------------------------------------
    def close(self, timeout: float = 0.2) -> None:
        """End CAM, Review's worker and the live threads (window close)."""
        self.cam.configure(False)
        self.player.close(timeout)
        self.pipeline.stop()


__all__ = ["Listener", "Session"]
