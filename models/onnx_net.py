"""Run an ONNX model through ONNX Runtime behind the ``nn.Module`` interface the Segmenter uses.

ONNX Runtime is an optional extra (``pip install 'sonolive[onnx]'``). Nothing here imports it
at module level, so the rest of SonoLive works without it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch
from torch import nn

FEATURES_OUTPUT = "features"
ONNX_EXTRA_MESSAGE = "ONNX models need the optional 'onnx' extra: pip install 'sonolive[onnx]'"


class OnnxUnavailable(ImportError):
    """onnxruntime is not installed; the message says how to install it."""


def _ort():
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise OnnxUnavailable(ONNX_EXTRA_MESSAGE) from e
    return ort


def pick_providers(device: str = "auto") -> list[str]:
    """CUDA when ONNX Runtime has it (and the caller did not ask for the CPU), else the CPU."""
    available = _ort().get_available_providers()
    if device != "cpu" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


_NP_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


class OnnxNet(nn.Module):
    """An ONNX Runtime session that takes and returns torch tensors (1 x C x H x W).

    ``model`` is the path of a ``.onnx`` file or its bytes. The session uses every graph
    optimisation, as many intra-op threads as torch does, and CUDA when available.
    """

    def __init__(
        self,
        model: str | Path | bytes,
        device: str = "auto",
        threads: int | None = None,
    ) -> None:
        super().__init__()
        ort = _ort()
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = int(threads or torch.get_num_threads())
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # idle ORT threads must not spin: they would steal the cores capture, the GUI and
        # (in the start-up probe) PyTorch need
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.log_severity_level = 3  # warnings about unused initialisers are noise to a user
        src = model if isinstance(model, (bytes, bytearray)) else str(model)
        self.session = ort.InferenceSession(src, sess_options=so, providers=pick_providers(device))
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs)
            raise ValueError(f"the ONNX model takes {len(inputs)} inputs ({names}); it needs one")
        self.input_name = inputs[0].name
        self.input_shape = list(inputs[0].shape)  # ints, or names/None for dynamic axes
        if inputs[0].type not in _NP_TYPES:
            raise ValueError(
                f"the ONNX model's input is {inputs[0].type}; it needs float or float16 pixels"
            )
        self._in_type = _NP_TYPES[inputs[0].type]
        outputs = self.session.get_outputs()
        self.output_name = outputs[0].name
        #: SonoLive's own exports also give the network's pooled features (a second output
        #: named ``features``, read by the training-data check); others give only the maps
        self.has_features = any(o.name == FEATURES_OUTPUT for o in outputs[1:])
        self.feature_layers = [FEATURES_OUTPUT] if self.has_features else None
        self._names = [self.output_name, *([FEATURES_OUTPUT] if self.has_features else [])]
        self._features = threading.local()
        self.providers = self.session.get_providers()

    def take_features(self) -> torch.Tensor | None:
        """This thread's features of the last forward pass (``1 x F``), once."""
        v = getattr(self._features, "last", None)
        self._features.last = None
        return v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        arr = x.detach().to("cpu").numpy().astype(self._in_type, copy=False)
        res = self.session.run(self._names, {self.input_name: np.ascontiguousarray(arr)})
        out = res[0]
        if self.has_features:
            self._features.last = torch.from_numpy(res[1]).float().reshape(1, -1)
        y = torch.from_numpy(out)
        if y.dtype != x.dtype or x.device.type != "cpu":
            y = y.to(x.device, x.dtype)
        return y

    def __deepcopy__(self, memo: dict) -> OnnxNet:  # a session cannot be copied; it is stateless
        return self

    def extra_repr(self) -> str:
        return f"input={self.input_name}{self.input_shape}, providers={self.providers}"
