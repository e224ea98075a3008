"""The names of the inference choices, in a module that does not import torch: the command
line lists them (``--backend``, ``--accel``) before anything heavy loads."""

from __future__ import annotations

#: what runs the network: PyTorch, ONNX Runtime, or the faster of the two timed here
BACKENDS = ("auto", "torch", "onnx")
#: the PyTorch forward: eager, ``torch.compile`` or a replayed CUDA graph (``inference.compile``)
ACCEL_MODES = ("off", "compile", "cudagraphs")
#: where a frame is preprocessed and composed (``inference.segmenter``)
ROUTES = ("host", "device")
#: the CAM methods (``inference.cam.METHODS``); the first four run live, all run in review
CAM_METHODS = ("gradcam", "gradcam++", "xgradcam", "layercam", "smoothgradcam++", "scorecam")
DEFAULT_CAM_METHOD = "layercam"
#: ``bench --cam``: a method, or auto (the app's default)
CAM_CHOICES = ("auto", *CAM_METHODS)
