"""Options several commands share, defined once."""

from __future__ import annotations

import argparse


def add_trust_code(p: argparse.ArgumentParser) -> None:
    """``--trust-code``: TorchScript is a program, so it loads only when the user says so."""
    p.add_argument(
        "--trust-code",
        action="store_true",
        help="allow a TorchScript model (a program that runs on this computer)",
    )
