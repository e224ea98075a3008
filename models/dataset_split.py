"""``sonolive dataset split``: train/validation by source clip, written as a fresh folder.

The new ``DIR/split`` is built under a hidden temporary name inside ``DIR``, then swapped in
with renames. An old ``split`` made by SonoLive is removed; anything else found there (a
folder SonoLive did not make) is kept, renamed ``split.old-<time>``, and a link or a file is
refused: nothing is deleted that SonoLive did not create, nothing written through a link.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from .atomic_file import atomic_write_bytes
from .data_error import DataError
from .dataset_manifest import check_name

MARKER = ".sonolive-split"  # inside every split folder SonoLive builds


def split_by_source(info, val_fraction: float = 0.2, seed: int = 0) -> tuple[list[str], list[str]]:
    """Train/validation names such that all frames of one source clip fall on one side.
    Linear in the number of frames."""
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"--val must be between 0 and 1, got {val_fraction}")
    if not 0 <= seed < 2**63:
        raise DataError(f"--seed must be a whole number from 0, got {seed}")
    groups: dict[str, list[str]] = defaultdict(list)
    for name, rec in sorted(info.images.items()):
        groups[rec.get("source") or name].append(name)
    if len(groups) < 2:
        raise DataError(
            f"{info.folder}: all frames come from one source; a split by source needs two or more"
        )
    keys = sorted(groups)
    order = np.random.default_rng(seed).permutation(len(keys))
    total = len(info.images)
    target = val_fraction * total
    val: list[str] = []
    # training holds one of its own frames out to choose the checkpoint: keep two for it
    # where the sources allow, one at the very least
    for keep in (2, 1):
        val = []
        for i in order:
            if val and len(val) >= target:
                break
            if len(val) + len(groups[keys[i]]) > total - keep:
                continue
            val.extend(groups[keys[i]])
        if val:
            break
    in_val = set(val)
    train = sorted(n for n in info.images if n not in in_val)
    return train, sorted(val)


def _ours(folder: Path) -> bool:
    """A split folder SonoLive made: the marker, or (older versions) exactly train/ and val/
    holding images/, masks/ and classes.json, with plain files only."""
    if (folder / MARKER).is_file():
        return True
    try:
        if sorted(os.listdir(folder)) != ["train", "val"]:
            return False
        for part in ("train", "val"):
            root = folder / part
            if root.is_symlink() or sorted(os.listdir(root)) != ["classes.json", "images", "masks"]:
                return False
            for sub in ("images", "masks"):
                d = root / sub
                if d.is_symlink() or not d.is_dir():
                    return False
                with os.scandir(d) as it:
                    if any(not e.is_file(follow_symlinks=False) for e in it):
                        return False
    except OSError:
        return False
    return True


def _build(info, tmp: Path, train: list[str], val: list[str]) -> None:
    names = json.dumps([c["name"] for c in info.classes]) + "\n"
    for part, frames in (("train", train), ("val", val)):
        root = tmp / part
        for sub in ("images", "masks"):
            (root / sub).mkdir(parents=True)
            for n in frames:
                check_name(n)
                src, dst = info.folder / sub / n, root / sub / n
                try:
                    os.link(src, dst, follow_symlinks=False)
                except OSError:
                    shutil.copyfile(src, dst, follow_symlinks=False)
        (root / "classes.json").write_text(names, encoding="utf-8")
    (tmp / MARKER).write_text("made by sonolive dataset split\n", encoding="utf-8")


def write_split(info, train: list[str], val: list[str]) -> tuple[dict[str, Path], list[str]]:
    """``DIR/split/train`` and ``DIR/split/val``, each a ``--data`` folder (hard links when
    the file system allows, copies otherwise), plus ``DIR/split.json`` naming the frames.
    Returns the two folders and notes (an old folder kept aside)."""
    folder = Path(info.folder)
    dest = folder / "split"
    if dest.is_symlink():
        raise DataError(f"{dest}: is a link; move it away (SonoLive writes no split through it)")
    if dest.exists() and not dest.is_dir():
        raise DataError(f"{dest}: is a file, not a split folder; move it away first")
    notes: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix=".split-new-", dir=folder))
    try:
        _build(info, tmp, train, val)
        if dest.is_dir():
            old = Path(tempfile.mkdtemp(prefix=".split-old-", dir=folder))
            os.rename(dest, old / "split")
            os.rename(tmp, dest)
            if _ours(old / "split"):
                shutil.rmtree(old)
            else:
                kept = folder / f"split.old-{time.strftime('%Y%m%d-%H%M%S')}"
                os.rename(old / "split", kept)
                old.rmdir()
                notes.append(f"{dest}: was not made by SonoLive; kept as {kept.name}")
        else:
            os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    sources = {
        part: sorted({info.images[n].get("source", "") for n in names})
        for part, names in (("train", train), ("val", val))
    }
    doc = {"by": "source", "train": train, "val": val, "sources": sources}
    atomic_write_bytes(folder / "split.json", (json.dumps(doc, indent=1) + "\n").encode())
    return {"train": dest / "train", "val": dest / "val"}, notes
