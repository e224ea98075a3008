"""``sonolive phantom export|gallery``: simulated clips and masks to disk, and the views
gallery (the work is in ``capture/phantom_export.py``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...capture.phantom_export import export_phantom, make_gallery


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``phantom export`` (and ``phantom gallery``) to the main CLI's subparsers."""
    p = subparsers.add_parser("phantom", help="simulated scanner tools")
    sub = p.add_subparsers(dest="phantom_cmd", metavar="{export,gallery}")
    sub.required = True
    e = sub.add_parser("export", help="write simulated frames, masks and a clip to disk")
    e.add_argument("--out", required=True, type=Path, help="output folder")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--frames", type=int, default=300)
    e.add_argument("--size", type=int, default=512)
    e.add_argument("--fps", type=float, default=30.0)
    e.add_argument(
        "--random", action="store_true", help="independent random frames instead of the script"
    )
    e.add_argument("--no-clip", action="store_true", help="skip clip.mp4")
    e.set_defaults(func=run, phantom_cmd="export")
    g = sub.add_parser("gallery", help="save a 2x4 PNG of the four views and their masks")
    g.add_argument("--out", required=True, type=Path, help="PNG path")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--size", type=int, default=512)
    g.set_defaults(func=run, phantom_cmd="gallery")
    return p


def run(args: argparse.Namespace) -> int:
    """Dispatch ``phantom`` subcommands; returns a process exit code."""
    try:
        if getattr(args, "phantom_cmd", "export") == "gallery":
            print(make_gallery(args.out, seed=args.seed, size=args.size))
            return 0
        out = export_phantom(
            args.out,
            seed=args.seed,
            frames=args.frames,
            size=args.size,
            fps=args.fps,
            clip=not args.no_clip,
            random_frames=args.random,
        )
    except (OSError, ValueError) as exc:
        print(f"phantom export failed: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


__all__ = ["register", "run"]
