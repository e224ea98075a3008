"""Connects the Qt-free session to the GUI thread with signals; nothing here blocks."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject, Signal, Slot

from ..capture.workers import spawn
from ..inference.backends import make_segmenter
from ..inference.events import ResultWaiting, SessionEvent
from ..inference.pipeline import Result
from ..inference.session import Session
from ..models.loader import load_model
from ..models.registry import find_model
from .localize import translated_card


class PipelineBridge(QObject):
    """Re-emits the session's events in the GUI thread: the one hand-off to the view for
    live and review frames alike (both publish through :meth:`Pipeline.publish`), and
    ``event`` for the rest (the source's state, problems with their topic, Review's clip
    and play state: ``inference/events.py``).

    The inference thread only signals "a result is waiting" when the output slot was empty,
    so at most one notification is ever queued; the GUI takes the newest result when it gets
    to it.
    """

    resultReady = Signal(object)  # Result, delivered in the GUI thread  # noqa: N815
    event = Signal(object)  # a SessionEvent other than ResultWaiting, in the GUI thread
    modelReady = Signal(object, str)  # Segmenter | None, model name  # noqa: N815
    modelFailed = Signal(str, str)  # model name, message  # noqa: N815
    _notify = Signal()

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.pipeline = session.pipeline
        session.subscribe(self._on_event)
        self._notify.connect(self._take)
        self._model_job = 0

    def _on_event(self, event: SessionEvent) -> None:
        """On the thread that caused it: signals cross to the GUI thread (queued)."""
        if isinstance(event, ResultWaiting):
            self._notify.emit()
        else:
            self.event.emit(event)

    @Slot()
    def _take(self) -> None:
        result: Result | None = self.pipeline.results.take_nowait()
        if result is None:
            return
        result.finish_handoff(self.pipeline.stats)
        self.resultReady.emit(result)

    def cancel_model_load(self) -> None:
        """A model still loading is not applied when it is ready (the user chose another, or
        none)."""
        self._model_job += 1

    def load_model_async(
        self,
        name: str,
        device: str = "auto",
        backend: str = "auto",
        trust_code: bool = False,
        accel: str = "off",
    ) -> None:
        """Load weights (and, on the CPU, time torch against ONNX Runtime) on a worker
        thread; the pipeline keeps running meanwhile."""
        self._model_job += 1
        job = self._model_job

        def work() -> None:
            try:
                loaded = load_model(find_model(name), trust_code=trust_code)
                # organ names on the image, in the legend and in the CAM panel in the UI
                # language, from the start: nothing is patched onto the segmenter afterwards
                loaded = dataclasses.replace(loaded, card=translated_card(loaded.card))
                seg = make_segmenter(loaded, device=device, backend=backend, accel=accel)
            except Exception as e:  # noqa: BLE001 - any failure becomes a message, never a dead thread
                msg = str(e).strip("'\"")
                if job == self._model_job:
                    self.pipeline.set_segmenter(None)
                    self.modelFailed.emit(name, msg)
                return
            if job == self._model_job:
                self.pipeline.set_segmenter(seg)
                self.modelReady.emit(seg, name)

        spawn(work, name="sonolive-model-load")
