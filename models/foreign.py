"""Bring-your-own-model formats: TorchScript, ONNX, and plain PyTorch state dicts.

Nothing here unpickles with ``weights_only=False``. A ``.pt``/``.pth`` file is opened only if
it is either a TorchScript archive (code and tensors, read by TorchScript's own restricted
reader) or a plain dictionary of tensors (read with ``torch.load(weights_only=True)``). Before
either, every pickle inside the file is scanned, without running it, for references to Python
functions or classes; a file that asks for anything outside torch's tensor rebuilding is
refused and never opened.

Every model, whatever its format, runs once on a dummy input of the card's size, and its
output is checked against the card (one channel per class, the input's spatial size).
"""

from __future__ import annotations

import pickletools
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from .card import ModelCard
from .weights_io import (
    LoadedModel,
    ModelLoadError,
    UntrustedCodeError,
    apply_state,
    build_arch,
    load_safetensors_state,
    weights_path,
)

DEFAULT_ARCH = {"type": "unet", "width": 16, "depth": 4}

NOT_PLAIN = (
    "{name} is not a plain weights file: {why}. It was not loaded. Save the weights with "
    "safetensors, torch.jit.save or ONNX instead."
)


# ---- entry point --------------------------------------------------------------------------
def load_foreign(card: ModelCard, folder: str | Path, trust_code: bool = False) -> LoadedModel:
    """Load a TorchScript, ONNX or state-dict model folder and check its output against the card.

    A TorchScript archive is a program: without ``trust_code`` it is refused before
    ``torch.jit.load`` (which can already run its ``__setstate__``), with UntrustedCodeError.
    """
    folder = Path(folder)
    path = weights_path(card, folder)
    if card.format == "onnx":
        net = _load_onnx(card, path)
    elif card.format == "torchscript":
        net = _load_torch_file(card, path, trust_code)
    else:  # "safetensors" (normally handled by load_model itself)
        net = _build_arch(card)
        apply_state(net, load_safetensors_state(path), card.weights)
    net = check_output(card, net.eval(), where=card.weights)
    return LoadedModel(card=card, net=net, path=folder)


