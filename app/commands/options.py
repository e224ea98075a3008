"""Options several commands share, defined once."""

from __future__ import annotations

import argparse

from ...inference.choices import ACCEL_MODES, BACKENDS


def add_backend(p: argparse.ArgumentParser) -> None:
    """``--backend``: the CPU inference backend (auto times torch against ONNX Runtime)."""
    p.add_argument(
        "--backend",
        default="auto",
        choices=BACKENDS,
        help="CPU inference backend: auto (the faster, timed on this machine), torch or onnx",
    )


def add_accel(p: argparse.ArgumentParser) -> None:
    """``--accel``: the PyTorch forward eager, through ``torch.compile``, or as a replayed
    CUDA graph; any failure falls back to eager with a note."""
    p.add_argument(
        "--accel",
        default="off",
        choices=ACCEL_MODES,
        help="PyTorch forward pass: off (eager), compile (torch.compile) or cudagraphs (CUDA "
        "only); falls back to eager with a note when it cannot run here",
    )


def add_trust_code(p: argparse.ArgumentParser) -> None:
    """``--trust-code``: TorchScript is a program, so it loads only when the user says so."""
    p.add_argument(
        "--trust-code",
        action="store_true",
        help="allow a TorchScript model (a program that runs on this computer)",
    )


def torch_segmenter(args: argparse.Namespace):  # noqa: ANN201 - a Segmenter (imports torch)
    """``--model`` on ``--device`` with the PyTorch backend, honouring ``--trust-code``: what
    ``eval`` and ``calibrate`` measure (CAM and the statistics need the PyTorch network)."""
    from ...inference.backends import make_segmenter

    return make_segmenter(
        args.model, device=args.device, backend="torch", trust_code=args.trust_code
    )
