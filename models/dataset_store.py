"""A dataset folder written by the annotate tool, read by ``sonolive train/eval --data``.

Layout (the ``--data DIR`` format of models/datasets.py, plus provenance)::

    DIR/images/NAME.png    the ROI picture only (never the scanner's menus or patient text)
    DIR/masks/NAME.png     class indices in card order (a palette PNG: it also shows colours)
    DIR/edits/NAME.png     255 where the person changed the model's pre-fill (pre-filled only)
    DIR/prefill/NAME.png   the model's mask the person started from (pre-filled only)
    DIR/dataset.json       classes with colours; per image: source file name (not its path),
                           frame index, timestamp, ROI, annotator, pre-filled or not, time

Every file is written to a temporary name and then renamed (``os.replace``), and
``dataset.json`` is rewritten last, so a crash never leaves a half-written PNG; opening the
folder again repairs what a crash between two files left (:mod:`.dataset_recover`). A save
and a repair hold the folder's lock, so they never run at once. ``dataset.json`` is read as
untrusted input (:mod:`.dataset_manifest`): frame names are plain file names, files are plain
files (no links), so nothing outside the folder is read, written or deleted.
"""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .atomic_file import atomic_write_bytes
from .card import ClassInfo
from .data_error import DataError
from .dataset_manifest import FORMAT, MANIFEST, check_name, clean_text, manifest_bytes
from .dataset_manifest import read_manifest as _read_checked
from .dataset_recover import SUBFOLDERS, recover
from .dataset_split import split_by_source, write_split
from .file_lock import FolderLock
from .mask_io import read_mask, read_rgb

__all__ = ["FORMAT", "MANIFEST", "DataError", "DatasetStore", "Sample", "atomic_write_bytes"]
__all__ += ["dataset_info", "read_manifest", "split_by_source", "write_split"]


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
    """``clip.mp4`` frame 12 -> ``clip_f000012.png`` (a file name safe on every OS: no
    separator, not hidden, at most 120 characters of the clip's name)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(source).stem).lstrip(".")[:120] or "frame"
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
    notes: list[str] = field(default_factory=list)  # repairs after a crash, ignored files

    @property
    def totals(self) -> dict[str, int]:
        out = {c["name"]: 0 for c in self.classes}
        for counts in self.pixel_counts.values():
            for k, v in counts.items():
                out[k] = out.get(k, 0) + v
        return out

    @property
    def sources(self) -> list[str]:
        return sorted(self.source_counts)

    @property
    def source_counts(self) -> dict[str, int]:
        """Frames per source clip (one pass over the frames)."""
        out: dict[str, int] = {}
        for r in self.images.values():
            src = r.get("source", "")
            out[src] = out.get(src, 0) + 1
        return out


class DatasetStore:
    """Create, add to, delete from and read one dataset folder."""

    def __init__(self, folder: str | Path, classes: list[ClassInfo] | None = None) -> None:
        self.folder = Path(folder)
        self.notes: list[str] = []  # what opening the folder repaired (after a crash)
        path = self.folder / MANIFEST
        if path.exists() or path.is_symlink():
            self.manifest = _read_checked(self.folder)
            self.notes = _repair(self.folder, self.manifest)
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
        return self.manifest["images"][check_name(name)]

    def save(self, s: Sample) -> str:
        """Write one frame (image, mask, edits) and its record; returns the file name."""
        with FolderLock(self.folder):
            return self._save(s)

    def _save(self, s: Sample) -> str:
        if s.image.shape[:2] != s.mask.shape:
            raise DataError(f"image {s.image.shape[:2]} and mask {s.mask.shape} differ in size")
        if s.mask.size and int(s.mask.max()) >= len(self.classes):
            raise DataError(f"mask holds class {int(s.mask.max())}, the dataset has no such class")
        name = check_name(frame_name(s.source, s.frame_index))
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
            "source": clean_text(Path(s.source).name),
            "opened": clean_text(Path(s.opened).name if s.opened else Path(s.source).name),
            "frame_index": int(s.frame_index),
            "timestamp": round(float(s.timestamp), 4),
            "roi": list(s.roi) if s.roi is not None else None,
            "size": [int(s.mask.shape[1]), int(s.mask.shape[0])],
            "annotator": clean_text(s.annotator),
            "prefilled": bool(s.prefilled),
            "prefill_model": clean_text(s.prefill_model) if s.prefilled else "",
            "changed_pixels": changed,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        self._write_manifest()
        return name

    def load(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The RGB image and class-index mask of one saved frame (to edit it again)."""
        check_name(name)
        mask = read_mask(self.folder / "masks" / name, len(self.classes))
        return read_rgb(self.folder / "images" / name), mask

    def load_prefill(self, name: str) -> np.ndarray | None:
        """The model's mask a pre-filled frame started from (None if drawn from nothing)."""
        p = self.folder / "prefill" / check_name(name)
        return read_mask(p, len(self.classes)) if p.exists() else None

    def delete(self, name: str) -> None:
        """Remove one frame: its files first, then its entry (a crash in between leaves an
        entry without its picture, which the next opening sets aside)."""
        check_name(name)
        with FolderLock(self.folder):
            for sub in SUBFOLDERS:
                p = self.folder / sub / name
                if p.is_symlink() or p.is_file():
                    p.unlink()
            self.manifest["images"].pop(name, None)
            self._write_manifest()

    def _write_manifest(self) -> None:
        atomic_write_bytes(self.folder / MANIFEST, manifest_bytes(self.manifest))


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The checked ``dataset.json`` (see :mod:`.dataset_manifest`)."""
    return _read_checked(folder)


def _repair(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Repair ``folder`` after a crash (on disk when it can take the lock and write, in
    ``manifest`` always); the notes say what was done."""
    lock = FolderLock(folder, blocking=False)
    try:
        lock.acquire()
    except OSError:  # read-only, or another process is saving: repair in memory only
        return recover(folder, manifest, write=False).notes
    try:
        r = recover(folder, manifest, write=True)
        if r.changed and r.write:
            try:
                atomic_write_bytes(folder / MANIFEST, manifest_bytes(manifest))
            except OSError as e:
                r.notes.append(f"{folder / MANIFEST}: repair not saved ({e.strerror or e})")
        elif r.changed:
            r.notes.append(f"{folder}: not writable; the repairs above hold for this run only")
        return r.notes
    finally:
        lock.release()


def dataset_info(folder: str | Path) -> DatasetInfo:
    """Read and check a dataset folder, repairing what a crash left. Problems name the file;
    only an unusable ``dataset.json`` raises (:class:`DataError`). Linear in the frames."""
    from .mask_io import read_grey

    folder = Path(folder)
    man = _read_checked(folder)
    notes = _repair(folder, man)
    info = DatasetInfo(folder, man["classes"], man["images"], notes=notes)
    names = [c["name"] for c in info.classes]
    for name in sorted(info.images):
        ip, mp = folder / "images" / name, folder / "masks" / name
        try:
            img, m = read_grey(ip), read_mask(mp, len(names))
        except DataError as e:
            info.problems.append(str(e))
            continue
        if img.shape != m.shape:
            info.problems.append(
                f"{mp}: mask is {m.shape[1]}x{m.shape[0]}, "
                f"its image is {img.shape[1]}x{img.shape[0]}"
            )
            continue
        counts = np.bincount(m.ravel(), minlength=len(names))
        info.pixel_counts[name] = {n: int(counts[i]) for i, n in enumerate(names)}
    return info
