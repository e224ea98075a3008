"""The ``sonolive`` command: the app by default, plus headless subcommands.

Subcommands live in ``app/commands/`` (one module each, Qt-free); only the app itself
imports Qt, and only when it starts.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from ..models.registry import DEFAULT_MODEL
from .commands.options import add_accel, add_backend, add_trust_code
from .modes import MODES

TRANSLATIONS = Path(__file__).resolve().parent.parent / "resources" / "translations"


def languages() -> list[str]:
    """English (built in) and every language with a compiled translation."""
    return ["en", *sorted(q.stem.removeprefix("sonolive_") for q in TRANSLATIONS.glob("*.qm"))]


COMMANDS = (
    "bench",
    "eval",
    "train",
    "process",
    "phantom",
    "import_model",
    "calibrate",
    "dataset",
    "send",
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sonolive",
        description="SonoLive: real-time ultrasound organ segmentation. Not for diagnostic use.",
    )
    p.add_argument(
        "--source", default="phantom", help="phantom, a clip path, a URL or device:<name>"
    )
    p.add_argument(
        "--model", default=DEFAULT_MODEL, help="model name or model folder ('none' for no overlay)"
    )
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    add_backend(p)
    add_accel(p)
    p.add_argument("--mode", default=None, choices=MODES, help="the window's mode")
    p.add_argument("--lang", default=None, choices=languages(), help="user-interface language")
    add_trust_code(p)
    p.add_argument("--screenshot", default=None, help=argparse.SUPPRESS)  # PNG after --quit-after
    p.add_argument("--quit-after", type=float, default=None, help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as e:
            if e.name and e.name.endswith(f"commands.{name}"):
                continue
            raise
        mod.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    from .shutdown import finish, running_idents

    host = running_idents()  # when called in-process (tests), leave the host's threads alone
    args = build_parser().parse_args(argv)
    if args.command is None:
        from .gui import run_gui

        rc = run_gui(args)
    else:
        rc = int(args.func(args) or 0)
    return finish(rc, exclude=host, hard_exit=argv is None)  # no worker left inside torch


if __name__ == "__main__":
    sys.exit(main())
