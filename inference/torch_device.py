"""Device and dtype selection, shared by the segmenter, CAM and training, and what a GPU
failure means (:func:`gpu_failure_kind`)."""

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


# Words in RuntimeErrors that mean the GPU is unusable for now (besides running out of memory).
_LOST_WORDS = (
    "device-side",
    "cuda error",
    "lost",
    "illegal memory access",
    "unspecified launch failure",
    "cudnn_status",
    "cublas_status",
    "no cuda gpus are available",
)


def gpu_failure_kind(e: BaseException) -> str | None:
    """``"oom"`` for an out-of-memory error, ``"lost"`` for a failed or lost device, else None."""
    if isinstance(e, torch.cuda.OutOfMemoryError):
        return "oom"
    msg = str(e).lower()
    if "out of memory" in msg:
        return "oom"
    accel = getattr(torch, "AcceleratorError", RuntimeError)
    if isinstance(e, (RuntimeError, accel)) and any(w in msg for w in _LOST_WORDS):
        return "lost"
    return None


def default_dtype(device: torch.device) -> torch.dtype:
    return torch.float16 if device.type == "cuda" else torch.float32


def _usable_cores() -> tuple[int, int]:
    """(physical, logical) cores this process may run on (affinity and cgroup aware where
    the platform tells)."""
    logical = os.cpu_count() or 2
    try:
        logical = len(os.sched_getaffinity(0)) or logical
    except (AttributeError, OSError):
        pass
    physical = logical
    try:
        import psutil

        p = psutil.cpu_count(logical=False)
        total = psutil.cpu_count(logical=True) or logical
        if p and total:
            # the share of physical cores among the logical ones this process may use
            physical = max(1, round(logical * p / total))
    except Exception:  # noqa: BLE001 - psutil is optional here
        pass
    return physical, logical


def configure_cpu_threads() -> int:
    """Choose the thread counts for this machine once, at start-up; returns torch's.

    * torch intra-op threads: the physical cores (hyper-threads slow convolutions down),
      less one for capture and the GUI when there are more than four;
    * torch inter-op threads: 1 (one inference thread, one forward at a time);
    * OpenCV: as many as torch. Its resizes and blends run on the inference thread between
      forwards, never at the same time as torch's pool, so they can share the cores.

    ``SONOLIVE_THREADS`` overrides the torch count, ``SONOLIVE_CV_THREADS`` OpenCV's.
    """
    physical, _logical = _usable_cores()
    env = os.environ.get("SONOLIVE_THREADS")
    n = int(env) if env else max(1, physical - (1 if physical > 4 else 0))
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only allowed before the first parallel work; keep what is set
        pass
    cv_env = os.environ.get("SONOLIVE_CV_THREADS")
    try:
        import cv2

        cv2.setNumThreads(int(cv_env) if cv_env else n)
    except ImportError:
        pass
    return n
