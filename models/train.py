"""``sonolive train``: train a U-Net on the phantom or on a folder of labelled images.

One loop serves a laptop CPU, a GPU (AMP) and several GPUs or nodes through ``torchrun``
(PyTorch DDP; NCCL on CUDA, gloo on the CPU). Only rank 0 validates, prints and writes.
Checkpoints hold plain tensors and numbers, so ``--resume`` reads them with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from .augment import augment
from .card import ClassInfo, ModelCard, default_color
from .datasets import (
    PHANTOM_TRAIN_SEED,
    PHANTOM_VAL_SEED,
    folder_pairs,
    load_pairs,
    phantom_set,
    read_class_list,
    split_three,
)
from .loader import apply_state, load_model, save_model
from .losses import make_loss
from .metrics import dice_per_class
from .unet import build_network, count_parameters


@dataclass
class TrainConfig:
    out: Path
    name: str = "my-model"
    data: Path | None = None  # folder of images/masks; None = the phantom
    phantom_frames: int = 2000
    val_frames: int = 200
    val_fraction: float = 0.2
    test_fraction: float = 0.0  # held out first; never trained on nor used to choose
    split_seed: int = 0
    input_size: int = 192
    width: int = 8
    depth: int = 4
    epochs: int = 10
    batch_size: int = 8
    lr: float = 3e-3
    flip: bool = False
    aug: str = "basic"  # "basic" (gain, TGC, speckle, depth, rotation) or "strong" (+ more)
    loss: str = "dice-ce"  # see models/losses.py: dice-ce, dice-focal, tversky-focal
    overlap: str = "batch"  # the Dice/Tversky term pooled over the "batch" or per "image"
    class_weight: dict[str, float] = field(default_factory=dict)  # e.g. {"vessel": 2.0}
    init: Path | None = None  # start from these weights (matching tensors only)
    resume: bool = False
    device: str = "auto"
    seed: int = 0
    steps: int | None = None  # stop after this many optimiser steps (tests, smoke runs)
    classes: list[str] | None = None
    display: dict[str, str] = field(default_factory=dict)
    colors: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    training_data: str = ""
    simulated: bool = False
    quiet: bool = False


def _dist() -> tuple[int, int]:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _resize_set(imgs, masks, size: int):
    """Bring a folder's images to the input size; phantom frames already come at that size."""

    def fit(a, interp):
        return (
            a if a.shape[:2] == (size, size) else cv2.resize(a, (size, size), interpolation=interp)
        )

    return [fit(i, cv2.INTER_AREA) for i in imgs], [fit(m, cv2.INTER_NEAREST) for m in masks]


