"""``sonolive calibrate``: reference statistics that tell the app when a picture is unlike the
model's training data (stored as ``reference.json`` in the model's folder)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...models.datasets import PHANTOM_TRAIN_SEED
from .errors import fail
from .options import add_trust_code, torch_segmenter


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate", help="training-data statistics for the 'unlike the training data' check"
    )
    p.add_argument("--model", required=True, help="model name or folder (any format)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--data", type=Path, help="the training folder (images/*.png + masks/*.png)")
    g.add_argument("--source", choices=["phantom"], help="simulated frames (the FAST models)")
    p.add_argument("--seed", type=int, default=PHANTOM_TRAIN_SEED, help="phantom seed")
    p.add_argument("--frames", type=int, default=1200, help="phantom frames")
    p.add_argument("--size", type=int, default=512, help="phantom frame size")
    p.add_argument("--split", choices=["all", "val", "train"], default="train")
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument(
        "--false-alarm-rate",
        type=float,
        default=0.01,
        help="share of training-like frames that may be flagged (default 0.01)",
    )
    p.add_argument("--device", default="cpu")
    add_trust_code(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ...inference.gate.calibrate import calibrate, folder_pictures, phantom_pictures
    from ...models.datasets import DataError

    if not 0 < args.false_alarm_rate < 0.5:
        print(
            f"error: --false-alarm-rate must be between 0 and 0.5, not {args.false_alarm_rate}",
            file=sys.stderr,
        )
        return 2
    try:
        seg = torch_segmenter(args)
    except Exception as e:  # noqa: BLE001 - one plain line, no traceback
        return fail(e)
    if args.data is not None:
        pics = folder_pictures(args.data, args.split, args.split_seed, args.val_fraction)
        where = f"{args.data} ({args.split} split, each image and its mirror)"
    else:
        pics = phantom_pictures(args.seed, args.frames, args.size)
        where = f"phantom seed {args.seed}, {args.frames} frames at {args.size}px"
    command = " ".join(["sonolive", *sys.argv[1:]])
    try:
        ref = calibrate(
            seg, pics, false_alarm_rate=args.false_alarm_rate, data=where, command=command
        )
    except (DataError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    folder = Path(seg.torch_model.path)
    try:
        path = ref.save(folder)  # atomic: a fresh file renamed over the old one (or a link)
    except (OSError, ValueError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        print(f"error: cannot write {folder / 'reference.json'}: {why}", file=sys.stderr)
        return 2
    print(
        f"{seg.card.name}: reference statistics from {ref.frames} frames ({where}); "
        f"score: {ref.kind}; threshold {ref.threshold:.3f} flags "
        f"{ref.false_alarm_rate:.0%} of them -> {path}"
    )
    return 0
