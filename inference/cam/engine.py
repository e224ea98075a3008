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
from typing import Any

import cv2
import numpy as np
import torch
from torchcam.methods import GradCAM, GradCAMpp, LayerCAM, ScoreCAM, SmoothGradCAMpp, XGradCAM

from ...capture.frame import Frame
from ...capture.slot import LatestSlot
from ...capture.workers import spawn
from ...models.loader import LoadedModel
from ..choices import CAM_METHODS, DEFAULT_CAM_METHOD
from ..overlay import heat_layers
from ..segmenter import Segmenter
from ..torch_device import pick_device
from .taps import Taps, UNetTail, unet_depth

METHODS = {
    "gradcam": GradCAM,
    "gradcam++": GradCAMpp,
    "xgradcam": XGradCAM,
    "layercam": LayerCAM,
    "smoothgradcam++": SmoothGradCAMpp,
    "scorecam": ScoreCAM,
}
assert tuple(METHODS) == CAM_METHODS
LIVE_METHODS = CAM_METHODS[:4]
REVIEW_METHODS = CAM_METHODS
DEFAULT_METHOD = DEFAULT_CAM_METHOD
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

    It owns a float32 copy of the network with frozen weights, so gradients never touch the
    mask path's (inference-mode, possibly fp16) network and no weight gradient is ever
    computed: the target layer's activation is the one tensor a gradient is taken for. Given
    the mask path's taps (:mod:`.taps`), a live method runs only the network's tail from
    the target layer; without them it runs its own forward pass. Use it from one thread only.
    """

    def __init__(
        self,
        model: LoadedModel,
        method: str | None = None,
        layer: str | None = None,
        device: str | torch.device = "auto",
    ) -> None:
        self.method = DEFAULT_METHOD if method in (None, "", "auto") else method
        if self.method not in METHODS:
            raise ValueError(f"unknown CAM method '{self.method}' (known: {', '.join(METHODS)})")
        dev = device if isinstance(device, torch.device) else pick_device(device)
        own = LoadedModel(model.card, copy.deepcopy(model.net).float().eval(), model.path)
        self.pre = Segmenter(own, device=dev, dtype=torch.float32)
        self.net = self.pre.net
        self.net.requires_grad_(False)
        layers = candidate_layers(self.net)
        if not layers:
            raise ValueError(
                "CAM needs one of the built-in U-Net architectures; this model's layers "
                "are not visible (TorchScript or ONNX)"
            )
        self.layer = layer or (DEFAULT_LAYER if DEFAULT_LAYER in layers else layers[-1])
        modules = dict(self.net.named_modules())
        if self.layer not in modules:
            raise ValueError(f"unknown layer '{self.layer}' (try: {', '.join(layers)})")
        self.card = model.card
        self.last_class = 0
        kw = {"batch_size": 16} if self.method == "scorecam" else {}
        if self.method == "smoothgradcam++":
            kw = {"num_samples": 8}
        # the frozen network's target output becomes a leaf that wants a gradient (first
        # hook: the extractor's own hooks see the replaced output)
        self._leaf = modules[self.layer].register_forward_hook(_grad_leaf)
        self.extractor = METHODS[self.method](self.net, target_layer=self.layer, **kw)
        #: the tail from the target layer (live methods on the built-in U-Net), else None
        self.tail: UNetTail | None = None
        self.tail_extractor: Any | None = None  # a torchcam extractor (untyped package)
        if self.method in LIVE_METHODS and unet_depth(self.net) is not None:
            self.tail = UNetTail(self.net, self.layer)
            self.tail_extractor = METHODS[self.method](self.tail, target_layer="target")

    @property
    def uses_taps(self) -> bool:
        """Whether :meth:`compute` can take the mask path's activations."""
        return self.tail is not None

    def close(self) -> None:
        self.extractor.remove_hooks()
        if self.tail_extractor is not None:
            self.tail_extractor.remove_hooks()
        self._leaf.remove()

    def compute(
        self, rgb: np.ndarray, class_idx: int | None = None, taps: Taps | None = None
    ) -> np.ndarray | None:
        """Heatmap (H x W float32 in 0..1) for ``class_idx``; None means 'auto' found no organ.

        ``taps``: the mask path's block outputs for this very frame (:mod:`.taps`)."""
        h, w = rgb.shape[:2]
        with torch.enable_grad():
            if taps is not None and self.tail is not None and self.tail_extractor is not None:
                self.tail.skips = {k: _plain(v) for k, v in taps.items() if k != self.layer}
                a = _plain(taps[self.layer]).requires_grad_(True)
                out = self.tail(a)
                extractor = self.tail_extractor
            else:
                x = self.pre.preprocess(rgb).float()
                out = self.net(x)
                extractor = self.extractor
            labels = out[0].max(0).indices
            if class_idx is None:
                areas = torch.bincount(labels.flatten(), minlength=out.shape[1])
                areas[0] = 0
                if int(areas.max()) == 0:
                    extractor.reset_hooks()
                    return None
                class_idx = int(areas.argmax())
            region = (labels == class_idx).float()
            if float(region.sum()) == 0:
                region = torch.ones_like(region)
            region = region / region.sum()
            c = int(class_idx)

            def target(sample: torch.Tensor) -> torch.Tensor:
                return (sample[c] * region).sum()

            cams = extractor(targets=target, scores=out)
        if self.tail is not None:
            self.tail.skips = {}
        # one resize from the layer's size to the frame (a map a few times a second, never
        # per displayed frame), then normalised to 0..1
        cam = cams[0].detach().float()[0]
        self.last_class = c
        small = np.ascontiguousarray(cam.cpu().numpy(), dtype=np.float32)
        big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        lo, hi, _, _ = cv2.minMaxLoc(big)
        if hi - lo <= 1e-8:
            return np.zeros((h, w), np.float32)
        return cv2.normalize(big, None, 0.0, 1.0, cv2.NORM_MINMAX)


