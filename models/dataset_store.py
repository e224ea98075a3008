"""A dataset folder written by the annotate tool, read by ``sonolive train/eval --data``.

Layout (the ``--data DIR`` format of models/datasets.py, plus provenance)::

    DIR/images/NAME.png    the ROI picture only (never the scanner's menus or patient text)
    DIR/masks/NAME.png     class indices in card order (a palette PNG: it also shows colours)
    DIR/edits/NAME.png     255 where the person changed the model's pre-fill (pre-filled only)
    DIR/prefill/NAME.png   the model's mask the person started from (pre-filled only)
    DIR/dataset.json       classes with colours; per image: source file name (not its path),
                           frame index, timestamp, ROI, annotator, pre-filled or not, time

Every file is written to a temporary name and then renamed (``os.replace``), and
``dataset.json`` is rewritten last, so a crash never leaves a half-written PNG.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .card import ClassInfo
from .datasets import DataError

FORMAT = "sonolive-dataset/1"
MANIFEST = "dataset.json"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def png_bytes(array: np.ndarray, palette: list[tuple[int, int, int]] | None = None) -> bytes:
    im = Image.fromarray(np.ascontiguousarray(array))
    if palette is not None:
        im = im.convert("P") if im.mode != "P" else im
        flat = [v for c in palette for v in c]
        im.putpalette(flat + [0] * (768 - len(flat)))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def frame_name(source: str, index: int) -> str:
    """``clip.mp4`` frame 12 -> ``clip_f000012.png`` (a file name safe on every OS)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(source).stem) or "frame"
    return f"{stem}_f{int(index):06d}.png"


@dataclass
class Sample:
    """One annotated frame and where it came from."""

    image: np.ndarray  # H x W x 3 RGB uint8, the ROI only
    mask: np.ndarray  # H x W uint8 class indices
    source: str  # file name or path of the clip; only the name is stored
    frame_index: int = 0
    timestamp: float = 0.0
    roi: tuple[int, int, int, int] | None = None
    annotator: str = ""
    prefilled: bool = False
    prefill_model: str = ""
    prefill_mask: np.ndarray | None = None  # the model's mask the person started from
    opened: str = ""  # the clip or image folder opened in review (only its name is stored)


@dataclass
class DatasetInfo:
    folder: Path
    classes: list[dict[str, Any]]
    images: dict[str, dict[str, Any]]
    pixel_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # image -> class -> n
    problems: list[str] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        out = {c["name"]: 0 for c in self.classes}
        for counts in self.pixel_counts.values():
            for k, v in counts.items():
                out[k] = out.get(k, 0) + v
        return out

    @property
    def sources(self) -> list[str]:
        return sorted({r.get("source", "") for r in self.images.values()})