# ---- output check -------------------------------------------------------------------------
class ResizeOutput(nn.Module):
    """Upsamples a network's output maps to its input's size (for strided decoders)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.net(x)
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


def check_output(card: ModelCard, net: nn.Module, where: str = "model") -> nn.Module:
    """Run one forward on a dummy input of the card's size and check the result.

    Returns ``net``, or ``net`` wrapped so its output is resized to the input when it comes out
    at a scaled size with the same aspect ratio. Raises ModelLoadError naming the problem.
    """
    h, w = card.input_size
    c = card.channels
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(1, c, h, w, generator=gen)
    try:
        with torch.inference_mode():
            y = net(x)
    except Exception as e:  # noqa: BLE001 - any failure of a foreign model is a plain message
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelLoadError(
            f"{where}: the model failed on a 1x{c}x{h}x{w} input ({msg}). "
            "Check the card's 'channels' and 'input_size'."
        ) from e
    if isinstance(y, (tuple, list)):
        raise ModelLoadError(
            f"{where}: the model returns {len(y)} outputs; it must return one tensor "
            "(1 x classes x height x width)"
        )
    if not isinstance(y, torch.Tensor) or y.ndim != 4 or y.shape[0] != 1:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ModelLoadError(
            f"{where}: the model outputs {shape}; a segmentation model must output "
            "1 x classes x height x width"
        )
    k = int(y.shape[1])
    if k != card.num_classes:
        raise ModelLoadError(
            f"{where}: the model outputs {k} channels but the card lists "
            f"{card.num_classes} classes ({', '.join(card.class_names)})"
        )
    oh, ow = int(y.shape[2]), int(y.shape[3])
    if (oh, ow) != (h, w):
        same_aspect = min(oh, ow) >= 4 and abs(oh / ow - h / w) <= 0.02 * (h / w)
        if not same_aspect:
            raise ModelLoadError(
                f"{where}: the model outputs {oh}x{ow} maps for a {h}x{w} input; "
                "the maps must have the input's size or a scaled copy of it"
            )
        net = ResizeOutput(net)
    yf = y.float()
    if not torch.isfinite(yf).all():
        raise ModelLoadError(f"{where}: the model outputs NaN or infinite values")
    if card.output == "probabilities" and (yf.min() < -1e-3 or yf.max() > 1 + 1e-3):
        raise ModelLoadError(
            f"{where}: the card says 'output': 'probabilities' but the model outputs values "
            f"from {yf.min().item():.3g} to {yf.max().item():.3g}; set 'output' to 'logits'"
        )
    return net


# ---- ONNX ---------------------------------------------------------------------------------
def _load_onnx(card: ModelCard, path: Path) -> nn.Module:
    from .onnx_net import OnnxNet, OnnxUnavailable

    try:
        net = OnnxNet(path)
    except OnnxUnavailable as e:
        raise ModelLoadError(str(e)) from e
    except ValueError as e:
        raise ModelLoadError(f"{path.name}: {e}") from e
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelLoadError(f"{path.name} is not a valid ONNX model: {first}") from e
    want = [1, card.channels, *card.input_size]
    got = net.input_shape
    if len(got) != 4:
        raise ModelLoadError(
            f"{path.name}: the ONNX model's input has {len(got)} dimensions; it needs 4 "
            "(1 x channels x height x width)"
        )
    for i, (g, wv) in enumerate(zip(got, want, strict=True)):
        if isinstance(g, int) and g > 0 and g != wv:
            shown = "x".join(str(v) if isinstance(v, int) else "?" for v in got)
            raise ModelLoadError(
                f"{path.name}: the ONNX model expects input {shown} but the card says "
                f"{card.channels} channel(s) at {card.input_size[0]}x{card.input_size[1]} "
                f"(dimension {i} differs)"
            )
    return net


# ---- TorchScript and state dicts ----------------------------------------------------------
def _build_arch(card: ModelCard) -> nn.Module:
    return build_arch(card, DEFAULT_ARCH)


# Bounds for .pt/.pth archives, checked from the zip directory before anything is inflated.
MAX_WEIGHTS_BYTES = 2 * 2**30  # inflated size of all members together
MAX_PICKLE_BYTES = 16 * 2**20  # one pickle inside (a state dict's is a few KiB)
MAX_PICKLE_OPS = 2_000_000  # opcodes the scan reads before it gives up
MAX_RATIO = 200  # inflated / compressed: torch.save stores members uncompressed


def _load_torch_file(card: ModelCard, path: Path, trust_code: bool = False) -> nn.Module:
    with open(path, "rb") as f:
        head = f.read(MAX_PICKLE_BYTES + 1)
    if head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as zf:
                infos = zf.infolist()
                _refuse_bomb(infos, path.name)
                names = [i.filename for i in infos]
                pickles = [i for i in infos if i.filename.endswith(".pkl")]
                if not any(i.filename.endswith("data.pkl") for i in pickles):
                    raise ModelLoadError(
                        f"{path.name} is a zip archive but neither a TorchScript model nor "
                        "PyTorch weights (no data.pkl inside)"
                    )
                for i in pickles:
                    with zf.open(i) as member:
                        _refuse_unsafe(member.read(MAX_PICKLE_BYTES + 1), path.name)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as e:
            raise ModelLoadError(f"{path.name} is a damaged zip archive: {e}") from e
        if is_torchscript_archive(names):
            if not trust_code:
                raise UntrustedCodeError(
                    f"{path.name} is TorchScript: a program that runs on this computer when the "
                    "model loads and runs, and could read or change your files. Load it only if "
                    "you trust where it came from (--trust-code, or confirm in Open model…)"
                )
            return _load_torchscript(path)
        return _load_state_dict(card, path)
    if head[:1] == b"\x80":  # a bare pickle (or PyTorch's legacy format, which starts with one)
        _refuse_unsafe(head, path.name)
        return _load_state_dict(card, path)
    raise ModelLoadError(
        f"{path.name} is neither a TorchScript archive (torch.jit.save) nor a PyTorch "
        "weights file (torch.save of a state dict)"
    )


def is_torchscript_archive(names: list[str]) -> bool:
    """TorchScript's layout: ``<root>/data.pkl``, ``<root>/constants.pkl`` and ``<root>/code/``."""
    return (
        any(n.endswith("/constants.pkl") or n == "constants.pkl" for n in names)
        and any(n.endswith("/data.pkl") or n == "data.pkl" for n in names)
        and any("/code/" in n or n.startswith("code/") for n in names)
    )


def _load_torchscript(path: Path) -> nn.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            net = torch.jit.load(str(path), map_location="cpu")
    except Exception as e:  # noqa: BLE001 - TorchScript raises RuntimeError and friends
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelLoadError(f"{path.name} is not a loadable TorchScript model: {first}") from e
    return net.float().eval()


def _load_state_dict(card: ModelCard, path: Path) -> nn.Module:
    import pickle

    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise ModelLoadError(
            NOT_PLAIN.format(
                name=path.name,
                why="it holds Python objects other than tensors, and PyTorch's weights-only "
                "reader refused them",
            )
        ) from e
    except Exception as e:  # noqa: BLE001 - corrupt or truncated files
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelLoadError(f"{path.name} is not a readable PyTorch weights file: {first}") from e
    state = _as_state_dict(obj)
    if state is None:
        raise ModelLoadError(
            f"{path.name} holds a {type(obj).__name__}, not a state dict of tensors. Save "
            "model.state_dict(), or export the whole model with torch.jit.save or ONNX."
        )
    net = _build_arch(card)
    apply_state(net, state, path.name)
    return net