def _grad_leaf(_m: torch.nn.Module, _args: tuple, out: torch.Tensor) -> torch.Tensor | None:
    if torch.is_grad_enabled():
        return out.detach().requires_grad_(True)
    return None


def _plain(t: torch.Tensor) -> torch.Tensor:
    """A float32 copy usable by autograd (the mask path's tensors are inference tensors)."""
    with torch.inference_mode(False):
        return t.detach().float().clone()


def _lower_thread_priority(niceness: int = 10) -> None:
    """Let the mask path win the CPU when both want it. On Linux niceness is per thread and
    inherited by the threads this one starts (torch's intra-op workers for the CAM's own
    forward and backward passes); elsewhere this is a no-op."""
    try:
        tid = threading.get_native_id()
        # relative to the process's own: an app started with ``nice`` keeps the gap
        os.setpriority(
            os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
        )
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
    frame: Frame | None = None  # the frame the map was made for
    thumb: np.ndarray | None = None  # its small grey picture, for the cut check
    cut: bool = False  # the picture has changed too much since: the map is no longer shown


#: the share of the time the CAM worker may be busy (of one core)
DUTY = 0.4
#: mean absolute difference (grey levels) between 32 x 24 thumbnails above which the
#: picture counts as another one (a cut, another view, another clip): the map gives way
CUT_DIFF = 10.0


