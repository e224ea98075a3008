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

# Seed ranges keep training, validation and evaluation frames of the phantom apart.
PHANTOM_TRAIN_SEED = 0
PHANTOM_VAL_SEED = 5_000
PHANTOM_EVAL_SEED = 9_000


class DataError(ValueError):
    """A data folder is unusable; the message says what is wrong."""


def read_class_list(folder: Path) -> list[str] | None:
    for name in ("classes.json", "classes.yaml", "classes.yml"):
        p = folder / name
        if p.exists():
            text = p.read_text(encoding="utf-8")
            if p.suffix == ".json":
                data = json.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
            if isinstance(data, dict):
                data = data.get("classes", data)
            return [c if isinstance(c, str) else c["name"] for c in data]
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


def read_mask(path: Path) -> np.ndarray:
    """Class indices from a grey or palette PNG (palette PNGs keep their indices)."""
    from PIL import Image

    with Image.open(path) as im:
        if im.mode == "P" or im.mode == "L":
            return np.asarray(im, dtype=np.uint8).copy()
        if im.mode in ("I", "I;16"):
            return np.asarray(im).astype(np.uint8)
        raise DataError(
            f"{path.name}: mask must be a grey or palette PNG holding class indices, not {im.mode}"
        )


def read_grey(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise DataError(f"{path.name}: not a readable image")
    return img


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


def load_pairs(pairs: list[tuple[Path, Path]]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    imgs, masks = [], []
    for ip, mp in pairs:
        img, m = read_grey(ip), read_mask(mp)
        if img.shape != m.shape:
            raise DataError(f"{ip.name}: image {img.shape} and mask {m.shape} differ in size")
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
