"""Build a segmenter for a model on a chosen device and backend.

Backends:

- ``torch``: PyTorch eager (fp16 + channels_last on CUDA).
- ``onnx``: ONNX Runtime. A PyTorch model is exported to ONNX once (legacy TorchScript-based
  exporter, no extra dependency) and the export is cached in the per-user cache folder, keyed
  by the weights' SHA-256. An ONNX model from a card always runs here.
- ``auto``: PyTorch on CUDA. On the CPU a short timed probe runs both after a warm-up and keeps
  the faster; ``seg.probe`` records milliseconds per backend, and ``seg.backend_name`` says
  which one runs. Any ONNX failure falls back to PyTorch, with the reason in
  ``seg.probe["note"]``.
"""

from __future__ import annotations

import hashlib
import io
import os
import statistics
import time
import warnings
from pathlib import Path

import platformdirs
import torch

from ..models.card import ModelCard
from ..models.loader import LoadedModel, load_model
from ..models.registry import find_model
from .choices import BACKENDS
from .segmenter import Segmenter
from .torch_device import pick_device

ONNX_OPSET = 17
PROBE_RUNS = 10
PROBE_WARMUP = 2


# ---- public ---------------------------------------------------------------------------------
def make_segmenter(
    model: str | Path | LoadedModel,
    device: str = "auto",
    backend: str = "auto",
    probe_runs: int = PROBE_RUNS,
    trust_code: bool = False,
    route: str | None = None,
    accel: str = "off",
) -> Segmenter:
    """A Segmenter for ``model`` (a registry name, a model folder or a LoadedModel).

    The segmenter's ``backend_name`` is "torch" or "onnx" and its ``probe`` the record of
    the choice: milliseconds per backend when ``auto`` timed them, ``chosen``, ``agreement``,
    and ``note`` when a backend was ruled out. ``trust_code`` lets a TorchScript model load
    (see ``models.loader.load_model``). ``route`` and ``accel``: see :class:`Segmenter`.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend '{backend}' (known: {', '.join(BACKENDS)})")
    loaded = (
        model
        if isinstance(model, LoadedModel)
        else load_model(find_model(str(model)), trust_code=trust_code)
    )
    dev = pick_device(device) if isinstance(device, str) else device

    if _is_onnx_net(loaded.net):  # an ONNX model from its card: only ONNX Runtime can run it
        note = "an ONNX model runs in ONNX Runtime only" if backend == "torch" else None
        return _onnx_segmenter(
            loaded, loaded.net, dev, {"chosen": "onnx", **_note(note)}, route, accel
        )

    if backend == "torch" or (backend == "auto" and dev.type == "cuda"):
        return Segmenter(loaded, device=dev, probe={"chosen": "torch"}, route=route, accel=accel)

    if backend == "onnx":
        return _onnx_segmenter(
            loaded, onnx_net_for(loaded, dev), dev, {"chosen": "onnx"}, route, accel
        )

    # auto on the CPU: time both, keep the faster
    try:
        onnx_net = onnx_net_for(loaded, dev)
    except Exception as e:  # noqa: BLE001 - any ONNX failure means: stay on torch
        return Segmenter(loaded, device=dev, probe=_ruled_out(e), route=route, accel=accel)
    probe = probe_backends(loaded.card, loaded.net.eval(), onnx_net, runs=probe_runs)
    if probe["chosen"] == "onnx":
        return _onnx_segmenter(loaded, onnx_net, dev, probe, route, accel)
    return Segmenter(loaded, device=dev, probe=probe, route=route, accel=accel)


def probe_backends(
    card: ModelCard, torch_net: torch.nn.Module, onnx_net: torch.nn.Module, runs: int = PROBE_RUNS
) -> dict:
    """Time both networks' forward pass on one dummy input: the record that picks one."""
    h, w = card.input_size
    x = torch.rand(1, card.channels, h, w, generator=torch.Generator().manual_seed(0))
    try:
        with torch.inference_mode():
            ref = torch_net(x).float()
            got = onnx_net(x).float()
        if got.shape != ref.shape:
            raise ValueError(f"output shape {tuple(got.shape)} differs from {tuple(ref.shape)}")
        agree = (got.argmax(1) == ref.argmax(1)).float().mean().item()
        if agree < 0.99:
            raise ValueError(f"its masks differ from PyTorch's ({agree:.1%} of pixels agree)")
        times = _time_interleaved({"torch": torch_net, "onnx": onnx_net}, x, runs)
    except Exception as e:  # noqa: BLE001
        return _ruled_out(e)
    chosen = "onnx" if times["onnx"] < times["torch"] else "torch"
    return {**times, "chosen": chosen, "agreement": round(agree, 5)}


def describe_backend(seg: Segmenter) -> str:
    """A short label for status lines, e.g. ``onnx (31.0 ms; torch 50.2 ms)``."""
    name, probe = seg.backend_name, seg.probe
    other = "torch" if name == "onnx" else "onnx"
    if isinstance(probe.get(name), float) and isinstance(probe.get(other), float):
        return f"{name} ({probe[name]:.1f} ms; {other} {probe[other]:.1f} ms)"
    return name


