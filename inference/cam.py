"""Class activation maps for one organ, through torchcam, on a worker of their own.

Seg-Grad-CAM (Vinogradova et al., 2020): a segmentation network has no single class score,
so the score for class *c* is the mean of its logits over the region the network assigns to
*c* (over the whole map when *c* is absent). torchcam's ``targets`` hook takes exactly that
reduction, so every torchcam extractor works unchanged.

Default: LayerCAM on ``ups.2``, the third decoder block (1/2 of the input resolution for a
depth-4 U-Net). Measured on the phantom's validation seed (5000, 40-100 fluid-bearing
frames, fast-lite), the peak of Grad-CAM on ``ups.1`` (1/4 resolution, the old default) fell
inside thin fluid strips only 0.63 of the time: a strip a few pixels wide at the input is less
than one cell there, and Grad-CAM's one weight per channel spreads the map over the texture
beside it. One level finer, Grad-CAM found fluid (0.94) but lost the heart (0.00): a channel
average cannot tell one region of a fine map from another. LayerCAM weighs every position by
its own positive gradient, so on ``ups.2`` the peak landed inside every class at least 0.90
of the time (fluid 1.00) with 0.81-0.97 of the map's energy inside the mask. The bottleneck
(``downs.3``, the Seg-Grad-CAM paper's layer) scored 0.05 for fluid; the last block
(``ups.3``) mostly copies the output mask. All remain selectable.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F
from torchcam.methods import GradCAM, GradCAMpp, LayerCAM, ScoreCAM, SmoothGradCAMpp, XGradCAM

from ..capture.frame import Frame
from ..capture.slot import LatestSlot
from ..capture.workers import spawn
from ..models.loader import LoadedModel
from .segmenter import Segmenter
from .torch_device import pick_device

METHODS = {
    "gradcam": GradCAM,
    "gradcam++": GradCAMpp,
    "xgradcam": XGradCAM,
    "layercam": LayerCAM,
    "smoothgradcam++": SmoothGradCAMpp,
    "scorecam": ScoreCAM,
}
LIVE_METHODS = ("gradcam", "gradcam++", "xgradcam", "layercam")
REVIEW_METHODS = (*LIVE_METHODS, "smoothgradcam++", "scorecam")
DEFAULT_METHOD = "layercam"
DEFAULT_LAYER = "ups.2"


def candidate_layers(net: torch.nn.Module) -> list[str]:
    """Block-level layers worth showing in the layer picker (encoder, bottleneck, decoder)."""
    names = [n for n, _ in net.named_modules()]
    return [
        n
        for n in names
        if n == "inc" or (n.count(".") == 1 and n.split(".")[0] in ("downs", "ups"))
    ]


class CamEngine:
    """Computes a normalised heatmap at the frame's size for a chosen class.

    It owns a float32 copy of the network, so gradients never touch the mask path's
    (inference-mode, possibly fp16) network; use it from one thread only.
    """

    def __init__(
        self,
        model: LoadedModel,
        method: str | None = None,
        layer: str | None = None,
        device: str | torch.device = "auto",
    ) -> None:
        self.method = method or DEFAULT_METHOD
        if self.method not in METHODS:
            raise ValueError(f"unknown CAM method '{self.method}' (known: {', '.join(METHODS)})")
        dev = device if isinstance(device, torch.device) else pick_device(device)
        own = LoadedModel(model.card, copy.deepcopy(model.net).float().eval(), model.path)
        self.pre = Segmenter(own, device=dev, dtype=torch.float32)
        self.net = self.pre.net
        layers = candidate_layers(self.net)
        if not layers:
            raise ValueError(
                "CAM needs one of the built-in U-Net architectures; this model's layers "
                "are not visible (TorchScript or ONNX)"
            )
        self.layer = layer or (DEFAULT_LAYER if DEFAULT_LAYER in layers else layers[-1])
        if self.layer not in dict(self.net.named_modules()):
            raise ValueError(f"unknown layer '{self.layer}' (try: {', '.join(layers)})")
        self.card = model.card
        kw = {"batch_size": 16} if self.method == "scorecam" else {}
        if self.method == "smoothgradcam++":
            kw = {"num_samples": 8}
        self.extractor = METHODS[self.method](self.net, target_layer=self.layer, **kw)

    def close(self) -> None:
        self.extractor.remove_hooks()

    def compute(self, rgb: np.ndarray, class_idx: int | None = None) -> np.ndarray | None:
        """Heatmap (H x W float32 in 0..1) for ``class_idx``; None means 'auto' found no organ."""
        h, w = rgb.shape[:2]
        x = self.pre.preprocess(rgb).float()
        with torch.enable_grad():
            out = self.net(x)
            labels = out[0].max(0).indices
            if class_idx is None:
                areas = torch.bincount(labels.flatten(), minlength=out.shape[1])
                areas[0] = 0
                if int(areas.max()) == 0:
                    self.extractor.reset_hooks()
                    return None
                class_idx = int(areas.argmax())
            region = (labels == class_idx).float()
            if float(region.sum()) == 0:
                region = torch.ones_like(region)
            region = region / region.sum()
            c = int(class_idx)

            def target(sample: torch.Tensor) -> torch.Tensor:
                return (sample[c] * region).sum()

            cams = self.extractor(targets=target, scores=out)
        cam = cams[0].detach().float()[None]  # 1 x 1 x h' x w'
        cam = F.interpolate(cam, size=(h, w), mode="bilinear", align_corners=False)[0, 0]
        lo, hi = cam.min(), cam.max()
        cam = (cam - lo) / (hi - lo) if float(hi - lo) > 1e-8 else torch.zeros_like(cam)
        self.last_class = c
        return cam.cpu().numpy().astype(np.float32)


def _lower_thread_priority(niceness: int = 10) -> None:
    """Let the mask path win the CPU when both want it. On Linux niceness is per thread and
    inherited by the threads this one starts (torch's intra-op workers for the CAM's own
    forward and backward passes); elsewhere this is a no-op."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError):
        pass


