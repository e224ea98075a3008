"""Training and evaluation data: the simulated scanner, or a folder of images and masks.

A folder holds ``images/*.png`` and ``masks/*.png`` with matching names. A mask holds class
indices (or palette indices) in the card's class order. Class names come from
``classes.json`` / ``classes.yaml`` in the folder when present.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from .data_error import DataError
from .mask_io import read_grey, read_mask, read_rgb  # noqa: F401 - the one reading path

# Seed ranges keep training, validation and evaluation frames of the phantom apart.
PHANTOM_TRAIN_SEED = 0
PHANTOM_VAL_SEED = 5_000
PHANTOM_EVAL_SEED = 9_000


def read_class_list(folder: Path) -> list[str] | None:
    """Class names from ``classes.json`` / ``classes.yaml`` (a list of names, or of objects
    with a ``name``); None when there is no such file."""
    for name in ("classes.json", "classes.yaml", "classes.yml"):
        p = Path(folder) / name
        if not p.exists():
            continue
        try:
            text = p.read_text(encoding="utf-8")
            if p.suffix == ".json":
                data = json.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
        except Exception as e:  # noqa: BLE001 - JSON, YAML and OS errors alike
            raise DataError(f"{p}: not readable ({str(e).splitlines()[0] if str(e) else e})") from e
        if isinstance(data, dict):
            data = data.get("classes", data)
        names = [c.get("name") if isinstance(c, dict) else c for c in data or []]
        if (
            not isinstance(data, list)
            or not names
            or not all(isinstance(n, str) and n.strip() for n in names)
        ):
            raise DataError(f"{p}: must list class names (background first)")
        return [n for n in names if isinstance(n, str)]  # all of them (checked above)
    return None


def folder_pairs(folder: str | Path) -> list[tuple[Path, Path]]:
    folder = Path(folder)
    img_dir, mask_dir = folder / "images", folder / "masks"
    if not img_dir.is_dir() or not mask_dir.is_dir():
        raise DataError(f"{folder}: expected 'images/' and 'masks/' sub-folders")
    pairs = []
    for img in sorted(img_dir.glob("*.png")):
        m = mask_dir / img.name
        if m.exists():
            pairs.append((img, m))
    if not pairs:
        raise DataError(f"{folder}: no images/*.png with a matching masks/*.png")
    return pairs


def split_pairs(
    pairs: list[tuple[Path, Path]], val_fraction: float = 0.2, seed: int = 0
) -> tuple[list[tuple[Path, Path]], list[tuple[Path, Path]]]:
    """A fixed, seeded split: the same folder and seed always give the same validation set."""
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_val = max(1, int(round(len(pairs) * val_fraction)))
    val = sorted(pairs[i] for i in order[:n_val])
    train = sorted(pairs[i] for i in order[n_val:])
    return train, val


def split_three(
    pairs: list[tuple[Path, Path]],
    val_fraction: float = 0.2,
    test_fraction: float = 0.0,
    seed: int = 0,
) -> tuple[list[tuple[Path, Path]], list[tuple[Path, Path]], list[tuple[Path, Path]]]:
    """A fixed, seeded train / validation / test split (both fractions of the whole folder).

    One seeded permutation is cut in order: the test images first, then the validation
    images, the rest for training. The test images therefore depend only on the folder, the
    seed and ``test_fraction`` (never on ``val_fraction``), so changing the validation share
    never moves an image between test and training. ``test_fraction=0`` gives exactly the
    split of :func:`split_pairs` (and no test images).
    """
    if not 0.0 <= test_fraction < 1.0 or not 0.0 <= val_fraction < 1.0:
        raise ValueError("val and test fractions must each be in [0, 1)")
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_test = int(round(len(pairs) * test_fraction))
    if test_fraction > 0:
        n_test = max(1, n_test)
    n_val = max(1, int(round(len(pairs) * val_fraction)))
    if n_test + n_val >= len(pairs):
        raise DataError(
            f"{len(pairs)} images: {n_test} test + {n_val} validation leave none for training"
        )
    test = sorted(pairs[i] for i in order[:n_test])
    val = sorted(pairs[i] for i in order[n_test : n_test + n_val])
    train = sorted(pairs[i] for i in order[n_test + n_val :])
    return train, val, test


def load_pairs(
    pairs: list[tuple[Path, Path]], n_classes: int | None = None
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pictures and masks (``n_classes``: every mask value must be below it)."""
    imgs, masks = [], []
    for ip, mp in pairs:
        img, m = read_grey(ip), read_mask(mp, n_classes)
        if img.shape != m.shape:
            raise DataError(
                f"{mp}: mask is {m.shape[1]}x{m.shape[0]}, its image {img.shape[1]}x{img.shape[0]}"
            )
        imgs.append(img)
        masks.append(m)
    return imgs, masks


def phantom_set(
    n: int, seed: int, size: int, render_size: int = 512
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``n`` independent random phantom frames (all views, fluid +/-, random probe pose).

    Frames are rendered at ``render_size`` (the live picture size) and reduced to ``size``
    with the same area interpolation the segmenter uses, so training sees what inference sees.
    """
    from ..capture.phantom import phantom_samples

    imgs, masks = [], []
    for img, m in phantom_samples(seed, n, render_size):
        if size != render_size:
            img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
            m = cv2.resize(m, (size, size), interpolation=cv2.INTER_NEAREST)
        imgs.append(img)
        masks.append(m)
    return imgs, masks
