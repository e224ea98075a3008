"""The device route: the frame uploaded once, resized, segmented and composed on the model's
device, and everything the host needs downloaded in one packed copy with one sync.

:class:`DeviceRoute` holds the route's buffers (the pinned upload buffer, the packed
staging buffer, the compositor, the CUDA events) so that :class:`~.segmenter.Segmenter`
keeps only what both routes share. On the CPU (``route="device"`` there) the same code runs
in float32, which is how the tests cover the CUDA path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from ..capture.frame import Frame
from ..models.card import ModelCard
from .segmentation import LazySegmentation, Segmentation
from .stats import Timings

if TYPE_CHECKING:
    from .gpu_compose import TorchCompositor
    from .overlay import OverlayStyle

#: (network input, network output, card output kind) -> smoothed log-probabilities
Smoother = Callable[[torch.Tensor, torch.Tensor, str], torch.Tensor]


class RouteOwner(Protocol):
    """What the device route reads of its :class:`~.segmenter.Segmenter`: the members both
    routes share (declared here so that this module need not import the segmenter)."""

    card: ModelCard
    #: while CAM is on, called with each frame after its forward pass (the mask path's taps)
    cam_tap: Callable[[Frame], None] | None
    #: what the last frame's training-data check cost, in all and for the feature distance
    ood_ms: float
    ood_features_ms: float
    device: torch.device
    dtype: torch.dtype
    channels_last: bool
    mean: torch.Tensor
    std: torch.Tensor
    grey: torch.Tensor

    @property
    def on_cuda(self) -> bool: ...

    def infer(self, x: torch.Tensor) -> torch.Tensor: ...

    def ood_inputs(
        self, x: torch.Tensor, out: torch.Tensor, force: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor] | None: ...

    def clean(
        self, x: torch.Tensor, out: torch.Tensor, smoother: Smoother | None
    ) -> torch.Tensor: ...

    def class_stats(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...

    @staticmethod
    def labels_full(out: torch.Tensor, frame_hw: tuple[int, int]) -> torch.Tensor: ...

    def class_figures(
        self,
        labels: np.ndarray | None,
        sums: np.ndarray,
        counts: np.ndarray,
        areas_full: np.ndarray | None = None,
    ) -> tuple[dict[str, float], dict[str, int]]: ...

    def judge(
        self, seg: Segmentation, staged: tuple[torch.Tensor, torch.Tensor] | None
    ) -> Segmentation: ...


class DeviceRoute:
    """One segmenter's device-route state; not thread-safe (the segmenter's thread owns it)."""

    def __init__(self, seg: RouteOwner) -> None:
        """``seg``: the :class:`~.segmenter.Segmenter` it belongs to; the route reads only
        the members :class:`RouteOwner` declares."""
        self.seg = seg
        self._pinned: torch.Tensor | None = None
        self._pinned_free: torch.cuda.Event | None = None  # the upload from _pinned finished
        self._frame_dev: torch.Tensor | None = None  # the last uploaded frame, H x W x 3 uint8
        self._compositor: TorchCompositor | None = None
        self._stage: torch.Tensor | None = None  # device side of the packed download
        self._stage_host: torch.Tensor | None = None  # its pinned host side
        self._events: list[torch.cuda.Event] | None = None

    def upload(self, rgb: np.ndarray) -> torch.Tensor:
        """The frame as an H x W x 3 uint8 tensor on the device (kept for the compositor)."""
        if self.seg.on_cuda:
            if self._pinned is None or self._pinned.shape != rgb.shape:
                self._pinned = torch.empty(rgb.shape, dtype=torch.uint8).pin_memory()
                self._pinned_free = torch.cuda.Event()
            elif self._pinned_free is not None:
                self._pinned_free.synchronize()  # the previous upload has left the buffer
            self._pinned.numpy()[...] = rgb
            t = self._pinned.to(self.seg.device, non_blocking=True)
            if self._pinned_free is not None:
                self._pinned_free.record()
        else:
            t = torch.from_numpy(np.ascontiguousarray(rgb)).to(self.seg.device)
        self._frame_dev = t
        return t

    def preprocess(self, rgb: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = self.seg.card.input_size
        u8 = self.upload(rgb)
        x = u8.permute(2, 0, 1)[None].float()
        if self.seg.card.channels == 1:
            x = (x * self.seg.grey).sum(1, keepdim=True)
        if x.shape[-2:] != (h, w):
            if x.shape[-2] > h:
                x = F.interpolate(x, size=(h, w), mode="area")
            else:
                x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
        x = (x / 255.0 - self.seg.mean) / self.seg.std
        x = x.to(self.seg.dtype)
        if self.seg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, u8

    def compositor(self, style: OverlayStyle | None = None) -> TorchCompositor:
        if self._compositor is None:
            from .gpu_compose import TorchCompositor

            self._compositor = TorchCompositor(
                self.seg.card, style, self.seg.device, self.seg.dtype
            )
        return self._compositor

    def _record(self, i: int) -> None:
        if self.seg.on_cuda:
            if self._events is None:
                self._events = [torch.cuda.Event(enable_timing=True) for _ in range(4)]
            self._events[i].record()

    def _staging(self, nbytes: int) -> tuple[torch.Tensor, torch.Tensor]:
        """One device buffer and its pinned host twin, reused while the size holds."""
        if self._stage is None or self._stage.numel() != nbytes:
            self._stage = torch.empty(nbytes, dtype=torch.uint8, device=self.seg.device)
            if self.seg.on_cuda:
                self._stage_host = torch.empty(nbytes, dtype=torch.uint8).pin_memory()
            else:
                self._stage_host = self._stage  # the CPU "download" is the buffer itself
        assert self._stage_host is not None
        return self._stage, self._stage_host

    def segment_compose(
        self,
        frame: Frame,
        style: OverlayStyle | None,
        heat: np.ndarray | None,
        smoother: Smoother | None,
        tm: Timings,
    ) -> tuple[Segmentation, np.ndarray]:
        """Segment and compose on the device; one download, one synchronisation.

        Returns the segmentation (its ``labels`` downloaded lazily, see
        :class:`LazySegmentation`) and the finished H x W x 3 uint8 picture, names drawn.
        Records ``preprocess``, ``infer`` and ``compose`` in ``tm``.
        """
        from .gpu_compose import label_stride

        comp = self.compositor(style)
        st = style or comp.style
        H, W = frame.height, frame.width
        n = self.seg.card.num_classes
        t0 = time.perf_counter()
        with torch.inference_mode():
            self._record(0)
            x, u8 = self.preprocess(frame.pixels)
            self._record(1)
            t1 = time.perf_counter()
            out = self.seg.infer(x)
            tap = self.seg.cam_tap
            if tap is not None:
                tap(frame)
            staged = self.seg.ood_inputs(x, out)  # rides the one sync below
            out = self.seg.clean(x, out, smoother)
            sums, counts, _lab = self.seg.class_stats(out)
            idx = self.seg.labels_full(out, (H, W))
            areas = torch.bincount(idx.flatten(), minlength=n)[:n]
            self._record(2)
            t2 = time.perf_counter()
            heat_dev = None
            if heat is not None:
                if heat.shape != (H, W):
                    heat = cv2.resize(heat, (W, H), interpolation=cv2.INTER_LINEAR)
                heat_dev = comp.heat_on_device(heat)
            dc = comp.compose(u8, idx, heat_dev, st)
            lab_u8 = idx.to(torch.uint8)  # kept on the device for a later labels read
            # pack: [3n float64 stats | 8 bytes: centre class | small labels | picture]
            s = label_stride(H, W)
            hs, ws = dc.small_labels.shape
            o_centre = 3 * n * 8
            o_small = o_centre + 8
            o_img = o_small + hs * ws
            stage, host = self._staging(o_img + H * W * 3)
            stage[:o_centre].view(torch.float64).view(3, n).copy_(
                torch.stack([sums.double(), counts.double(), areas.double()])
            )
            stage[o_centre : o_centre + 1].copy_(dc.centre)
            stage[o_small:o_img].view(hs, ws).copy_(dc.small_labels)
            stage[o_img:].view(H, W, 3).copy_(dc.image)
            if self.seg.on_cuda:
                host.copy_(stage, non_blocking=True)  # the one download
                self._record(3)
                torch.cuda.current_stream(self.seg.device).synchronize()  # the one sync
        t3 = time.perf_counter()
        hn = host.numpy()
        stats = hn[:o_centre].view(np.float64).reshape(3, n)
        centre = int(hn[o_centre])
        small = hn[o_small:o_img].reshape(hs, ws).copy()
        image = hn[o_img:].reshape(H, W, 3).copy()  # the pinned buffer is reused next frame
        comp.draw_names(image, small, centre, st, frame.pixels, frame.timestamp)
        conf, px = self.seg.class_figures(None, stats[0], stats[1], stats[2].astype(np.int64))
        seg = LazySegmentation(lab_u8, small, s, conf, px)
        self.seg.judge(seg, staged)
        tm.ood, tm.ood_features = self.seg.ood_ms, self.seg.ood_features_ms
        t4 = time.perf_counter()
        if self.seg.on_cuda and self._events is not None:
            # the host ran ahead of the GPU until the sync; place the stage boundaries where
            # the GPU passed them (events), measured back from the sync, so the stages still
            # add up to the wall-clock time of the whole step
            ev = self._events
            b1 = t3 - ev[1].elapsed_time(ev[3]) / 1000
            b2 = t3 - ev[2].elapsed_time(ev[3]) / 1000
            b1 = min(max(b1, t0), t3)
            b2 = min(max(b2, b1), t3)
        else:
            b1, b2 = t1, t2
        tm.preprocess = (b1 - t0) * 1000
        tm.infer = (b2 - b1) * 1000
        tm.compose = (t4 - b2) * 1000
        return seg, image
