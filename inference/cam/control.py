"""Starts, reconfigures and stops the CAM worker beside the running pipeline (Qt-free).

While CAM is on, the mask path's segmenter carries a :class:`~.taps.MaskTap`: each
forward pass hands its activations to the worker, which then runs only the network's tail
(the target layer to the logits). A frame that comes without them (a model that cannot be
tapped, a review frame from the cache) is offered by the frame hook and gets the CAM's own
forward pass.
"""

from __future__ import annotations

import dataclasses
import threading
import time

from ...capture.frame import Frame
from ...capture.workers import spawn
from ...models.loader import LoadedModel
from ..pipeline import Pipeline, Result
from .engine import CamEngine, CamWorker
from .taps import MaskTap

#: how long a frame must stay on screen before it is composed again for its own map
SETTLE_S = 0.1


class CamControl:
    def __init__(self, pipeline: Pipeline, device: str = "auto") -> None:
        self.pipeline = pipeline
        self.device = device
        self.model: LoadedModel | None = None
        self.worker: CamWorker | None = None
        self.tap: MaskTap | None = None
        self.error: str | None = None
        #: why the mask path's activations are not used (None: they are, or CAM is off)
        self.tap_note: str | None = None
        self._key: tuple | None = None
        self._hook = self._offer
        self._t0 = time.perf_counter()
        self._n0 = 0
        self._shown: Result | None = None  # the newest result composed (live or review)
        self._redone: Frame | None = None  # the last frame recomposed for its own map
        self._lock = threading.Lock()
        # held while a recomposed review frame is checked and published, and while a
        # published frame becomes the one on screen: a redo never lands after a newer frame
        self._show_lock = threading.RLock()
        self._pending: Result | None = None
        self._timer: threading.Thread | None = None
        # always on: the frame on screen is known when a map is asked for later
        self.pipeline.add_sink(self._hook)

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
        key = (on, method, layer, id(self.model), id(self.pipeline.segmenter))
        if not on or self.model is None:
            self._stop()
            self._key = key
            return
        if key == self._key and self.worker is not None:
            if self.worker.class_idx != class_idx:
                self.worker.class_idx = class_idx
                self.worker.forget_done()
                self._again()
            return
        self._stop()
        try:
            engine = CamEngine(self.model, method=method, layer=layer, device=self.device)
        except Exception as e:  # noqa: BLE001 - CAM is optional: say why and carry on
            self.error = f"CAM is off: {e}"
            return
        self.worker = CamWorker(engine, class_idx, on_map=self._map_ready)
        self.pipeline.set_heat_provider(self.worker.latest_for)
        self._key = key
        self._again()  # the picture already on screen (a still, an ended clip) gets a map
        self._t0, self._n0 = time.perf_counter(), 0
        if engine.uses_taps:
            spawn(self._attach, name="sonolive-cam-tap", args=(self.worker, engine.layer))
        else:
            self.tap_note = f"{engine.method} runs its own forward pass"

    def _attach(self, worker: CamWorker, layer: str) -> None:
        """Tap the mask path (an ONNX network is exported once with extra outputs, which may
        take a second: off the GUI thread)."""
        seg = self.pipeline.segmenter
        if seg is None:
            return
        try:
            tap = MaskTap(seg, layer, worker.offer)
        except Exception as e:  # noqa: BLE001 - the CAM's own forward pass still works
            self.tap_note = f"the mask path cannot be tapped ({e}): the CAM runs its own forward"
            return
        with self._lock:
            if self.worker is not worker or not tap.install():
                tap.remove()
                return
            self.tap, self.tap_note = tap, None

    def rate(self) -> float:
        if self.worker is None:
            return 0.0
        dt = time.perf_counter() - self._t0
        return (self.worker.computed - self._n0) / dt if dt > 0 else 0.0

    def _offer(self, result: Result) -> None:
        with self._show_lock:
            self._shown = result
        w = self.worker
        if w is None:
            return
        w.offer(result.frame)  # ignored when it waits already or its map is done
        if result.cam_age != 0:
            # this showing lacks the frame's own map (not made yet, made before it was shown,
            # a review frame from the player's cache, or a redo overtaken by another map):
            # if it stays on screen it is composed again with its map, or the map is asked
            # for (a redo that came out without it may be done again)
            with self._lock:
                if self._redone is result.frame:
                    self._redone = None
            self._defer(result)

    def _map_ready(self, frame: Frame) -> None:
        """A map is done. If the frame on screen stays there (a paused, stepped or ended
        clip, an image folder, a frozen source), it is composed once more with its own map,
        or, if this map was for another frame, its own map is asked for. On a flowing source
        newer frames are on screen by then, and nothing more is done."""
        shown = self._shown
        if shown is not None:
            self._defer(shown)

    def _defer(self, shown: Result) -> None:
        """Act on ``shown`` if it is still the frame on screen a moment later: on a flowing
        source or a playing clip the next frame (with a newer map) comes first instead."""
        with self._lock:
            self._pending = shown
            if self._timer is not None:
                return  # the running settle worker takes the newest pending frame
            self._timer = spawn(self._fire, name="sonolive-cam-settle")

    def _fire(self) -> None:
        """The settle worker: each pending frame waits ``SETTLE_S``, then is redone (or
        offered) if it is still the one on screen; it ends when nothing is pending."""
        while True:
            time.sleep(SETTLE_S)  # a frame deferred meanwhile settles too
            with self._lock:
                shown, self._pending = self._pending, None
                if shown is None:
                    self._timer = None
                    return
            w = self.worker
            if shown is self._shown and w is not None:
                s = w.state
                if s is not None and s.frame is shown.frame:
                    if shown.cam_age != 0:
                        self._redo(shown)
                elif not w.slot.pending():
                    w.offer(shown.frame)  # the picture that stays has no map of its own yet

    def _again(self) -> None:
        """Offer the frame on screen again (the organ changed)."""
        shown, w = self._shown, self.worker
        if shown is not None and w is not None:
            self._redone = None
            w.offer(shown.frame)

    def _redo(self, shown: Result) -> None:
        with self._lock:
            if shown.frame is self._redone:
                return
            self._redone = shown.frame
        if shown.origin != "review":
            self.pipeline.redo(shown.frame)
            return
        # a review frame: the clip player is idle on it; compose it here (the CAM's thread
        # or the publisher's) and publish it as the player would
        try:
            r = self.pipeline.process(shown.frame, decide_now=True)
        except Exception:  # noqa: BLE001 - the frame stays as it is
            return
        with self._show_lock:  # the player publishing a newer frame meanwhile waits
            if r is not None and self._shown is shown:
                self.pipeline.publish(dataclasses.replace(r, origin="review", clip=shown.clip))

    def _stop(self) -> None:
        with self._lock:
            if self.tap is not None:
                self.tap.remove()
                self.tap = None
            self.tap_note = None
            self.pipeline.set_heat_provider(None)
            if self.worker is not None:
                self.worker.stop()
                self.worker = None
