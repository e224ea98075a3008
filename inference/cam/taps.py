"""The CAM reuses the mask path's forward pass: activations tapped from it, and the tail.

A CAM map needs the target layer's activations ``A`` and the gradient of the class score with
respect to ``A``. The mask path has already run the whole network on the frame, so its
forward pass leaves ``A`` (and the encoder outputs the decoder's skip connections need) in a
:class:`Taps` record. The CAM worker then runs only the network's *tail*, from the target
layer to the logits, with ``A`` as the one tensor that requires a gradient: no second forward
through the encoder, and no backward through it either.

* a PyTorch mask network gives its block outputs through forward hooks (free);
* an ONNX Runtime mask network is replaced, while CAM is on, by one exported with those
  block outputs as extra graph outputs (:class:`TappedOnnx`, cached on disk like the plain
  export); the copy out of ONNX Runtime costs well under a millisecond at the default layer.

Only the built-in U-Net (``inc``, ``downs.i``, ``ups.k``, ``head``) is tapped; any other
network keeps the CAM's own forward pass (:meth:`CamEngine.compute` without taps).
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from collections.abc import Callable
from typing import cast

import torch
from torch import nn
from torch.nn import functional as F

from ...capture.frame import Frame

Taps = dict[str, torch.Tensor]


#: the containers a U-Net's ``downs``/``ups`` may be (indexed by position in the tail)
_Blocks = (nn.ModuleList, nn.Sequential)


def unet_depth(net: nn.Module) -> int | None:
    """The U-Net's depth, or None when ``net`` is not the built-in U-Net layout."""
    names = dict(net.named_children())
    downs, ups = names.get("downs"), names.get("ups")
    if "inc" not in names or "head" not in names:
        return None
    if not isinstance(downs, _Blocks) or not isinstance(ups, _Blocks):
        return None
    if len(downs) != len(ups) or len(downs) == 0:
        return None
    return len(downs)


def needed_blocks(depth: int, layer: str) -> list[str]:
    """The block outputs the tail from ``layer`` needs: the layer's own, and the encoder
    outputs that later blocks take as skips."""
    kind, _, i = layer.partition(".")
    if kind == "inc":
        return ["inc"]
    k = int(i)
    if kind == "downs":  # skips before it; later downs are recomputed from it
        return ["inc", *[f"downs.{j}" for j in range(k)], layer]
    # ups.k took skip depth-1-k; the later ups take inc, downs.0 .. downs.(depth-3-k)
    encoder = ["inc", *[f"downs.{j}" for j in range(depth - 1)]]
    return [*encoder[: depth - 1 - k], layer]


class UNetTail(nn.Module):
    """The U-Net from ``layer``'s output to the logits. ``self.target`` is an identity the
    CAM extractor hooks: its output is the tapped activation, the tensor the gradient is
    taken for. Set :attr:`skips` (the encoder outputs, by name) before each call."""

    def __init__(self, net: nn.Module, layer: str) -> None:
        super().__init__()
        depth = unet_depth(net)
        if depth is None:
            raise ValueError("the tail needs the built-in U-Net")
        self.net, self.layer, self.depth = net, layer, depth
        self.target = nn.Identity()
        self.skips: Taps = {}

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        net, d = self.net, self.depth
        # unet_depth checked the layout: downs and ups are lists of blocks, head a block
        downs = cast("nn.ModuleList | nn.Sequential", net.downs)
        ups = cast("nn.ModuleList | nn.Sequential", net.ups)
        head = cast(nn.Module, net.head)
        kind, _, i = self.layer.partition(".")
        x = self.target(a)
        if kind in ("inc", "downs"):
            k = -1 if kind == "inc" else int(i)
            before = ["inc", *[f"downs.{j}" for j in range(k)]] if k >= 0 else []
            skips = [*[self.skips[n] for n in before], x]
            for j in range(k + 1, d):
                skips.append(downs[j](F.max_pool2d(skips[-1], 2)))
            x = skips.pop()
            first = 0
        else:
            k = int(i)
            enc = ["inc", *[f"downs.{j}" for j in range(d - 1)]]
            skips = [self.skips[n] for n in enc[: d - 1 - k]]
            first = k + 1
        for j in range(first, d):
            x = ups[j](x, skips.pop())
        return head(x)


class TapRecorder:
    """Forward hooks on a PyTorch U-Net's blocks: after each forward, :meth:`take` gives
    the outputs of ``blocks`` (references; the network never changes them in place)."""

    def __init__(self, net: nn.Module, blocks: list[str]) -> None:
        mods = dict(net.named_modules())
        self._latest: Taps = {}
        self._handles = [mods[b].register_forward_hook(self._hook(b)) for b in blocks]

    def _hook(self, name: str) -> Callable:
        def hook(_m: nn.Module, _args: tuple, out: torch.Tensor) -> None:
            self._latest[name] = out

        return hook

    def take(self) -> Taps | None:
        taps, self._latest = self._latest, {}
        return taps or None

    def remove(self) -> None:
        for h in self._handles:
            h.remove()


