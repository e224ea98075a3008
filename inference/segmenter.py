"""Preprocessing, device and dtype handling, and the forward pass.

CPU and CUDA share one code path. On CUDA the frame is copied once into a pinned host buffer,
uploaded without blocking, resized and normalised on the GPU, run in fp16 and channels_last,
and what the host needs comes back in one download followed by the frame's only
synchronisation. On the CPU OpenCV resizes into a preallocated buffer.

Two ways through a frame:

* :meth:`Segmenter.segment` returns the label map at the frame's size (the CPU overlay then
  composes the picture);
* :meth:`Segmenter.segment_compose` (the GPU fast path) also composes fill, outlines and CAM
  heat on the device from the frame already uploaded for the network, and downloads the
  finished picture, a subsampled label map (for the organ names) and the per-class figures in
  one packed copy. The full-size label map stays on the device until someone reads
  ``Segmentation.labels`` (snapshots, CSV export): reading it costs one more download then,
  and nothing on frames where nobody asks.

The route is chosen once, in the constructor: ``route="device"`` (the default on CUDA) resizes,
takes the argmax and composes with torch on the model's device; ``route="host"`` (the default
elsewhere) preprocesses with OpenCV, on the capture thread when the pipeline can, and lets the
CPU overlay compose. ``route="device"`` on the CPU runs the very CUDA code in float32: that
is how the tests cover it. The backend's name, the start-up probe's record, the network CAM
hooks into and the forward's acceleration (``accel``, :mod:`.compile`) are constructor
arguments too; nothing is patched on afterwards. The device route's own buffers and step
live in :mod:`.device_route`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from ..capture.frame import Frame
from ..models.card import ModelCard
from ..models.loader import LoadedModel
from .choices import ROUTES
from .compile import Accel
from .compile import apply as apply_accel
from .device_route import DeviceRoute, Smoother
from .host_prep import HostPreprocessor
from .segmentation import Segmentation
from .stats import Timings
from .temporal import drop_specks
from .torch_device import default_dtype, pick_device

if TYPE_CHECKING:
    from .overlay import OverlayStyle


def cpu_fallback(seg: Segmenter) -> Segmenter:
    """A float32 CPU segmenter for the same model, after the GPU failed.

    The loaded network is moved back to the CPU in float32 (the CUDA segmenter moved it in
    place). When the device is too broken even to copy the weights back, they are loaded
    again from the model's folder.
    """
    model = seg.model
    seg.release()
    try:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001 - a lost device may refuse even this
        pass
    try:
        model.net.to(device="cpu", dtype=torch.float32, memory_format=torch.contiguous_format)  # type: ignore[call-overload]  # torch's stubs lack memory_format
    except Exception:
        if model.path is None:
            raise
        from ..models.loader import load_model

        fresh = load_model(model.path, trust_code=True)  # the same model, already accepted
        model.net = fresh.net
    model.net.float().eval()
    return Segmenter(  # an ONNX net stays an ONNX net
        model,
        device="cpu",
        dtype=torch.float32,
        backend=seg.backend_name,
        cam_model=seg.torch_model,
        probe=seg.probe,
    )


class Segmenter:
    """Runs a loaded model on frames. Not thread-safe: one inference thread owns it.

    ``backend``: what runs the network ("torch" or "onnx"); ``cam_model``: the PyTorch
    network CAM hooks into (an ONNX segmenter's net has no layers to hook); ``probe``: the
    start-up timing record that chose the backend (``inference.backends``); ``route``: see
    the module's docstring; ``accel``: ``"off"``, ``"compile"`` or ``"cudagraphs"`` (or an
    :class:`~.compile.Accel`), set up here, falling back to eager with ``accel_note``;
    ``gpu_fallback``: see :attr:`falls_back_to_cpu` (default: on CUDA).

    ``mean``, ``std`` and ``grey`` (the card's normalisation on the model's device),
    ``channels_last``, :meth:`clean`, :meth:`class_stats`, :meth:`labels_full` and
    :meth:`figures` are the stages both routes share; :class:`~.device_route.DeviceRoute`
    calls them.
    """

    def __init__(
        self,
        model: LoadedModel,
        device: str | torch.device = "auto",
        dtype: torch.dtype | None = None,
        *,
        backend: str = "torch",
        cam_model: LoadedModel | None = None,
        probe: dict | None = None,
        route: str | None = None,
        accel: str | Accel = "off",
        gpu_fallback: bool | None = None,
    ) -> None:
        self.card: ModelCard = model.card
        self.torch_model: LoadedModel = cam_model or model
        self.model = model
        self.backend_name = backend
        self.probe: dict = dict(probe or {"chosen": backend})
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self.dtype = dtype or default_dtype(self.device)
        if route is None:
            route = "device" if self.on_cuda else "host"
        if route not in ROUTES:
            raise ValueError(f"unknown route '{route}' (known: {', '.join(ROUTES)})")
        self.route = route
        #: a GPU failure (out of memory, a lost device) makes the pipeline replace this
        #: segmenter with a CPU one (:func:`cpu_fallback`); set on the CPU, it lets a test
        #: take that path with a pretended GPU failure
        self.falls_back_to_cpu = self.on_cuda if gpu_fallback is None else bool(gpu_fallback)
        self.channels_last = self.on_cuda
        net = model.net
        if self.on_cuda:
            torch.backends.cudnn.benchmark = True
            net = net.to(self.device, dtype=self.dtype, memory_format=torch.channels_last)  # type: ignore[call-overload]  # as above
        else:
            net = net.to(self.device, dtype=self.dtype)
        self.net = net.eval()
        self.eager_net = self.net  # what an acceleration wraps and falls back to
        self.accel_mode = "off"
        self.accel_note = ""
        c = self.card.channels
        mean = self.card.mean * (c // len(self.card.mean))
        std = self.card.std * (c // len(self.card.std))
        self.mean = torch.tensor(mean, device=self.device, dtype=torch.float32).view(1, c, 1, 1)
        self.std = torch.tensor(std, device=self.device, dtype=torch.float32).view(1, c, 1, 1)
        self.grey = torch.tensor([0.299, 0.587, 0.114], device=self.device).view(1, 3, 1, 1)
        self._host_prep = HostPreprocessor(self.card)
        self._pinned_out: tuple[torch.Tensor, torch.Tensor] | None = None
        #: the device route's buffers and its one step (None on the host route)
        self._device_route = DeviceRoute(self) if route == "device" else None
        self._ood_host: torch.Tensor | None = None  # pinned host side of the check's inputs
        #: while CAM is on: takes each forward pass's activations for the frame (inference/cam/taps.py)
        self.cam_tap: Callable[[Frame], None] | None = None
        from .gate.features import Features, hidden_reason
        from .gate.ood import reference_for

        #: the pooled features the network hands over in its forward pass (.ood_features)
        self.ood_features = Features(self.net)
        hidden = None if self.ood_features.visible else hidden_reason(self.net, backend)
        self.reference, self.reference_note = reference_for(model, hidden)
        self.ood_ms = 0.0  # the last frame's training-data check, in milliseconds
        self.ood_features_ms = 0.0  # ... of it, the feature distance's share
        apply_accel(self, Accel.of(accel))  # last: its first run uses the segmenter as built
        self.ood_features.take()  # never the features of that test run
        if self.accel_mode == "cudagraphs" and self.reference is not None:
            if self.reference.deep is not None and self.reference_note is None:
                # a replayed graph runs no Python hooks: the statistics judge alone
                self.reference_note = (
                    f"{self.card.name}: with CUDA graphs the training-data check uses picture "
                    "and output statistics only"
                )

    # ---- the route -----------------------------------------------------------
    @property
    def device_route(self) -> DeviceRoute | None:
        """The device route's state (its compositor, buffers); None on the host route. Not
        None is the one test for "the pipeline calls :meth:`segment_compose`"."""
        return self._device_route

    @property
    def on_cuda(self) -> bool:
        """The model runs on a CUDA device (pinning, events, the one sync; GPU fallback)."""
        return self.device.type == "cuda"

    def release(self) -> None:
        """Drop device buffers and any captured graph (before a CPU fallback)."""
        self.net = self.eager_net
        self._pinned_out = self._ood_host = None
        if self._device_route is not None:
            self._device_route = DeviceRoute(self)

    # ---- stages --------------------------------------------------------------
    @property
    def host_preprocessor(self) -> HostPreprocessor | None:
        """The thread-safe CPU preprocessing that the capture thread may run ahead of
        :meth:`segment` (None on the device path, which resizes on the device)."""
        return None if self._device_route is not None else self._host_prep

    def preprocess(self, rgb: np.ndarray) -> torch.Tensor:
        """RGB uint8 frame -> normalised 1 x C x h x w tensor on the model's device."""
        if self._device_route is not None:
            return self._device_route.preprocess(rgb)[0]
        return self._from_host(self._host_prep(rgb))

    def _from_host(self, x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(x)
        return t if self.dtype == torch.float32 else t.to(self.dtype)

    def _input_for(self, frame: Frame, timings: Timings) -> torch.Tensor:
        """The frame's network input: the one the capture thread prepared when it fits this
        model, else made now."""
        prepared = frame.net_input
        if (
            prepared is not None
            and self._device_route is None
            and prepared[0] == self._host_prep.key
        ):
            timings.preprocess = prepared[2]  # timed where it ran, on the capture thread
            return self._from_host(prepared[1])
        t0 = time.perf_counter()
        x = self.preprocess(frame.pixels)
        timings.preprocess = (time.perf_counter() - t0) * 1000
        return x

    def ood_inputs(self, x: torch.Tensor, out: torch.Tensor, force: bool = False) -> tuple | None:
        """What the training-data check reads: the input back on the 0-1 scale, every 4th
        output pixel and the features the network pooled in this forward pass (None where
        its inside is hidden), on their way to the host. On CUDA this is a non-blocking copy
        into a pinned buffer that the frame's one sync completes, so the check adds no sync
        of its own. Call it right after the forward pass, before that sync; None when the
        model has no reference statistics (unless ``force``: calibration computes them)."""
        deep = self.ood_features.take()
        if self.reference is None and not force:
            return None
        with torch.inference_mode():
            pic = x.detach().float() * self.std + self.mean
            small = out[..., ::4, ::4].float()
            if not self.on_cuda:
                return pic, small, deep
            parts = [pic.flatten(), small.flatten()]
            if deep is not None:
                parts.append(deep.flatten().to(pic.device))
            n, m = pic.numel(), pic.numel() + small.numel()
            packed = torch.cat(parts)
            if self._ood_host is None or self._ood_host.numel() != packed.numel():
                self._ood_host = torch.empty(packed.numel(), dtype=torch.float32).pin_memory()
            self._ood_host.copy_(packed, non_blocking=True)
            h = self._ood_host
            return (
                h[:n].view(pic.shape),
                h[n:m].view(small.shape),
                h[m:] if deep is not None else None,
            )

    def judge(self, seg: Segmentation, staged: tuple | None) -> Segmentation:
        """Fill ``seg.ood_score`` and ``seg.in_distribution`` from :meth:`ood_inputs` (after the
        frame's sync); left None without statistics. Times itself in :attr:`ood_ms`."""
        if staged is None:
            self.ood_ms = self.ood_features_ms = 0.0
            return seg
        from .gate.ood import frame_features

        ref = self.reference
        if ref is None:  # staged by force (calibration): there is nothing to judge against
            self.ood_ms = 0.0
            return seg
        t0 = time.perf_counter()
        pic, small, deep = staged
        feats = frame_features(pic, small, self.card.output, out_stride=1)
        t1 = time.perf_counter()
        vec = None if deep is None else deep.numpy().reshape(-1)
        seg.ood_score, seg.in_distribution = ref.decide(feats, vec)
        t2 = time.perf_counter()
        self.ood_ms = (t2 - t0) * 1000 + self.ood_features.ms
        #: what the feature distance adds: its hooks, and the decision (the statistics' own
        #: part of it is one 17 x 17 product)
        self.ood_features_ms = (t2 - t1) * 1000 + self.ood_features.ms
        return seg

    def clean(self, x: torch.Tensor, out: torch.Tensor, smoother: Smoother | None) -> torch.Tensor:
        """The temporal filter when one is given (its hysteresis drops specks), else the
        card's ``min_area_fraction`` on this frame alone."""
        if smoother is not None:
            return smoother(x, out, self.card.output)
        if self.card.min_area_fraction > 0:
            return drop_specks(out, self.card.output, self.card.min_area_fraction)
        return out

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self.net(x)

    def class_stats(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-class sum of the max probability and pixel count, and the label map, at the
        network's size (the label map comes free with the max: no second argmax)."""
        probs = out.float().softmax(1) if self.card.output == "logits" else out.float()
        conf_map, lab = probs[0].max(0)
        n = self.card.num_classes
        sums = torch.zeros(n, device=out.device).index_add_(0, lab.flatten(), conf_map.flatten())
        counts = torch.bincount(lab.flatten(), minlength=n)[:n].float()
        return sums, counts, lab

    @staticmethod
    def labels_full(out: torch.Tensor, frame_hw: tuple[int, int]) -> torch.Tensor:
        """Class indices (int64) at the frame's size: bilinear logits, then argmax."""
        big = out.float()
        if tuple(big.shape[-2:]) != tuple(frame_hw):
            big = F.interpolate(big, size=frame_hw, mode="bilinear", align_corners=False)
        return big[0].max(0).indices  # max's index: argmax is 8x slower on the CPU

    def postprocess(self, out: torch.Tensor, frame_hw: tuple[int, int]) -> Segmentation:
        """Logits/probabilities -> label map at the frame's size plus per-class figures."""
        with torch.inference_mode():
            sums, counts, lab = self.class_stats(out)
            if self._device_route is not None:
                lab_big = self.labels_full(out, frame_hw).to(torch.uint8)
                stats = torch.stack([sums, counts])
                if self.on_cuda:
                    if self._pinned_out is None or self._pinned_out[0].shape != lab_big.shape:
                        self._pinned_out = (
                            torch.empty(lab_big.shape, dtype=torch.uint8).pin_memory(),
                            torch.empty(stats.shape, dtype=torch.float32).pin_memory(),
                        )
                    self._pinned_out[0].copy_(lab_big, non_blocking=True)
                    self._pinned_out[1].copy_(stats, non_blocking=True)
                    torch.cuda.current_stream(self.device).synchronize()  # the one sync
                    labels = self._pinned_out[0].numpy().copy()
                    sums_np, counts_np = self._pinned_out[1].numpy()
                else:
                    labels = lab_big.numpy()
                    sums_np, counts_np = stats.numpy()
            else:
                small = lab.to(torch.uint8).numpy()
                H, W = frame_hw
                labels = (
                    small
                    if small.shape == (H, W)
                    else cv2.resize(small, (W, H), interpolation=cv2.INTER_NEAREST)
                )
                sums_np, counts_np = sums.numpy(), counts.numpy()
        return self.figures(labels, sums_np, counts_np)

    def figures(
        self,
        labels: np.ndarray,
        sums: np.ndarray,
        counts: np.ndarray,
        areas_full: np.ndarray | None = None,
    ) -> Segmentation:
        conf, areas = self.class_figures(labels, sums, counts, areas_full)
        return Segmentation(labels=labels, confidence=conf, areas=areas)

    def class_figures(
        self,
        labels: np.ndarray | None,
        sums: np.ndarray,
        counts: np.ndarray,
        areas_full: np.ndarray | None = None,
    ) -> tuple[dict[str, float], dict[str, int]]:
        """Mean confidence and area per present class (``areas_full``: the pixel count per
        class, else counted from ``labels``)."""
        names = self.card.class_names
        if areas_full is None:  # calcHist: three times faster than bincount at 1080p
            hist = cv2.calcHist([np.ascontiguousarray(labels)], [0], None, [256], [0, 256])
            areas_full = hist.reshape(-1)[: len(names)].astype(np.int64)
        conf: dict[str, float] = {}
        areas: dict[str, int] = {}
        for i in range(1, len(names)):
            if areas_full[i] > 0:
                areas[names[i]] = int(areas_full[i])
                conf[names[i]] = float(sums[i] / counts[i]) if counts[i] > 0 else 0.0
        return conf, areas

    # ---- whole step ----------------------------------------------------------
    def segment(
        self, frame: Frame, smoother: Smoother | None = None, timings: Timings | None = None
    ) -> Segmentation:
        """Run all stages on a frame and record their durations in ``timings``.

        ``smoother`` (a :class:`~.temporal.TemporalFilter`) turns the network's output into
        its smoothed log-probabilities before postprocessing; the training-data check still
        judges the raw output."""
        tm = timings if timings is not None else Timings()
        x = self._input_for(frame, tm)
        t1 = time.perf_counter()
        out = self.infer(x)
        tap = self.cam_tap
        if tap is not None:
            tap(frame)
        staged = self.ood_inputs(x, out)  # before postprocess's sync
        out = self.clean(x, out, smoother)
        seg = self.judge(self.postprocess(out, (frame.height, frame.width)), staged)
        tm.ood, tm.ood_features = self.ood_ms, self.ood_features_ms
        # on CUDA the work is asynchronous until the single sync in postprocess, so the
        # inference stage is charged with everything up to that sync (and on the CPU the
        # label map's resize counts as inference too)
        tm.infer = (time.perf_counter() - t1) * 1000
        return seg

    def segment_pixels(self, rgb: np.ndarray, smoother: Smoother | None = None) -> Segmentation:
        x = self.preprocess(rgb)
        out = self.infer(x)
        staged = self.ood_inputs(x, out)
        out = self.clean(x, out, smoother)
        return self.judge(self.postprocess(out, rgb.shape[:2]), staged)

    def segment_compose(
        self,
        frame: Frame,
        style: OverlayStyle | None = None,
        heat: np.ndarray | None = None,
        smoother: Smoother | None = None,
        timings: Timings | None = None,
    ) -> tuple[Segmentation, np.ndarray]:
        """The device route's whole step (:meth:`DeviceRoute.segment_compose`)."""
        if self._device_route is None:
            raise RuntimeError("segment_compose needs route='device'")
        tm = timings if timings is not None else Timings()
        return self._device_route.segment_compose(frame, style, heat, smoother, tm)