class DatasetStore:
    """Create, add to, delete from and read one dataset folder."""

    def __init__(self, folder: str | Path, classes: list[ClassInfo] | None = None) -> None:
        self.folder = Path(folder)
        path = self.folder / MANIFEST
        if path.exists():
            self.manifest = read_manifest(self.folder)
        elif classes is None:
            raise DataError(f"{path}: missing (not a SonoLive dataset folder)")
        else:
            self.manifest = {
                "format": FORMAT,
                "classes": [
                    {"name": c.name, "display": c.display, "color": list(c.color)} for c in classes
                ],
                "images": {},
            }
            self._write_manifest()
            # ``sonolive train --data`` reads class names from classes.json
            names = json.dumps([c.name for c in classes]) + "\n"
            atomic_write_bytes(self.folder / "classes.json", names.encode("utf-8"))
        if classes is not None:
            have = [c["name"] for c in self.manifest["classes"]]
            want = [c.name for c in classes]
            if have != want:
                raise DataError(
                    f"{path}: this dataset has classes {have}, the model has {want}; "
                    "pick another folder"
                )

    @property
    def classes(self) -> list[dict[str, Any]]:
        return self.manifest["classes"]

    @property
    def palette(self) -> list[tuple[int, int, int]]:
        return [tuple(c["color"]) for c in self.classes]

    def names(self) -> list[str]:
        return sorted(self.manifest["images"])

    def record(self, name: str) -> dict[str, Any]:
        return self.manifest["images"][name]

    def save(self, s: Sample) -> str:
        """Write one frame (image, mask, edits) and its record; returns the file name."""
        if s.image.shape[:2] != s.mask.shape:
            raise DataError(f"image {s.image.shape[:2]} and mask {s.mask.shape} differ in size")
        if s.mask.size and int(s.mask.max()) >= len(self.classes):
            raise DataError(f"mask holds class {int(s.mask.max())}, the dataset has no such class")
        name = frame_name(s.source, s.frame_index)
        atomic_write_bytes(self.folder / "images" / name, png_bytes(s.image))
        atomic_write_bytes(self.folder / "masks" / name, png_bytes(s.mask, self.palette))
        changed = None
        if s.prefilled and s.prefill_mask is not None:
            edits = (s.mask != s.prefill_mask).astype(np.uint8) * 255
            atomic_write_bytes(self.folder / "edits" / name, png_bytes(edits))
            atomic_write_bytes(
                self.folder / "prefill" / name, png_bytes(s.prefill_mask, self.palette)
            )
            changed = int(np.count_nonzero(edits))
        else:
            for sub in ("edits", "prefill"):
                (self.folder / sub / name).unlink(missing_ok=True)
        self.manifest["images"][name] = {
            "source": Path(s.source).name,
            "opened": Path(s.opened).name if s.opened else Path(s.source).name,
            "frame_index": int(s.frame_index),
            "timestamp": round(float(s.timestamp), 4),
            "roi": list(s.roi) if s.roi is not None else None,
            "size": [int(s.mask.shape[1]), int(s.mask.shape[0])],
            "annotator": s.annotator,
            "prefilled": bool(s.prefilled),
            "prefill_model": s.prefill_model if s.prefilled else "",
            "changed_pixels": changed,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        self._write_manifest()
        return name

    def load(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The RGB image and class-index mask of one saved frame (to edit it again)."""
        from .datasets import read_mask

        with Image.open(self.folder / "images" / name) as im:
            img = np.asarray(im.convert("RGB")).copy()
        return img, read_mask(self.folder / "masks" / name)

    def load_prefill(self, name: str) -> np.ndarray | None:
        """The model's mask a pre-filled frame started from (None if drawn from nothing)."""
        from .datasets import read_mask

        p = self.folder / "prefill" / name
        return read_mask(p) if p.exists() else None

    def delete(self, name: str) -> None:
        self.manifest["images"].pop(name, None)
        self._write_manifest()
        for sub in ("images", "masks", "edits", "prefill"):
            (self.folder / sub / name).unlink(missing_ok=True)

    def _write_manifest(self) -> None:
        data = json.dumps(self.manifest, indent=1, sort_keys=False) + "\n"
        atomic_write_bytes(self.folder / MANIFEST, data.encode("utf-8"))


def read_manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise DataError(f"{path}: missing (not a SonoLive dataset folder)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: not readable JSON ({e})") from e
    if not isinstance(data, dict) or not isinstance(data.get("classes"), list):
        raise DataError(f"{path}: no 'classes' list")
    data.setdefault("images", {})
    return data


def dataset_info(folder: str | Path) -> DatasetInfo:
    """Read and check a dataset folder. Problems name the file; nothing here raises for them
    except a missing or unreadable ``dataset.json``."""
    from .datasets import read_grey, read_mask

    folder = Path(folder)
    man = read_manifest(folder)
    info = DatasetInfo(folder, man["classes"], man["images"])
    names = [c["name"] for c in info.classes]
    on_disk = sorted(p.name for p in (folder / "images").glob("*.png"))
    for name in on_disk:
        if name not in info.images:
            info.problems.append(f"images/{name}: not listed in {MANIFEST}")
    for name in sorted(info.images):
        ip, mp = folder / "images" / name, folder / "masks" / name
        if not ip.exists() or not mp.exists():
            missing = "images" if not ip.exists() else "masks"
            info.problems.append(f"{missing}/{name}: listed in {MANIFEST} but missing")
            continue
        try:
            img, m = read_grey(ip), read_mask(mp)
        except DataError as e:
            info.problems.append(f"masks/{name}: {e}")
            continue
        if img.shape != m.shape:
            info.problems.append(
                f"masks/{name}: mask is {m.shape[1]}x{m.shape[0]}, "
                f"its image is {img.shape[1]}x{img.shape[0]}"
            )
            continue
        bad = sorted(int(v) for v in np.unique(m) if v >= len(names))
        if bad:
            info.problems.append(
                f"masks/{name}: unknown class index {bad} (the dataset has {len(names)} classes)"
            )
            continue
        counts = np.bincount(m.ravel(), minlength=len(names))
        info.pixel_counts[name] = {n: int(counts[i]) for i, n in enumerate(names)}
    return info


def split_by_source(
    info: DatasetInfo, val_fraction: float = 0.2, seed: int = 0
) -> tuple[list[str], list[str]]:
    """Train/validation names such that all frames of one source clip fall on one side."""
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"--val must be between 0 and 1, got {val_fraction}")
    groups: dict[str, list[str]] = {}
    for name, rec in sorted(info.images.items()):
        groups.setdefault(rec.get("source", name), []).append(name)
    if len(groups) < 2:
        raise DataError(
            f"{info.folder}: all frames come from one source; a split by source needs two or more"
        )
    keys = sorted(groups)
    order = np.random.default_rng(seed).permutation(len(keys))
    target = val_fraction * len(info.images)
    val: list[str] = []
    # training holds one of its own frames out to choose the checkpoint: keep two for it
    # where the sources allow, one at the very least
    for keep in (2, 1):
        val = []
        for i in order:
            if val and len(val) >= target:
                break
            if len(val) + len(groups[keys[i]]) > len(info.images) - keep:
                continue
            val.extend(groups[keys[i]])
        if val:
            break
    train = sorted(n for n in info.images if n not in set(val))
    return train, sorted(val)


def write_split(info: DatasetInfo, train: list[str], val: list[str]) -> dict[str, Path]:
    """``DIR/split/train`` and ``DIR/split/val``, each a ``--data`` folder (hard links when
    the file system allows, copies otherwise), plus ``DIR/split.json`` naming the frames."""
    import shutil

    out = {}
    for part, names in (("train", train), ("val", val)):
        root = info.folder / "split" / part
        if root.exists():
            shutil.rmtree(root)
        for sub in ("images", "masks"):
            (root / sub).mkdir(parents=True)
            for n in names:
                src, dst = info.folder / sub / n, root / sub / n
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copy2(src, dst)
        (root / "classes.json").write_text(
            json.dumps([c["name"] for c in info.classes]) + "\n", encoding="utf-8"
        )
        out[part] = root
    sources = {
        part: sorted({info.images[n].get("source", "") for n in names})
        for part, names in (("train", train), ("val", val))
    }
    doc = {"by": "source", "train": train, "val": val, "sources": sources}
    atomic_write_bytes(info.folder / "split.json", (json.dumps(doc, indent=1) + "\n").encode())
    return out
