"""``sonolive eval``: Dice/IoU per class (and the CAM pointing game) on held-out data."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from ...models.datasets import PHANTOM_EVAL_SEED
from .errors import fail
from .options import add_trust_code, torch_segmenter


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval", help="measure a model on held-out data (Dice, IoU, CAM pointing game)"
    )
    p.add_argument("--model", required=True)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--data", type=Path, help="folder with images/*.png and masks/*.png")
    g.add_argument("--source", choices=["phantom"], help="simulated frames from held-out seeds")
    p.add_argument("--seed", type=int, default=PHANTOM_EVAL_SEED)
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--size", type=int, default=512, help="phantom frame size")
    p.add_argument(
        "--split",
        choices=["all", "val", "train", "test"],
        default="all",
        help="part of --data to use (the split of 'sonolive train' with the same --split-seed,"
        " --val-fraction and --test-fraction)",
    )
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument(
        "--test-fraction",
        type=float,
        default=0.0,
        help="share held out first as the test split (as given to 'sonolive train')",
    )
    p.add_argument(
        "--clip",
        action="store_true",
        help="with --source phantom: run the scripted scan at 30 fps and report flicker and"
        " fluid presence per view, with the live temporal filter off and on",
    )
    p.add_argument("--views", type=int, default=8, help="--clip: script views the frames span")
    p.add_argument("--cam", action="store_true", help="also score the CAM pointing game")
    p.add_argument("--cam-method", default=None)
    p.add_argument("--cam-layer", default=None)
    p.add_argument("--device", default="auto")
    add_trust_code(p)
    p.add_argument("--json", dest="json_out", type=Path, default=None)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--update-card",
        action="store_true",
        help="write these figures (and this command line) into the model's card",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ...capture.phantom import phantom_samples
    from ...inference.tools.evaluate import evaluate, format_table
    from ...models.datasets import DataError, folder_pairs, load_pairs, split_three

    if args.clip and args.source != "phantom":
        print("error: --clip needs --source phantom (a scripted scan)", file=sys.stderr)
        return 2
    try:
        seg = torch_segmenter(args)
    except Exception as e:  # noqa: BLE001 - one plain line, no traceback
        return fail(e)
    if args.clip:
        return _run_clip(args, seg)
    if args.data is not None:
        try:
            pairs = folder_pairs(args.data)
            if args.split == "test" and args.test_fraction <= 0:
                raise DataError("--split test needs the --test-fraction the model was trained with")
            if args.split != "all":
                tr, va, te = split_three(
                    pairs, args.val_fraction, args.test_fraction, args.split_seed
                )
                pairs = {"train": tr, "val": va, "test": te}[args.split]
            imgs, masks = load_pairs(pairs, seg.card.num_classes)  # indices beyond: refused
        except DataError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        samples = zip(imgs, masks, strict=True)
        where = f"{args.data} ({args.split}, {len(imgs)} images)"
    else:
        samples = phantom_samples(args.seed, args.frames, args.size)
        where = f"phantom seed {args.seed}, {args.frames} frames at {args.size}px"
    cam = None
    if args.cam:
        from ...inference.cam.engine import CamEngine

        cam = CamEngine(
            seg.torch_model, method=args.cam_method, layer=args.cam_layer, device=args.device
        )
    from tqdm import tqdm

    total = len(imgs) if args.data is not None else args.frames
    samples = tqdm(samples, total=total, desc="eval", unit="frame", disable=args.no_progress)
    res = evaluate(seg, samples, cam=cam)
    res["data"] = where
    print(format_table(res))
    if args.json_out:
        _write_json(args.json_out, res)
    if args.update_card:
        _update_card(args, res)
    return 0


def _write_json(path: Path, res: dict) -> None:
    """Strict JSON: a class absent from every frame has a ``null`` Dice, never ``NaN``."""
    from ...inference.outputs import json_bytes

    path.write_bytes(json_bytes(res, indent=2))


def _update_card(args: argparse.Namespace, res: dict, clip: bool = False) -> None:
    """Store the figures exactly as printed, with the command that produced them (a clip
    run goes under ``accuracy["clip"]`` and keeps the frame-by-frame figures)."""
    from ...models.card import ModelCard
    from ...models.registry import find_model

    folder = find_model(args.model)
    card = ModelCard.load(folder)
    command = " ".join(["sonolive", *sys.argv[1:]])
    if clip:
        clip_figures = {**res, "command": command}
        card = dataclasses.replace(card, accuracy={**(card.accuracy or {}), "clip": clip_figures})
        card.save(folder / "model.json")
        print(f"clip figures written into {folder / 'model.json'}")
        return
    keep = ("data", "frames", "per_class", "pointing_game", "pointing_game_n", "cam")
    keep += ("cam_energy_inside", "cam_mask_share")
    keep += ("in_distribution_fraction",)
    old = card.accuracy or {}
    accuracy = {k: res[k] for k in keep if k in res}
    accuracy["command"] = command
    for other in ("clip", "in_distribution"):  # figures of other commands stay
        if other in old:
            accuracy[other] = old[other]
    card = dataclasses.replace(card, accuracy=accuracy)
    card.save(folder / "model.json")
    print(f"accuracy written into {folder / 'model.json'}")


def _run_clip(args: argparse.Namespace, seg) -> int:
    from tqdm import tqdm

    from ...inference.temporal import TemporalFilter, clip_samples
    from ...inference.tools.evaluate import evaluate_clip, format_clip_table

    if args.frames < 2 or args.views < 1:
        print("error: --clip needs at least 2 frames and 1 view", file=sys.stderr)
        return 2
    where = (
        f"phantom scripted scan seed {args.seed}, {args.frames} frames at 30 fps over"
        f" {args.views} views, {args.size}px"
    )
    res: dict = {"data": where}
    for key, smoother in (("filter_off", None), ("filter_on", TemporalFilter())):
        samples = clip_samples(args.seed, args.frames, args.size, views=args.views)
        samples = tqdm(samples, total=args.frames, desc=key, unit="frame", disable=args.no_progress)
        r = evaluate_clip(seg, samples, smoother=smoother)
        print(format_clip_table(r))
        res[key] = r
    if args.json_out:
        _write_json(args.json_out, res)
    if args.update_card:
        _update_card(args, res, clip=True)
    return 0
