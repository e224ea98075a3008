"""Optional acceleration of a segmenter's forward pass, with an automatic fallback.

A :class:`~.segmenter.Segmenter` takes ``accel`` (a mode name or an :class:`Accel`) as a
constructor argument and applies it with :func:`apply` while it is built; nothing changes
its network afterwards except the fallback below. The modes:

* ``"off"``: the eager network (the default);
* ``"compile"``: ``torch.compile`` in inductor's default mode (any other mode by
  ``compile_mode``). Not ``reduce-overhead`` on CUDA: its CUDA-graph trees are per thread,
  and the app warms the network up on the model-loading thread, then runs it from the
  inference thread and the review worker; ``"cudagraphs"`` below gives graph replay without
  that tie;
* ``"cudagraphs"``: the forward for the fixed input shape (batch 1, the card's input size,
  the segmenter's dtype and memory format) captured once in a ``torch.cuda.CUDAGraph`` on a
  side stream after warm-up iterations, then replayed: the input is copied into a static
  tensor and the output is a static tensor, overwritten by the next replay (the segmenter
  consumes it within the same frame).

Setup ends with a first run on a test input compared with the eager network. Any exception
during setup or that first run, or a result that differs from eager, puts the eager network
back and records ``segmenter.accel_note`` in plain words; the app shows the note and keeps
running. The first call on a real frame is guarded the same way. Later errors (out of memory,
a lost device) propagate, so that the pipeline's CPU fallback sees them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from .choices import ACCEL_MODES
from .torch_device import gpu_failure_kind

#: a :class:`~.segmenter.Segmenter` being built (typed loosely: it imports this module)
Segmenter = Any


@dataclass(frozen=True)
class Accel:
    """How a segmenter runs its forward pass. ``backend`` is ``torch.compile``'s
    (``"eager"`` traces without generating code: a quick check of the machinery); ``atol``
    is the first run's allowed difference from eager (default: by dtype)."""

    mode: str = "off"
    compile_mode: str | None = None
    warmup: int = 3
    backend: str = "inductor"
    atol: float | None = None

    @classmethod
    def of(cls, accel: str | Accel | None) -> Accel:
        return accel if isinstance(accel, Accel) else cls(mode=accel or "off")


class _Guarded:
    """Calls the accelerated forward; if its first real call fails, goes back to eager."""

    def __init__(self, seg: Segmenter, fast: Callable[[torch.Tensor], Any], mode: str) -> None:
        self.seg = seg
        self.fast = fast
        self.mode = mode
        self.first = True

    def __call__(self, x: torch.Tensor) -> Any:
        if not self.first:
            return self.fast(x)
        try:
            out = self.fast(x)
        except Exception as e:  # noqa: BLE001 - any failure of the first run means: eager
            if gpu_failure_kind(e) is not None:
                raise  # the pipeline's CPU fallback handles these
            _fallback(self.seg, self.mode, e, "the first frame")
            return self.seg.net(x)
        self.first = False
        return out

    def __getattr__(self, name: str) -> Any:  # parameters(), eval() ... reach the network
        if name.startswith("__") or name in ("seg", "fast", "mode", "first"):
            raise AttributeError(name)
        return getattr(self.seg.eager_net, name)


class _CudaGraphForward:
    """Replays one captured forward; the input shape, dtype and layout are fixed."""

    def __init__(
        self,
        graph: torch.cuda.CUDAGraph,
        static_in: torch.Tensor,
        static_out: torch.Tensor,
        eager: torch.nn.Module,
    ) -> None:
        self.graph, self.static_in, self.static_out, self.eager = (
            graph,
            static_in,
            static_out,
            eager,
        )

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape != self.static_in.shape or x.dtype != self.static_in.dtype:
            return self.eager(x)  # a different shape: no graph for it
        self.static_in.copy_(x)
        self.graph.replay()
        return self.static_out