@dataclass
class CamState:
    heat: np.ndarray
    frame_index: int
    class_idx: int
    class_name: str
    ms: float
    timestamp: float = 0.0  # the frame's own time (s)


class CamWorker:
    """Runs a CamEngine on the newest frame it is offered, at its own pace.

    The pipeline offers every frame; the worker takes only the newest one when it is free
    (latest-wins) and never more often than ``max_hz``, so the mask path is never held up.
    """

    def __init__(
        self,
        engine: CamEngine,
        class_idx: int | None = None,
        max_hz: float = 5.0,
        max_age: int = 60,
        max_age_s: float = 0.75,
        on_map: Callable[[Frame], None] | None = None,
    ) -> None:
        self.engine = engine
        self.class_idx = class_idx  # None = auto (the most prominent organ)
        self.max_hz = max_hz
        self.max_age = max_age  # frames; an older map is not drawn (the probe has moved on)
        #: nor one older than this in the source's own time: on an image folder or a slow
        #: clip the next frame is another picture, so its map would sit on the wrong anatomy
        self.max_age_s = max_age_s
        #: called on the worker's thread with the frame each new map was made for
        self.on_map = on_map
        self.slot: LatestSlot[Frame] = LatestSlot()
        self.state: CamState | None = None
        self.computed = 0
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = spawn(self._run, name="sonolive-cam")

    def offer(self, frame: Frame) -> None:
        self.slot.put(frame)

    def stop(self) -> None:
        """Ask the worker to finish without waiting (a Score-CAM map can take seconds); the
        worker removes its hooks itself once its current map is done."""
        self._stop.set()
        self.slot.close()

    def latest_for(self, frame: Frame) -> tuple[np.ndarray | None, str | None, int | None]:
        s = self.state
        if s is None:
            return None, None, None
        age = max(0, frame.index - s.frame_index)
        if age > self.max_age or abs(frame.timestamp - s.timestamp) > self.max_age_s:
            return None, s.class_name, age
        heat = s.heat
        if heat.shape != frame.pixels.shape[:2]:
            import cv2

            heat = cv2.resize(heat, (frame.width, frame.height), interpolation=cv2.INTER_LINEAR)
        return heat, s.class_name, age

    def _run(self) -> None:
        _lower_thread_priority()
        try:
            self._loop()
        finally:
            self.engine.close()

    def _loop(self) -> None:
        last = 0.0
        while not self._stop.is_set():
            wait = (1.0 / self.max_hz) - (time.perf_counter() - last) if self.max_hz > 0 else 0
            if wait > 0 and self._stop.wait(wait):
                break
            frame = self.slot.take(timeout=0.2)
            if frame is None:
                continue
            t0 = time.perf_counter()
            try:
                heat = self.engine.compute(frame.pixels, self.class_idx)
            except Exception as e:  # noqa: BLE001 - a CAM failure must not stop the masks
                self.error = f"CAM failed: {e}"
                continue
            last = time.perf_counter()
            if heat is None:
                self.state = None
                continue
            c = self.engine.last_class
            self.state = CamState(
                heat,
                frame.index,
                c,
                self.engine.card.classes[c].display,
                (last - t0) * 1000,
                frame.timestamp,
            )
            self.computed += 1
            if self.on_map is not None:
                try:
                    self.on_map(frame)
                except Exception:  # noqa: BLE001 - a listener must not stop the worker
                    pass