def _as_state_dict(obj: object) -> dict[str, torch.Tensor] | None:
    """A dict of tensors, also found inside common checkpoint layouts; ``module.`` stripped."""
    if not isinstance(obj, Mapping):
        return None
    for key in ("state_dict", "model_state_dict", "model"):
        inner = obj.get(key)
        if isinstance(inner, Mapping) and inner:
            obj = inner
            break
    if not obj or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in obj.items()):
        return None
    if all(k.startswith("module.") for k in obj):  # saved from DistributedDataParallel
        obj = {k[len("module.") :]: v for k, v in obj.items()}
    return dict(obj)


# ---- pickle scan (never executes the pickle) -----------------------------------------------
_STRING_OPS = {
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
    "UNICODE",
    "SHORT_BINSTRING",
    "BINSTRING",
    "STRING",
}
_SAFE_BUILTINS = {"set", "frozenset", "slice", "complex", "bytearray", "int", "float", "bool"}


def pickle_globals(data: bytes) -> list[tuple[str, str]]:
    """The (module, name) pairs a pickle would import, read by disassembly, never by loading.

    Raises ValueError for data that is not a well-formed pickle.
    """
    found: list[tuple[str, str]] = []
    memo: dict[int, object] = {}
    recent: list[object] = []  # values pushed, as far as strings matter
    for n, (op, arg, _pos) in enumerate(pickletools.genops(data)):
        if n >= MAX_PICKLE_OPS:
            raise ValueError(f"more than {MAX_PICKLE_OPS:,} pickle operations")
        name = op.name
        if name in ("GLOBAL", "INST"):
            mod, _, attr = str(arg).partition(" ")
            found.append((mod, attr))
            recent.append(None)
        elif name == "STACK_GLOBAL":
            top = (recent[-2], recent[-1]) if len(recent) >= 2 else (None, None)
            found.append(tuple(v if isinstance(v, str) else "?" for v in top))  # type: ignore[arg-type]
            recent.append(None)
        elif name in _STRING_OPS:
            recent.append(arg if isinstance(arg, str) else None)
        elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[_memo_index(arg)] = recent[-1] if recent else None
        elif name == "MEMOIZE":
            memo[len(memo)] = recent[-1] if recent else None
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            recent.append(memo.get(_memo_index(arg)))
        else:
            recent.append(None)
    return found


def _allowed(mod: str, attr: str) -> bool:
    if mod == "__torch__" or mod.startswith("__torch__."):  # TorchScript's own classes
        return True
    if mod == "torch" or mod.startswith("torch."):  # tensor and storage rebuilding
        return True
    if mod == "collections" and attr == "OrderedDict":
        return True
    return mod in ("builtins", "__builtin__") and attr in _SAFE_BUILTINS


def _refuse_bomb(infos: list[zipfile.ZipInfo], name: str) -> None:
    """Refuse a zip whose directory promises more than the bounds, before inflating any of it."""
    total = sum(i.file_size for i in infos)
    if total > MAX_WEIGHTS_BYTES:
        raise ModelLoadError(
            f"{name} would inflate to {total / 2**30:.1f} GiB (at most "
            f"{MAX_WEIGHTS_BYTES // 2**30} GiB); not loaded"
        )
    for i in infos:
        if i.file_size > 2**20 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise ModelLoadError(
                f"{name} holds {i.filename!r}, compressed {i.file_size // max(i.compress_size, 1)}"
                " to 1 (a zip bomb?); PyTorch never compresses weights, so it was not loaded"
            )
        if i.filename.endswith(".pkl") and i.file_size > MAX_PICKLE_BYTES:
            raise ModelLoadError(
                f"{name}: {i.filename!r} is {i.file_size / 2**20:.0f} MiB of pickle (at most "
                f"{MAX_PICKLE_BYTES // 2**20} MiB); not loaded"
            )


def _refuse_unsafe(data: bytes, name: str) -> None:
    try:
        refs = pickle_globals(data)
    except Exception as e:  # noqa: BLE001 - malformed pickle
        raise ModelLoadError(
            f"{name} is not a valid weights file (damaged pickle data: {e})"
        ) from e
    bad = [f"{m}.{a}" for m, a in refs if not _allowed(m, a)]
    if bad:
        shown = ", ".join(dict.fromkeys(bad))
        raise ModelLoadError(
            NOT_PLAIN.format(
                name=name, why=f"it contains executable code (opening it would call {shown})"
            )
        )


def _memo_index(arg: object) -> int:
    """The memo slot a PUT/GET names (an int in any well-formed pickle)."""
    if not isinstance(arg, int):
        raise ValueError("a pickle memo operation without an index")
    return arg
