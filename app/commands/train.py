"""``sonolive train``: train a U-Net on the phantom or on labelled images (torchrun for DDP)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a segmentation model (phantom or --data DIR)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--data", type=Path, help="folder with images/*.png and masks/*.png")
    g.add_argument("--source", choices=["phantom"], help="generate simulated FAST frames")
    p.add_argument("--out", type=Path, required=True, help="folder for checkpoints and the model")
    p.add_argument("--name", default="my-model")
    p.add_argument("--frames", type=int, default=2000, help="phantom training frames")
    p.add_argument("--val-frames", type=int, default=200)
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument(
        "--test-fraction",
        type=float,
        default=0.0,
        help="share of --data held out first as a test split: never trained on and never used"
        " to choose the checkpoint (default 0: no test split, the old train/val split)",
    )
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--input-size", type=int, default=192)
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--flip", action="store_true", help="allow left-right flips")
    p.add_argument(
        "--aug",
        choices=["basic", "strong"],
        default="basic",
        help="augmentation: basic = gain, TGC, speckle, depth crop, rotation (default);"
        " strong = basic + blur, shadows, motion blur, contrast/gamma, elastic warp and scale",
    )
    p.add_argument(
        "--loss",
        choices=["dice-ce", "dice-focal", "tversky-focal"],
        default="dice-ce",
        help="dice-ce = cross-entropy + soft Dice (default); dice-focal = focal + soft Dice;"
        " tversky-focal = focal + Tversky (misses cost more than extra pixels)",
    )
    p.add_argument(
        "--overlap",
        choices=["batch", "image"],
        default="batch",
        help="the loss's Dice/Tversky term pooled over the batch (default) or computed per"
        " image and averaged, as eval's per-image Dice is (a missed small structure costs"
        " as much as a large one)",
    )
    p.add_argument(
        "--class-weight",
        action="append",
        default=[],
        metavar="CLASS=W",
        help="weight a class in the loss, e.g. vessel=2 (repeat for more; default 1 each)",
    )
    p.add_argument(
        "--init", default=None, help="start from a model's weights (a model name or folder)"
    )
    p.add_argument("--resume", action="store_true")
    p.add_argument("--classes", default=None, help="comma list of class names (background first)")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ...models.datasets import DataError
    from ...models.loader import ModelLoadError
    from ...models.registry import find_model
    from ...models.train import TrainConfig, train
    from .errors import fail

    try:
        init = find_model(args.init) if args.init else None  # a registry name, as --model
    except KeyError as e:
        return fail(e)
    try:
        weights = _class_weights(args.class_weight)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    cfg = TrainConfig(
        out=args.out,
        name=args.name,
        data=args.data,
        phantom_frames=args.frames,
        val_frames=args.val_frames,
        val_fraction=args.val_fraction,
        test_fraction=args.test_fraction,
        split_seed=args.split_seed,
        input_size=args.input_size,
        width=args.width,
        depth=args.depth,
        epochs=args.epochs,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        flip=args.flip,
        aug=args.aug,
        loss=args.loss,
        overlap=args.overlap,
        class_weight=weights,
        init=init,
        resume=args.resume,
        classes=args.classes.split(",") if args.classes else None,
        device=args.device,
        seed=args.seed,
        quiet=args.quiet,
    )
    try:
        res = train(cfg)
    except (DataError, ValueError, ModelLoadError) as e:
        return fail(e)
    except OSError as e:  # an output folder that cannot be written
        return fail(f"{e.filename or args.out}: {e.strerror or e}")
    if res["world"] == 1 or __import__("os").environ.get("RANK", "0") == "0":
        for note in res.get("notes", []):
            print(f"note: {note}", file=sys.stderr)
        if not (args.out / "best" / "model.json").is_file():
            return fail(f"{args.out}: training ended without writing a model", 1)
        print(
            f"done: {res['steps']} steps on {res['world']} process(es), best validation Dice "
            f"{res['best_val_dice']:.3f}; model in {args.out}/best"
        )
        _reference_statistics(args)
    return 0


def _class_weights(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        for part in item.split(","):
            name, sep, value = part.partition("=")
            try:
                w = float(value)
            except ValueError:
                w = -1.0
            if not sep or not name.strip() or w < 0:
                raise ValueError(f"--class-weight wants CLASS=WEIGHT (e.g. vessel=2), got {part!r}")
            out[name.strip()] = w
    return out


def _train_pictures(args: argparse.Namespace):
    """The training split's images, each also mirrored (as training with --flip sees them):
    the same split the run trained on, test images (--test-fraction) left out."""
    from ...models.datasets import folder_pairs, read_grey, split_three

    tr, _va, _te = split_three(
        folder_pairs(args.data), args.val_fraction, args.test_fraction, args.split_seed
    )
    for ip, _ in tr:
        img = read_grey(ip)
        yield img
        yield img[:, ::-1].copy()


def _reference_statistics(args: argparse.Namespace) -> None:
    """Write the training data's reference statistics next to the new weights (the app's
    "unlike the training data" check); a failure here never fails the training."""
    from ...inference.gate.calibrate import calibrate, phantom_pictures
    from ...inference.segmenter import Segmenter
    from ...models.loader import load_model

    best = args.out / "best"
    try:
        seg = Segmenter(load_model(best), device="cpu")
        if args.data is not None:
            pics = _train_pictures(args)
            where = f"{args.data} (train split, each image and its mirror)"
        else:
            n = min(args.frames, 1200)
            pics = phantom_pictures(args.seed, n)
            where = f"phantom seed {args.seed}, {n} frames at 512px"
        ref = calibrate(seg, pics, data=where, command=" ".join(["sonolive", *sys.argv[1:]]))
        print(f"reference statistics: {ref.save(best)}")
    except Exception as e:  # noqa: BLE001 - the model is saved; only the check is missing
        print(
            f"note: no reference statistics written ({e}); "
            f"run 'sonolive calibrate --model {best}' before using it",
            file=sys.stderr,
        )
