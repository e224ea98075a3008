"""Preprocessing, device and dtype handling, and the forward pass.

CPU and CUDA share one code path. On CUDA the frame is copied once into a pinned host buffer,
uploaded without blocking, resized and normalised on the GPU, run in fp16 and channels_last,
and the label map and confidences come back in one download followed by the frame's only
synchronisation. On the CPU OpenCV resizes into a preallocated buffer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from ..capture.frame import Frame
from ..models.card import ModelCard
from ..models.loader import LoadedModel
from .device import default_dtype, pick_device


@dataclass
class Segmentation:
    """What the network found in one frame, at the frame's own resolution."""

    labels: np.ndarray  # H x W uint8 class indices
    confidence: dict[str, float] = field(default_factory=dict)  # mean max-prob per present class
    areas: dict[str, int] = field(default_factory=dict)  # pixels per present class

    @property
    def present(self) -> list[str]:
        return list(self.areas)


class Segmenter:
    """Runs a loaded model on frames. Not thread-safe: one inference thread owns it."""

    backend_name = "torch"

    def __init__(
        self,
        model: LoadedModel,
        device: str | torch.device = "auto",
        dtype: torch.dtype | None = None,
    ) -> None:
        self.card: ModelCard = model.card
        self.model = model
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self.dtype = dtype or default_dtype(self.device)
        self.on_cuda = self.device.type == "cuda"
        net = model.net
        if self.on_cuda:
            torch.backends.cudnn.benchmark = True
            net = net.to(self.device, dtype=self.dtype, memory_format=torch.channels_last)
        else:
            net = net.to(self.device, dtype=self.dtype)
        self.net = net.eval()
        c = self.card.channels
        mean = self.card.mean * (c // len(self.card.mean))
        std = self.card.std * (c // len(self.card.std))
        self._mean = torch.tensor(mean, device=self.device, dtype=torch.float32).view(1, c, 1, 1)
        self._std = torch.tensor(std, device=self.device, dtype=torch.float32).view(1, c, 1, 1)
        h, w = self.card.input_size
        self._host = np.empty((h, w, c), np.float32)  # CPU preprocessing buffer, reused
        self._pinned: torch.Tensor | None = None
        self._pinned_out: tuple[torch.Tensor, torch.Tensor] | None = None

    # ---- stages --------------------------------------------------------------
    def preprocess(self, rgb: np.ndarray) -> torch.Tensor:
        """RGB uint8 frame -> normalised 1 x C x h x w tensor on the model's device."""
        h, w = self.card.input_size
        c = self.card.channels
        if self.on_cuda:
            if self._pinned is None or self._pinned.shape != rgb.shape:
                self._pinned = torch.empty(rgb.shape, dtype=torch.uint8).pin_memory()
            self._pinned.numpy()[...] = rgb
            x = self._pinned.to(self.device, non_blocking=True).permute(2, 0, 1)[None].float()
            if c == 1:
                x = (
                    x * torch.tensor([0.299, 0.587, 0.114], device=self.device).view(1, 3, 1, 1)
                ).sum(1, keepdim=True)
            x = F.interpolate(x, size=(h, w), mode="area") if x.shape[-2:] != (h, w) else x
            x = (x / 255.0 - self._mean) / self._std
            return x.to(self.dtype).contiguous(memory_format=torch.channels_last)
        img = rgb if c == 3 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if img.shape[:2] != (h, w):
            interp = cv2.INTER_AREA if img.shape[0] > h else cv2.INTER_LINEAR
            img = cv2.resize(img, (w, h), interpolation=interp)
        buf = self._host
        np.multiply(img.reshape(h, w, c), 1.0 / 255.0, out=buf, casting="unsafe")
        x = torch.from_numpy(buf).permute(2, 0, 1)[None]
        x = (x - self._mean) / self._std
        return x.to(self.dtype)

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self.net(x)

    def postprocess(self, out: torch.Tensor, frame_hw: tuple[int, int]) -> Segmentation:
        """Logits/probabilities -> label map at the frame's size plus per-class figures."""
        with torch.inference_mode():
            probs = out.float().softmax(1) if self.card.output == "logits" else out.float()
            conf_map, lab = probs[0].max(0)
            n = self.card.num_classes
            sums = torch.zeros(n, device=out.device).index_add_(
                0, lab.flatten(), conf_map.flatten()
            )
            counts = torch.bincount(lab.flatten(), minlength=n).float()
            if self.on_cuda:
                big = F.interpolate(
                    out.float(), size=frame_hw, mode="bilinear", align_corners=False
                )
                lab_big = big[0].argmax(0).to(torch.uint8)
                stats = torch.stack([sums, counts])
                if self._pinned_out is None or self._pinned_out[0].shape != lab_big.shape:
                    self._pinned_out = (
                        torch.empty(lab_big.shape, dtype=torch.uint8).pin_memory(),
                        torch.empty(stats.shape, dtype=torch.float32).pin_memory(),
                    )
                self._pinned_out[0].copy_(lab_big, non_blocking=True)
                self._pinned_out[1].copy_(stats, non_blocking=True)
                torch.cuda.current_stream(self.device).synchronize()  # the one sync per frame
                labels = self._pinned_out[0].numpy().copy()
                sums_np, counts_np = self._pinned_out[1].numpy()
            else:
                small = lab.to(torch.uint8).numpy()
                H, W = frame_hw
                labels = (
                    small
                    if small.shape == (H, W)
                    else cv2.resize(small, (W, H), interpolation=cv2.INTER_NEAREST)
                )
                sums_np, counts_np = sums.numpy(), counts.numpy()
        return self._figures(labels, sums_np, counts_np)

    def _figures(self, labels: np.ndarray, sums: np.ndarray, counts: np.ndarray) -> Segmentation:
        names = self.card.class_names
        areas_full = np.bincount(labels.ravel(), minlength=len(names))
        conf, areas = {}, {}
        for i in range(1, len(names)):
            if areas_full[i] > 0:
                areas[names[i]] = int(areas_full[i])
                conf[names[i]] = float(sums[i] / counts[i]) if counts[i] > 0 else 0.0
        return Segmentation(labels=labels, confidence=conf, areas=areas)

    # ---- whole step ----------------------------------------------------------
    def segment(self, frame: Frame) -> Segmentation:
        """Run all stages on a frame and record their durations in ``frame.timings``."""
        t0 = time.perf_counter()
        x = self.preprocess(frame.pixels)
        t1 = time.perf_counter()
        out = self.infer(x)
        t2 = time.perf_counter()
        seg = self.postprocess(out, (frame.height, frame.width))
        t3 = time.perf_counter()
        frame.timings.preprocess = (t1 - t0) * 1000
        # on CUDA the work is asynchronous until the single sync in postprocess, so the
        # inference stage is charged with everything up to that sync
        frame.timings.infer = (t3 - t1) * 1000 if self.on_cuda else (t2 - t1) * 1000
        if not self.on_cuda:
            frame.timings.infer += (t3 - t2) * 1000
        return seg

    def segment_pixels(self, rgb: np.ndarray) -> Segmentation:
        return self.postprocess(self.infer(self.preprocess(rgb)), rgb.shape[:2])
