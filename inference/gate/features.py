"""What the network sees: features pooled inside the network during its own forward pass.

A picture from the same probe on another body part shares brightness, contrast and speckle
with the training data, and the network is as confident on it; its inner features are not
alike. So the training-data check also measures how far the frame's pooled features lie from
the training frames' (:class:`~.ood_reference.DeepStats`).

Where the features come from:

* SonoLive's own U-Net in PyTorch: forward hooks on the bottleneck (the last encoder block)
  and the first decoder block take the channel means of their outputs while the frame's one
  forward pass runs (no second pass). The means stay on the model's device; on CUDA they
  ride the check's one non-blocking copy. Stored per thread: a CAM worker running a copy of
  the network on its own thread never mixes its features into the live frame's.
* The ONNX export SonoLive makes of that U-Net (``inference.backends``): the same means are
  a second graph output named ``features``; :class:`~sonolive.models.onnx_net.OnnxNet` keeps
  the last one.
* Any other network (a hospital's ONNX or TorchScript file) hides its inside: the check then
  uses the picture and output statistics only, and says so (:func:`score_words`).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from ...models.unet import UNet

#: the attribute a tapped network carries its tap in (one tap per network, however many
#: segmenters share it)
_ATTR = "_sonolive_feature_tap"


class FeatureTap:
    """Channel means of a U-Net's bottleneck and first decoder block, per forward pass."""

    def __init__(self, net: UNet) -> None:
        depth = len(net.downs)
        self.layers = [f"downs.{depth - 1}", "ups.0"]
        blocks = [net.downs[depth - 1], net.ups[0]]
        self.size = sum(_out_channels(b) for b in blocks)
        self._local = threading.local()
        self._handles = [b.register_forward_hook(self._hook(i)) for i, b in enumerate(blocks)]

    def _hook(self, i: int):
        def hook(_module: nn.Module, _inputs, out: torch.Tensor) -> None:
            t0 = time.perf_counter()
            parts = getattr(self._local, "parts", None)
            if parts is None or i == 0:
                parts = self._local.parts = [None, None]
                self._local.ms = 0.0
            parts[i] = out.detach().float().mean((2, 3))
            self._local.ms += (time.perf_counter() - t0) * 1000

        return hook

    def __deepcopy__(self, memo: dict) -> FeatureTap:  # a copied network shares the tap
        return self

    def take(self) -> tuple[torch.Tensor | None, float]:
        """This thread's features of its last forward pass (``1 x size``, on the model's
        device) and the milliseconds the hooks took; None once taken, or when the pass ran
        without the hooks (a replayed CUDA graph)."""
        parts = getattr(self._local, "parts", None)
        ms = getattr(self._local, "ms", 0.0)
        self._local.parts = None
        if parts is None or any(p is None for p in parts):
            return None, ms
        return torch.cat(parts, 1), ms

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []


def _out_channels(block: nn.Module) -> int:
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    return int(convs[-1].out_channels)


def tap_for(net: nn.Module) -> FeatureTap | None:
    """The network's tap (made once, then shared), or None when its inside is hidden."""
    from ...models.unet import UNet

    if not isinstance(net, UNet):
        return None
    tap = getattr(net, _ATTR, None)
    if tap is None:
        tap = FeatureTap(net)
        object.__setattr__(net, _ATTR, tap)  # a plain attribute, not a submodule
    return tap


class WithFeatures(nn.Module):
    """A U-Net returning ``(output, features)``: what SonoLive exports to ONNX, so that ONNX
    Runtime gives the pooled features too (the tap's hooks run inside the traced forward)."""

    def __init__(self, net: nn.Module) -> None:
        from ...models.unet import UNet

        super().__init__()
        tap = tap_for(net)
        if tap is None or not isinstance(net, UNet):
            raise TypeError(f"only SonoLive's U-Net has pooled features, not {type(net).__name__}")
        self.net: UNet = net
        self.tap: FeatureTap = tap

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.net(x)
        feats, _ms = self.tap.take()
        if feats is None:  # the hooks ran inside the forward above: never, unless removed
            raise RuntimeError("the feature tap saw no forward pass")
        return y, feats


class Features:
    """Where a segmenter's network hands over its pooled features, whatever runs it: a
    PyTorch tap, or the ONNX export's second output; ``None`` parts when hidden."""

    def __init__(self, net: nn.Module) -> None:
        from ...models.onnx_net import OnnxNet

        inner = getattr(net, "net", net)  # ResizeOutput wraps a foreign net
        self._tap = tap_for(net)
        self._onnx = inner if isinstance(inner, OnnxNet) and inner.has_features else None
        self.layers: list[str] | None = (
            self._tap.layers if self._tap else self._onnx.feature_layers if self._onnx else None
        )
        self.ms = 0.0  # the last take's own cost (the hooks')

    @property
    def visible(self) -> bool:
        return self.layers is not None

    def take(self) -> torch.Tensor | None:
        if self._tap is not None:
            v, self.ms = self._tap.take()
            return v
        if self._onnx is not None:
            return self._onnx.take_features()
        return None


def hidden_reason(net: nn.Module, backend: str) -> str:
    """Why a network's features cannot be read, in a few words."""
    from ...models.onnx_net import OnnxNet

    inner = getattr(net, "net", net)
    if isinstance(inner, OnnxNet):
        return "its ONNX file gives no features"
    if isinstance(inner, torch.jit.ScriptModule):
        return "TorchScript hides the network's inside"
    return "this architecture's features are not tapped"