def _test_input(seg: Segmenter) -> torch.Tensor:
    h, w = seg.card.input_size
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, seg.card.channels, h, w, generator=g).to(seg.device, seg.dtype)
    if seg.device.type == "cuda":
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def _fallback(seg: Segmenter, mode: str, e: BaseException | str, when: str) -> None:
    seg.net = seg.eager_net
    seg.accel_mode = "off"
    why = (
        e
        if isinstance(e, str)
        else f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    )
    seg.accel_note = f"Acceleration '{mode}' failed during {when} ({why}); the model runs eagerly."


def _setup_compile(
    seg: Segmenter, compile_mode: str | None, backend: str
) -> Callable[[torch.Tensor], Any]:
    if compile_mode is None:
        compile_mode = "default"  # see the module's docstring: no per-thread graph trees
    if backend != "inductor":  # modes are inductor options; other backends take none
        return torch.compile(seg.eager_net, backend=backend, dynamic=False)
    return torch.compile(seg.eager_net, mode=compile_mode, dynamic=False)


def _setup_cudagraphs(seg: Segmenter, warmup: int) -> Callable[[torch.Tensor], Any]:
    if seg.device.type != "cuda":
        raise RuntimeError(f"CUDA graphs need a CUDA GPU; this model runs on '{seg.device}'")
    net = seg.eager_net
    dev = seg.device
    static_in = _test_input(seg).clone()
    side = torch.cuda.Stream(dev)
    side.wait_stream(torch.cuda.current_stream(dev))
    with torch.no_grad(), torch.cuda.stream(side):
        for _ in range(max(1, warmup)):  # cudnn.benchmark picks its kernels here
            net(static_in)
    torch.cuda.current_stream(dev).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.no_grad(), torch.cuda.graph(graph):  # captures on a side stream of its own
        static_out = net(static_in)
    torch.cuda.synchronize(dev)
    return _CudaGraphForward(graph, static_in, static_out, net)


def apply(seg: Segmenter, accel: Accel) -> None:
    """Set up ``accel`` on a segmenter being built (its constructor calls this); on any
    failure the eager network stays, with a note.

    ``seg.accel_mode`` says what runs; ``seg.accel_note`` says what happened (empty when
    nothing needed saying).
    """
    mode, warmup, atol = accel.mode, accel.warmup, accel.atol
    seg.net = seg.eager_net
    seg.accel_mode = "off"
    seg.accel_note = ""
    if mode in (None, "", "off", "eager"):
        return
    if mode not in ACCEL_MODES:
        seg.accel_note = f"Unknown acceleration '{mode}' (known: {', '.join(ACCEL_MODES)}); eager."
        return
    if seg.backend_name != "torch":
        seg.accel_note = (
            f"Acceleration '{mode}' applies to the PyTorch backend (--backend torch); "
            f"{seg.backend_name} runs this model as it is."
        )
        return
    t0 = time.perf_counter()
    try:
        fast = (
            _setup_compile(seg, accel.compile_mode, accel.backend)
            if mode == "compile"
            else _setup_cudagraphs(seg, warmup)
        )
    except Exception as e:  # noqa: BLE001
        _fallback(seg, mode, e, "setup")
        return
    # the first run, compared with eager on the same input
    x = _test_input(seg)
    try:
        with torch.inference_mode():
            ref = seg.eager_net(x).float()
            got = fast(x)
            for _ in range(max(1, warmup if mode == "compile" else 1) - 1):
                got = fast(x)
            got = got.float().clone()
        tol = atol if atol is not None else (0.05 if seg.dtype == torch.float16 else 1e-3)
        scale = float(ref.abs().max()) or 1.0
        err = float((got - ref).abs().max())
        if not torch.isfinite(got).all() or err > tol * max(1.0, scale):
            _fallback(seg, mode, f"its output differs from eager by {err:.3g}", "the first run")
            return
    except Exception as e:  # noqa: BLE001
        _fallback(seg, mode, e, "the first run")
        return
    seg.net = _Guarded(seg, fast, mode)
    seg.accel_mode = mode
    seg.accel_note = f"Acceleration '{mode}' ready in {time.perf_counter() - t0:.1f} s."