class _ExportTaps(nn.Module):
    """The U-Net returning its logits and the named block outputs (for the ONNX export)."""

    def __init__(self, net: nn.Module, blocks: list[str]) -> None:
        super().__init__()
        self.net, self.blocks = net, blocks
        self._rec = TapRecorder(net, blocks)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.net(x)
        taps = self._rec.take() or {}
        return (out, *[taps[b] for b in self.blocks])


class TappedOnnx(nn.Module):
    """An ONNX Runtime U-Net with the tapped block outputs as extra outputs; behaves like
    :class:`~sonolive.models.onnx_net.OnnxNet` (returns the logits) and keeps the taps of
    its last run for :meth:`take`."""

    def __init__(self, plain: nn.Module, data: bytes, blocks: list[str]) -> None:
        super().__init__()
        from ...models.onnx_net import OnnxNet

        self.inner = OnnxNet(data, device="cpu")
        self.plain = plain  # the network this one stands in for (put back when CAM ends)
        self.blocks = blocks
        self._latest: Taps = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inner = self.inner
        arr = x.detach().to("cpu").numpy().astype(inner._in_type, copy=False)
        outs = inner.session.run(None, {inner.input_name: arr})
        self._latest = {b: torch.from_numpy(o) for b, o in zip(self.blocks, outs[1:], strict=True)}
        y = torch.from_numpy(outs[0])
        return y if y.dtype == x.dtype else y.to(x.dtype)

    def take(self) -> Taps | None:
        taps, self._latest = self._latest, {}
        return taps or None

    def __deepcopy__(self, memo: dict) -> TappedOnnx:
        return self


def tapped_onnx(loaded_net: nn.Module, card, blocks: list[str]) -> bytes:  # noqa: ANN001
    """ONNX bytes of the U-Net with ``blocks`` as extra outputs (cached on disk)."""
    import copy

    from ..backends import ONNX_OPSET, onnx_cache_dir

    h, w = card.input_size
    net = copy.deepcopy(loaded_net).float().cpu().eval()
    digest = _digest(net)
    key = f"{digest}-{card.channels}x{h}x{w}-taps-{'+'.join(blocks)}-opset{ONNX_OPSET}.onnx"
    path = onnx_cache_dir() / key
    if path.is_file():
        return path.read_bytes()
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _ExportTaps(net, blocks),
            (torch.zeros(1, card.channels, h, w),),
            buf,  # type: ignore[arg-type]  # the exporter writes to any file object
            dynamo=False,
            input_names=["input"],
            output_names=["output", *[f"tap_{b.replace('.', '_')}" for b in blocks]],
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
        )
    data = buf.getvalue()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        pass
    return data


def _digest(net: nn.Module) -> str:
    import hashlib

    h = hashlib.sha256()
    for k, v in net.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:40]


class MaskTap:
    """Installed on the mask path's :class:`~.segmenter.Segmenter` (``cam_tap``) while CAM is
    on: after each forward pass it hands ``(frame, taps)`` to ``sink`` (the CAM worker).
    :meth:`remove` puts the segmenter back as it was."""

    def __init__(self, seg, layer: str, sink: Callable[[Frame, Taps], None]) -> None:  # noqa: ANN001
        self.seg, self.sink = seg, sink
        self._lock = threading.Lock()
        self._removed = False
        self._recorder: TapRecorder | None = None
        self._onnx: TappedOnnx | None = None
        torch_net = seg.torch_model.net
        depth = unet_depth(torch_net)
        if depth is None:
            raise ValueError("not the built-in U-Net")
        self.blocks = needed_blocks(depth, layer)
        if seg.net is torch_net or unet_depth(seg.net) is not None:
            self._recorder = TapRecorder(seg.net, self.blocks)
        elif seg.backend_name == "onnx" and seg.device.type == "cpu":
            data = tapped_onnx(torch_net, seg.card, self.blocks)
            self._onnx = TappedOnnx(seg.net, data, self.blocks)
        else:
            raise ValueError("this mask network cannot be tapped")

    def install(self) -> bool:
        """Attach to the segmenter; False when :meth:`remove` came first."""
        with self._lock:
            if self._removed:
                return False
            if self._onnx is not None:
                self.seg.net = self._onnx
            self.seg.cam_tap = self
            return True

    def __call__(self, frame: Frame) -> None:
        src = self._onnx or self._recorder
        taps = src.take() if src is not None else None
        if taps is not None and all(b in taps for b in self.blocks):
            self.sink(frame, taps)

    def remove(self) -> None:
        with self._lock:
            self._removed = True
            if getattr(self.seg, "cam_tap", None) is self:
                self.seg.cam_tap = None
            if self._onnx is not None and self.seg.net is self._onnx:
                self.seg.net = self._onnx.plain
            if self._recorder is not None:
                self._recorder.remove()
