"""Device and dtype selection, shared by the segmenter, CAM and training."""

from __future__ import annotations

import os

import torch


def pick_device(want: str = "auto") -> torch.device:
    """``auto`` means CUDA when a GPU is present, else the CPU."""
    if want == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(want)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("CUDA was requested but no CUDA GPU is available")
    return dev


def default_dtype(device: torch.device) -> torch.dtype:
    return torch.float16 if device.type == "cuda" else torch.float32


def configure_cpu_threads() -> int:
    """Use the physical cores for intra-op work; leave one for capture and the GUI when
    there are many. Chosen per machine at start-up; ``SONOLIVE_THREADS`` overrides."""
    env = os.environ.get("SONOLIVE_THREADS")
    n = int(env) if env else max(1, (os.cpu_count() or 2) - (1 if (os.cpu_count() or 2) > 4 else 0))
    torch.set_num_threads(n)
    return n
