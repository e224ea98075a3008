"""``sonolive dataset info|split DIR``: check an annotated dataset folder, split it by source.

Opening the folder repairs what a crash left (each repair is a ``note:`` line). Every refusal
is one ``error:`` line naming the file, exit code 2; broken frames are listed, exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dataset", help="check or split a dataset folder made by the annotate tool")
    dsub = p.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    info = dsub.add_parser("info", help="counts, classes, provenance; checks every mask")
    info.add_argument("dir", type=Path)
    info.set_defaults(func=run_info)
    split = dsub.add_parser("split", help="train/val split that keeps each source on one side")
    split.add_argument("dir", type=Path)
    split.add_argument("--val", type=float, default=0.2, help="fraction of frames for validation")
    split.add_argument("--by", choices=["source"], default="source")
    split.add_argument("--seed", type=int, default=0)
    split.set_defaults(func=run_split)


def _load(folder: Path):
    from ...models.dataset_store import dataset_info
    from ...models.datasets import DataError

    try:
        info = dataset_info(folder)
    except (DataError, OSError) as e:
        fail(e)
        return None
    _notes(info.notes)
    return info


def _notes(notes: list[str], shown: int = 20) -> None:
    """The first ``shown`` notes, then how many more (a folder after a crash may have
    thousands; each is also kept in set-aside/)."""
    for note in notes[:shown]:
        print(f"note: {note}", file=sys.stderr)
    if len(notes) > shown:
        print(f"note: ... and {len(notes) - shown} more", file=sys.stderr)


def run_info(args: argparse.Namespace) -> int:
    info = _load(args.dir)
    if info is None:
        return 2
    print(f"{args.dir}: {len(info.images)} frames from {len(info.sources)} source(s)")
    totals = info.totals
    print("classes (index, name, colour, pixels):")
    for i, c in enumerate(info.classes):
        print(f"  {i}  {c['name']:<16} {tuple(c['color'])!s:<16} {totals.get(c['name'], 0)}")
    prefilled = sum(1 for r in info.images.values() if r.get("prefilled"))
    annotators = sorted({r.get("annotator") or "?" for r in info.images.values()})
    print(f"pre-filled from a model: {prefilled} of {len(info.images)}")
    print(f"annotators: {', '.join(annotators) if annotators else '-'}")
    for src, n in sorted(info.source_counts.items()):
        print(f"  source {src}: {n} frame(s)")
    for p in info.problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if info.problems else 0


def run_split(args: argparse.Namespace) -> int:
    from ...models.dataset_store import split_by_source, write_split
    from ...models.datasets import DataError

    info = _load(args.dir)
    if info is None:
        return 2
    if info.problems:
        for p in info.problems:
            print(f"error: {p}", file=sys.stderr)
        print("error: not splitting a dataset with broken files", file=sys.stderr)
        return 1
    try:
        train, val = split_by_source(info, args.val, args.seed)
        out, notes = write_split(info, train, val)
    except DataError as e:
        return fail(e)
    except OSError as e:  # a read-only folder, a full disk
        return fail(f"{args.dir}: cannot write the split ({e.strerror or e})")
    _notes(notes)
    print(f"train: {len(train)} frames -> {out['train']}")
    print(f"val:   {len(val)} frames -> {out['val']}")
    return 0