def _batches(imgs, masks, bs, rng, flip, rank, world, epoch, seed, strong=False):
    """This rank's batches for one epoch. The permutation is shared by all ranks (seeded by
    the epoch) and cut to a whole number of global batches, so every rank takes the same
    number of steps and DDP never waits on a rank that ran out of data."""
    per = bs * world
    order = np.random.default_rng(seed + 7919 * epoch).permutation(len(imgs))
    order = order[: (len(order) // per) * per][rank::world]
    for s in range(0, len(order) - bs + 1, bs):
        xs, ys = [], []
        for i in order[s : s + bs]:
            x, y = augment(imgs[i], masks[i], rng, flip, strong=strong)
            xs.append(x)
            ys.append(y)
        yield (
            torch.from_numpy(np.stack(xs)).float().div_(255.0)[:, None],
            torch.from_numpy(np.stack(ys)).long(),
        )


def _split_description(folder: Path, tr, va, te, cfg: TrainConfig) -> str:
    """Which images trained, validated (chose the checkpoint) and were held out for test."""

    def names(pairs) -> str:
        return ", ".join(p[0].stem for p in pairs)

    text = (
        f"{len(tr)} training / {len(va)} validation"
        + (f" / {len(te)} test" if te else "")
        + f" images from {folder.name} (seeded split, seed {cfg.split_seed}, validation "
        f"fraction {cfg.val_fraction:g}"
        + (f", test fraction {cfg.test_fraction:g}" if te else "")
        + "). The checkpoint was chosen on the validation images (best mean foreground Dice "
        "after an epoch)"
        + (", never on the test images, which were not used for training either" if te else "")
        + f". Validation: {names(va)}."
    )
    if te:
        text += f" Test: {names(te)}."
    return text + " Training: the rest."


def evaluate_arrays(net, imgs, masks, n_classes, device, bs: int = 16) -> np.ndarray:
    """Mean per-class Dice over frames on pre-resized arrays (validation during training)."""
    net.eval()
    scores = []
    with torch.inference_mode():
        for s in range(0, len(imgs), bs):
            x = torch.from_numpy(np.stack(imgs[s : s + bs])).float().div_(255.0)[:, None].to(device)
            pred = net(x).argmax(1).cpu().numpy()
            for p, m in zip(pred, masks[s : s + bs], strict=True):
                scores.append(dice_per_class(p, m, n_classes))
    net.train()
    arr = np.array(scores, dtype=np.float64)  # NaN where the class is absent in both
    if not len(arr):
        return np.zeros(n_classes)
    with warnings.catch_warnings():  # a class absent from every frame stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(arr, axis=0)


def check_config(cfg: TrainConfig) -> None:
    """Refuse settings that cannot train, in one line each (before any data is read)."""
    from .importer import model_name_problem

    for field_name, low in (("batch_size", 1), ("epochs", 1), ("input_size", 16)):
        value = getattr(cfg, field_name)
        if value < low:
            raise ValueError(
                f"--{field_name.replace('_', '-')} must be at least {low}, got {value}"
            )
    if cfg.steps is not None and cfg.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {cfg.steps}")
    if cfg.width < 1 or cfg.depth < 1:
        raise ValueError("--width and --depth must be at least 1")
    if not (math.isfinite(cfg.lr) and cfg.lr > 0):
        raise ValueError(f"--lr must be a positive number, got {cfg.lr}")
    if cfg.data is None and (cfg.phantom_frames < 1 or cfg.val_frames < 1):
        raise ValueError("--frames and --val-frames must be at least 1")
    problem = model_name_problem(cfg.name)
    if problem:
        raise ValueError(f"--name: {problem}")


def class_notes(tr_masks, va_masks, classes: list[str]) -> list[str]:
    """Refuse masks with nothing to learn; note a class seen only in the validation masks."""
    n = len(classes)
    if n < 2:
        raise ValueError(
            f"only one class ({classes[0] if classes else 'none'}): training needs the "
            "background and at least one class to find"
        )
    seen_tr = np.zeros(n, bool)
    for m in tr_masks:
        seen_tr |= np.bincount(m.ravel(), minlength=n)[:n] > 0
    if not seen_tr[1:].any():
        raise ValueError("no training mask marks any class but the background: nothing to learn")
    seen_va = np.zeros(n, bool)
    for m in va_masks:
        seen_va |= np.bincount(m.ravel(), minlength=n)[:n] > 0
    only_val = [classes[i] for i in range(1, n) if seen_va[i] and not seen_tr[i]]
    if only_val:
        return [
            f"class {', '.join(only_val)} appears only in the validation masks: the model never"
            " sees it in training and will not learn it"
        ]
    return []


def train(cfg: TrainConfig) -> dict:
    check_config(cfg)
    rank, world = _dist()
    dev = torch.device(
        cfg.device if cfg.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    )
    if dev.type == "cuda" and world > 1:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(dev)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed + 1000 * rank)

    # ---- data ------------------------------------------------------------------
    if cfg.data is not None:
        pairs = folder_pairs(cfg.data)
        tr_pairs, va_pairs, te_pairs = split_three(
            pairs, cfg.val_fraction, cfg.test_fraction, cfg.split_seed
        )
        classes = cfg.classes or read_class_list(Path(cfg.data))
        n_named = len(classes) if classes else None
        tr_imgs, tr_masks = load_pairs(tr_pairs, n_named)  # values beyond the classes refused
        va_imgs, va_masks = load_pairs(va_pairs, n_named)
        if classes is None:
            top = max(int(m.max()) for m in tr_masks + va_masks)
            classes = ["background"] + [f"class{i}" for i in range(1, top + 1)]
        data_desc = cfg.training_data or _split_description(
            Path(cfg.data), tr_pairs, va_pairs, te_pairs, cfg
        )
    else:
        from ..capture.phantom import PHANTOM_CLASSES, PHANTOM_COLORS

        classes = cfg.classes or list(PHANTOM_CLASSES)
        cfg.colors = cfg.colors or dict(PHANTOM_COLORS)
        cfg.display = cfg.display or {"fluid": "Free fluid"}
        tr_imgs, tr_masks = phantom_set(
            cfg.phantom_frames, PHANTOM_TRAIN_SEED + cfg.seed, cfg.input_size
        )
        va_imgs, va_masks = phantom_set(cfg.val_frames, PHANTOM_VAL_SEED, cfg.input_size)
        data_desc = cfg.training_data or (
            f"SIMULATED: {cfg.phantom_frames} random frames of the SonoLive phantom "
            f"(seed {PHANTOM_TRAIN_SEED + cfg.seed}); validation {cfg.val_frames} frames (seed {PHANTOM_VAL_SEED})"
        )
        cfg.simulated = True
    n_classes = len(classes)
    tr_imgs, tr_masks = _resize_set(tr_imgs, tr_masks, cfg.input_size)
    va_imgs, va_masks = _resize_set(va_imgs, va_masks, cfg.input_size)
    bad = max((int(m.max()) for m in tr_masks + va_masks if m.size), default=0)
    if bad >= n_classes:
        raise ValueError(
            f"masks hold class index {bad} but only {n_classes} classes are named: {classes}"
        )
    notes = class_notes(tr_masks, va_masks, classes)

    unknown = sorted(set(cfg.class_weight) - set(classes))
    if unknown:
        raise ValueError(f"class weight for unknown class(es) {unknown}; classes are {classes}")
    if cfg.aug not in ("basic", "strong"):
        raise ValueError(f"unknown augmentation {cfg.aug!r}; choose basic or strong")
    if cfg.overlap not in ("batch", "image"):
        raise ValueError(f"unknown overlap {cfg.overlap!r}; choose batch or image")
    weights = [float(cfg.class_weight.get(c, 1.0)) for c in classes] if cfg.class_weight else None
    loss_fn = make_loss(cfg.loss, weights, per_image=cfg.overlap == "image")

    # ---- model -------------------------------------------------------------------
    arch = {"type": "unet", "width": cfg.width, "depth": cfg.depth}
    net = build_network(arch, 1, n_classes)
    if cfg.init is not None:
        src = load_model(cfg.init).net.state_dict()
        own = net.state_dict()
        compatible = {k: v for k, v in src.items() if k in own and v.shape == own[k].shape}
        own.update(compatible)
        apply_state(net, own, str(cfg.init))
    net.to(dev)
    if dev.type == "cuda":
        net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stubs lack it
    model = DistributedDataParallel(net) if world > 1 else net
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    if len(tr_imgs) < world:
        raise ValueError(
            f"only {len(tr_imgs)} training images: need at least one per process ({world})"
        )
    if len(tr_imgs) < cfg.batch_size * world:  # a small annotated set still trains
        fitted = len(tr_imgs) // world
        if rank == 0:
            print(
                f"note: only {len(tr_imgs)} training images: batch size {cfg.batch_size} "
                f"-> {fitted}",
                flush=True,
            )
        cfg = replace(cfg, batch_size=fitted)
    steps_per_epoch = max(1, len(tr_imgs) // (cfg.batch_size * world))
    total_steps = cfg.steps or steps_per_epoch * cfg.epochs
    warm = max(1, total_steps // 20)  # linear warm-up, then cosine decay
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (
            min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total_steps)))
        ),
    )
    scaler = torch.amp.GradScaler("cuda", enabled=dev.type == "cuda")
    out = Path(cfg.out)
    ckpt = out / "checkpoint.pt"
    step, epoch, best = 0, 0, -1.0
    saved_best = (out / "best" / "model.json").is_file() and cfg.resume
    history: list[dict] = []
    if cfg.resume and ckpt.exists():
        try:
            st = torch.load(ckpt, map_location="cpu", weights_only=True)
            net.load_state_dict(st["model"])
            opt.load_state_dict(st["optim"])
            sched.load_state_dict(st["sched"])
            step, epoch, best = int(st["step"]), int(st["epoch"]), float(st["best"])
        except Exception as e:  # noqa: BLE001 - damaged, foreign or another network's
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ValueError(f"{ckpt}: cannot resume from it ({first})") from e
        rng = np.random.default_rng(cfg.seed + 1000 * rank + step)

    card = ModelCard(
        name=cfg.name,
        version=time.strftime("%Y.%m.%d"),
        classes=[
            ClassInfo(
                c,
                cfg.display.get(c, c.replace("_", " ").title()),
                _rgb(cfg.colors.get(c, default_color(i))),
            )
            for i, c in enumerate(classes)
        ],
        input_size=(cfg.input_size, cfg.input_size),
        channels=1,
        mean=[0.0],
        std=[1.0],
        arch=arch,
        training_data=data_desc,
        simulated=cfg.simulated,
        description=f"U-Net width {cfg.width}, depth {cfg.depth}, {count_parameters(net):,} parameters",
    )

    # ---- loop ----------------------------------------------------------------------
    model.train()
    bar = tqdm(
        total=total_steps, initial=step, disable=rank != 0 or cfg.quiet, desc=cfg.name, unit="step"
    )
    last_loss = math.nan
    while step < total_steps:
        for x, y in _batches(
            tr_imgs,
            tr_masks,
            cfg.batch_size,
            rng,
            cfg.flip,
            rank,
            world,
            epoch,
            cfg.seed,
            strong=cfg.aug == "strong",
        ):
            x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
            if dev.type == "cuda":
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(dev.type, dtype=torch.float16, enabled=dev.type == "cuda"):
                loss = loss_fn(model(x), y)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            step += 1
            last_loss = float(loss.detach())
            history.append({"step": step, "loss": last_loss})
            bar.update(1)
            bar.set_postfix(loss=f"{last_loss:.3f}")
            if step >= total_steps:
                break
        epoch += 1
        if rank == 0:
            val = evaluate_arrays(net, va_imgs, va_masks, n_classes, dev)
            with np.errstate(all="ignore"):
                mean_fg = float(np.nanmean(val[1:])) if np.isfinite(val[1:]).any() else -1.0
            bar.set_postfix(loss=f"{last_loss:.3f}", val_dice=f"{mean_fg:.3f}")
            history[-1]["val_dice"] = mean_fg
            out.mkdir(parents=True, exist_ok=True)
            if mean_fg > best or not saved_best:  # a model is always written
                best = max(best, mean_fg)
                save_model(net, card, out / "best")
                saved_best = True
            torch.save(
                {
                    "model": net.state_dict(),
                    "optim": opt.state_dict(),
                    "sched": sched.state_dict(),
                    "step": step,
                    "epoch": epoch,
                    "best": best,
                },
                ckpt,
            )
    bar.close()
    if rank == 0:
        save_model(net, card, out / "last")
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return {
        "steps": step,
        "best_val_dice": best,
        "history": history,
        "classes": classes,
        "world": world,
        "notes": notes,
    }


def _rgb(value: tuple[int, ...] | list[int]) -> tuple[int, int, int]:
    """A colour as three ints (a YAML config gives lists)."""
    r, g, b = value
    return int(r), int(g), int(b)