# ---- ONNX export and cache ------------------------------------------------------------------
def onnx_cache_dir() -> Path:
    """Where exported ONNX files are kept (``SONOLIVE_CACHE_DIR`` overrides)."""
    env = os.environ.get("SONOLIVE_CACHE_DIR")
    root = Path(env) if env else Path(platformdirs.user_cache_dir("SonoLive", appauthor=False))
    return root / "onnx"


def weights_digest(loaded: LoadedModel) -> str:
    """SHA-256 of the weights file, or of the tensors when the model has no file."""
    h = hashlib.sha256()
    path = Path(loaded.path) / loaded.card.weights if loaded.path is not None else None
    if path is not None and path.is_file():
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    else:
        for k, v in sorted(loaded.net.state_dict().items()):
            h.update(k.encode())
            h.update(v.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def export_onnx(net: torch.nn.Module, channels: int, size: tuple[int, int]) -> bytes:
    """Export a float32 network to ONNX bytes for a fixed 1 x channels x H x W input.

    SonoLive's own U-Net is exported with its pooled features (:mod:`.ood_features`) as a
    second output, ``features``, for the training-data check. Uses the TorchScript-based exporter (``dynamo=False``), which needs no extra package;
    the dynamo exporter would need ``onnxscript``.
    """
    from ..models.onnx_net import FEATURES_OUTPUT
    from .gate.features import WithFeatures, tap_for

    buf = io.BytesIO()
    x = torch.zeros(1, channels, *size)
    names = ["output"]
    if tap_for(net) is not None:  # SonoLive's U-Net: its pooled features as a second output
        net, names = WithFeatures(net), ["output", FEATURES_OUTPUT]
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the legacy exporter announces its own deprecation
        torch.onnx.export(
            net.float().eval(),
            (x,),
            buf,  # type: ignore[arg-type]  # the exporter writes to any file object
            dynamo=False,
            input_names=["input"],
            output_names=names,
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
        )
    return buf.getvalue()


def onnx_net_for(loaded: LoadedModel, device: str | torch.device = "cpu") -> torch.nn.Module:
    """An OnnxNet for a PyTorch model: from the cache when exported before, else exported now."""
    from ..models.onnx_net import OnnxNet

    if _is_onnx_net(loaded.net):
        return loaded.net
    card = loaded.card
    h, w = card.input_size
    dev = "cpu" if torch.device(device).type == "cpu" else "auto"
    key = f"{weights_digest(loaded)[:40]}-{card.channels}x{h}x{w}-opset{ONNX_OPSET}-feat.onnx"
    path = onnx_cache_dir() / key
    if path.is_file():
        try:
            return OnnxNet(path, device=dev)
        except Exception:  # noqa: BLE001 - a damaged cache entry is exported again
            path.unlink(missing_ok=True)
    data = export_onnx(loaded.net, card.channels, (h, w))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs the export next time
    return OnnxNet(data, device=dev)


# ---- helpers --------------------------------------------------------------------------------
def _is_onnx_net(net: torch.nn.Module) -> bool:
    from ..models.onnx_net import OnnxNet

    inner = getattr(net, "net", None)  # ResizeOutput wraps a foreign net
    return isinstance(net, OnnxNet) or isinstance(inner, OnnxNet)


def _onnx_segmenter(
    loaded: LoadedModel,
    net: torch.nn.Module,
    dev: torch.device,
    probe: dict,
    route: str | None = None,
    accel: str = "off",
) -> Segmenter:
    """ONNX Runtime runs ``net``; CAM hooks into the PyTorch network's layers (an
    acceleration is the PyTorch backend's: the segmenter notes that it does not apply)."""
    return Segmenter(
        LoadedModel(loaded.card, net, loaded.path),
        device=dev,
        dtype=torch.float32,
        backend="onnx",
        cam_model=loaded,
        probe=probe,
        route=route,
        accel=accel,
    )


def _time_interleaved(
    nets: dict[str, torch.nn.Module], x: torch.Tensor, runs: int
) -> dict[str, float]:
    """Median milliseconds per forward; runs alternate so background load hits both alike."""
    with torch.inference_mode():
        for net in nets.values():
            for _ in range(PROBE_WARMUP):
                net(x)
        samples: dict[str, list[float]] = {k: [] for k in nets}
        for _ in range(max(1, runs)):
            for name, net in nets.items():
                t0 = time.perf_counter()
                net(x)
                samples[name].append((time.perf_counter() - t0) * 1000)
    return {k: round(statistics.median(v), 2) for k, v in samples.items()}


def _ruled_out(e: BaseException) -> dict:
    return {"chosen": "torch", "note": f"ONNX Runtime not used: {_line(e)}"}


def _note(note: str | None) -> dict:
    return {"note": note} if note else {}


def _line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
