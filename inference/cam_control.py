"""Starts, reconfigures and stops the CAM worker beside the running pipeline (Qt-free)."""

from __future__ import annotations

import time

from ..capture.frame import Frame
from ..models.loader import LoadedModel
from .cam import CamEngine, CamWorker
from .pipeline import Pipeline, Result


class CamControl:
    def __init__(self, pipeline: Pipeline, device: str = "auto") -> None:
        self.pipeline = pipeline
        self.device = device
        self.model: LoadedModel | None = None
        self.worker: CamWorker | None = None
        self.error: str | None = None
        self._key: tuple | None = None
        self._hook = self._offer
        self._t0 = time.perf_counter()
        self._n0 = 0
        self._shown: Frame | None = None  # the newest frame composed (live or review)
        self._redone: Frame | None = None  # the last frame recomposed for its own map

    def set_model(self, model: LoadedModel | None) -> None:
        self.model = model
        self._key = None  # force a rebuild on the next configure

    def configure(
        self,
        on: bool,
        class_idx: int | None = None,
        method: str | None = None,
        layer: str | None = None,
        review: bool = False,
    ) -> None:
        self.error = None
        key = (on, method, layer, id(self.model))
        if not on or self.model is None:
            self._stop()
            self._key = key
            return
        if key == self._key and self.worker is not None:
            self.worker.class_idx = class_idx
            return
        self._stop()
        try:
            engine = CamEngine(self.model, method=method, layer=layer, device=self.device)
        except Exception as e:  # noqa: BLE001 - CAM is optional: say why and carry on
            self.error = f"CAM is off: {e}"
            return
        self.worker = CamWorker(
            engine, class_idx, max_hz=2.0 if review else 5.0, on_map=self._map_ready
        )
        self.pipeline.set_heat_provider(self.worker.latest_for)
        self.pipeline.add_sink(self._hook)
        self._key = key
        self._t0, self._n0 = time.perf_counter(), 0

    def rate(self) -> float:
        if self.worker is None:
            return 0.0
        dt = time.perf_counter() - self._t0
        return (self.worker.computed - self._n0) / dt if dt > 0 else 0.0

    def _offer(self, result: Result) -> None:
        w = self.worker
        self._shown = result.frame
        if w is not None and result.frame is not self._redone:
            w.offer(result.frame)

    def _map_ready(self, frame: Frame) -> None:
        """A map is done for the frame still on screen (a paused or ended clip, an image
        folder, a frozen source): compose that frame once more so its own map is drawn. On
        a flowing source newer frames are on screen by then, and nothing is redone."""
        if frame is self._shown and frame is not self._redone:
            self._redone = frame
            self.pipeline.redo(frame)

    def _stop(self) -> None:
        self.pipeline.remove_sink(self._hook)
        self.pipeline.set_heat_provider(None)
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
