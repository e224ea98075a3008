"""The ``sonolive`` command: the app by default, plus headless subcommands.

Subcommands live in ``app/commands/`` (one module each, Qt-free); only the app itself
imports Qt, and only when it starts.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..models.registry import DEFAULT_MODEL

COMMANDS = ("bench", "eval", "train", "process", "phantom", "import_model", "dataset")


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
    p.add_argument("--backend", default="auto", help="auto, torch or onnx (CPU inference)")
    p.add_argument("--mode", default=None, help="bedside, teaching or review")
    p.add_argument("--lang", default=None, help="user-interface language, e.g. zh_TW")
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
    args = build_parser().parse_args(argv)
    if args.command is None:
        from .gui import run_gui

        return run_gui(args)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