def thumbnail(pixels: np.ndarray) -> np.ndarray:
    """A 32 x 24 grey picture: speckle and small probe motion average out, a cut does not."""
    h, w = pixels.shape[:2]
    step = max(1, min(h, w) // 96)
    g = pixels[::step, ::step, 1]  # green: close enough to grey for a change check
    return cv2.resize(g, (32, 24), interpolation=cv2.INTER_AREA).astype(np.float32)


class CamWorker:
    """Runs a CamEngine on the newest frame it is offered, at its own pace.

    The mask path hands over each frame with its taps (:mod:`.taps`), or the pipeline
    offers the frame alone; the worker takes only the newest one when it is free
    (latest-wins) and never more often than ``max_hz``, so the mask path is never held up.

    The last map stays on screen, however old, until a newer one replaces it; it gives way
    only when the picture is no longer the one it was made for (:data:`CUT_DIFF`: a cut,
    another view or clip). A source or model change ends the worker itself.
    """

    def __init__(
        self,
        engine: CamEngine,
        class_idx: int | None = None,
        max_hz: float = 12.0,
        on_map: Callable[[Frame], None] | None = None,
    ) -> None:
        self.engine = engine
        self.class_idx = class_idx  # None = auto (the most prominent organ)
        self.max_hz = max_hz
        #: called on the worker's thread with each frame it is done with (a map, or none)
        self.on_map = on_map
        self.slot: LatestSlot[tuple[Frame, Taps | None]] = LatestSlot()
        self.state: CamState | None = None
        self.computed = 0
        self.with_taps = 0  # maps made from the mask path's own forward pass
        self.last_ms: float | None = None  # how long the last map took
        self.error: str | None = None
        self._offered: Frame | None = None
        self._tapped = False  # the last frame offered came with taps
        self._done: tuple[Frame, int | None] | None = None  # (frame, class) of the last map
        self._stop = threading.Event()
        self._thread = spawn(self._run, name="sonolive-cam")

    def offer(self, frame: Frame, taps: Taps | None = None) -> None:
        """A frame for a map; with ``taps`` the map reuses the mask path's forward pass. A
        frame offered without taps right after the same frame came with them is ignored."""
        if taps is None and (frame is self._offered or (self._tapped and self.slot.pending())):
            return  # the same frame, or a newer one with the mask path's taps, is waiting
        done = self._done
        if done is not None and done[0] is frame and done[1] == self.class_idx:
            return  # this very map exists already (a frame composed again)
        self._offered, self._tapped = frame, taps is not None
        self.slot.put((frame, taps))

    def forget_done(self) -> None:
        """The organ changed: the frame on screen needs its map again."""
        self._done = None

    def stop(self) -> None:
        """Ask the worker to finish without waiting (a Score-CAM map can take seconds); the
        worker removes its hooks itself once its current map is done."""
        self._stop.set()
        self.slot.close()

    def latest_for(self, frame: Frame) -> tuple[np.ndarray | None, str | None, int | None]:
        """The map to draw on ``frame``, its organ and its age in frames (None, None, None
        when no map is shown)."""
        s = self.state
        if s is None:
            return None, None, None
        if s.frame is frame:
            s.cut = False  # its own picture again (a review frame shown once more)
        elif s.cut:
            return None, None, None
        elif s.thumb is not None:
            diff = float(np.mean(np.abs(thumbnail(frame.pixels) - s.thumb)))
            if diff > CUT_DIFF:
                s.cut = True  # stays hidden until the next map
                return None, None, None
        age = abs(frame.index - s.frame_index) if s.frame is not frame else 0
        heat = s.heat
        if heat.shape != frame.pixels.shape[:2]:
            heat = cv2.resize(heat, (frame.width, frame.height), interpolation=cv2.INTER_LINEAR)
        return heat, s.class_name, age

    def _run(self) -> None:
        _lower_thread_priority()
        try:
            self._loop()
        finally:
            self.engine.close()

    def _loop(self) -> None:
        last = took = t_start = 0.0
        while not self._stop.is_set():
            # at most max_hz, and busy at most DUTY of the time: a slow map (a loaded
            # machine, a costly method) spaces the next one out instead of taking the CPU
            # the mask path needs
            gap = max(1.0 / self.max_hz if self.max_hz > 0 else 0.0, took / DUTY)
            wait = gap - (time.perf_counter() - t_start) if last else 0.0
            if wait > 0 and self._stop.wait(wait):
                break
            item = self.slot.take(timeout=0.2)
            if item is None:
                continue
            frame, taps = item
            cls = self.class_idx
            t0 = time.perf_counter()
            c0 = time.thread_time()
            t_start = t0
            try:
                heat = self.engine.compute(frame.pixels, cls, taps)
            except Exception as e:  # noqa: BLE001 - a CAM failure must not stop the masks
                self.error = f"CAM failed: {e}"
                self._tell(frame)
                continue
            last = time.perf_counter()
            # the duty counts the CPU this thread used, not the wall time: waiting for a core
            # (the mask path has priority) is not work
            took = time.thread_time() - c0
            self.last_ms = (last - t0) * 1000
            self._done = (frame, cls)
            if heat is None:
                self.state = None
                self._tell(frame)  # no map, but the frame waiting on screen may want one
                continue
            heat_layers(heat)  # colours made here, not on the mask path
            c = self.engine.last_class
            self.state = CamState(
                heat,
                frame.index,
                c,
                self.engine.card.classes[c].display,
                (last - t0) * 1000,
                frame.timestamp,
                frame,
                thumbnail(frame.pixels),
            )
            self.computed += 1
            self.with_taps += taps is not None and self.engine.uses_taps
            self._tell(frame)

    def _tell(self, frame: Frame) -> None:
        """The worker is done with ``frame`` (a map, none, a failure): whoever waits on it
        is told, so a frame left on screen behind it is asked for next."""
        if self.on_map is not None:
            try:
                self.on_map(frame)
            except Exception:  # noqa: BLE001 - a listener must not stop the worker
                pass
