"""Bring a dataset folder back to a consistent state after a crash (issue 29, group 6).

A save writes the picture, the mask (and edits/pre-fill), then ``dataset.json`` last; a
delete removes the files, then rewrites ``dataset.json``. Every file is renamed into place
whole, so a crash leaves at most:

* a frame's files without its entry (the save stopped before ``dataset.json``): with a
  readable picture and a matching mask the frame is **adopted** (its entry rebuilt from the
  file name); otherwise its files are **set aside** in ``set-aside/``;
* an entry whose picture or mask is gone (a delete stopped half way): the entry is set aside
  in ``set-aside/entries.json`` and its remaining files in ``set-aside/``;
* hidden ``.NAME.XXXX.tmp`` files of an interrupted write: removed (SonoLive made them).

Each repair is one note. Nothing is deleted that SonoLive did not write; a folder that cannot
be written is repaired in memory only (the notes say so).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from .atomic_file import atomic_write_bytes
from .data_error import DataError
from .dataset_manifest import MANIFEST, check_name, clean_text, json_lines
from .mask_io import read_grey, read_mask

SUBFOLDERS = ("images", "masks", "edits", "prefill")
SET_ASIDE = "set-aside"
# atomic_write_bytes's temporary names (mkstemp: 8 random characters) for the files a
# dataset holds; nothing else is ever removed
_TMP = re.compile(r"^\.(?:[^/]+\.png|dataset\.json|classes\.json|split\.json)\.[a-z0-9_]{8}\.tmp$")
_FRAME = re.compile(r"^(?P<stem>.+)_f(?P<index>\d{6,})\.png$")


def plain_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """The plain ``*.png`` files directly in ``folder`` (name -> path), and a note for each
    entry that is not one (a link, FIFO, device, folder, or a name that is not plain).
    Reads the folder once: linear in its size."""
    files: dict[str, Path] = {}
    notes: list[str] = []
    if folder.is_symlink():
        return files, [f"{folder.name}/: is a link; a dataset's folders must be plain folders"]
    if not folder.is_dir():
        return files, notes
    with os.scandir(folder) as it:
        for e in it:
            if not e.name.endswith(".png") or e.name.startswith("."):
                continue
            shown = f"{folder.name}/{clean_text(e.name)}"
            if e.is_symlink():
                notes.append(f"{shown}: is a link; ignored")
            elif not e.is_file(follow_symlinks=False):
                notes.append(f"{shown}: not a plain file; ignored")
            else:
                try:
                    files[check_name(e.name, str(folder))] = Path(e.path)
                except DataError:
                    notes.append(f"{shown}: not a plain frame name; ignored")
    return files, notes


def _temp_leftovers(folder: Path) -> list[Path]:
    out = []
    for sub in (folder, *(folder / s for s in SUBFOLDERS)):
        if sub.is_dir() and not sub.is_symlink():
            with os.scandir(sub) as it:
                out += [
                    Path(e.path)
                    for e in it
                    if _TMP.match(e.name) and e.is_file(follow_symlinks=False)
                ]
    return out


def _adoptable(folder: Path, name: str, n_classes: int) -> dict[str, Any] | None:
    """The rebuilt entry of an unlisted frame whose picture and mask read and agree."""
    try:
        img = read_grey(folder / "images" / name)
        m = read_mask(folder / "masks" / name, n_classes)
    except DataError:
        return None
    if img.shape != m.shape:
        return None
    hit = _FRAME.match(name)
    stem, index = (hit["stem"], int(hit["index"])) if hit else (name[:-4], 0)
    return {
        "source": stem,
        "opened": stem,
        "frame_index": index,
        "timestamp": 0.0,
        "roi": None,
        "size": [int(m.shape[1]), int(m.shape[0])],
        "annotator": "",
        "prefilled": False,
        "prefill_model": "",
        "changed_pixels": None,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "recovered": "adopted after an interrupted save (source taken from the file name)",
        "pixels": int(np.count_nonzero(m)),
    }


def check_layout(folder: Path, manifest: dict[str, Any]) -> None:
    """Refuse (one line) a folder whose sub-folders are links or files, or that lost
    ``images/`` or ``masks/`` while listing frames: that is no crash, and repairing it would
    set every frame aside."""
    for sub in SUBFOLDERS:
        p = folder / sub
        if p.is_symlink():
            raise DataError(f"{p}: is a link; a dataset's folders must be plain folders")
        if p.exists() and not p.is_dir():
            raise DataError(f"{p}: is a file; a dataset needs a folder here")
    for sub in ("images", "masks"):
        if manifest["images"] and not (folder / sub).is_dir():
            raise DataError(
                f"{folder / sub}: missing, but {MANIFEST} lists {len(manifest['images'])} frames"
            )


class Recovery:
    """What :func:`recover` found and did. ``write``: repairs still go to disk (it turns
    off at the first that cannot, and the rest are made in memory, each note saying so)."""

    def __init__(self, write: bool) -> None:
        self.notes: list[str] = []
        self.changed = False  # the manifest changed (adopted or set-aside entries)
        self.set_aside: dict[str, dict[str, Any]] = {}
        self.write = write

    def on_disk(self, action) -> bool:  # noqa: ANN001 - a callable doing one repair
        """Run ``action`` if repairs still go to disk; False (and no more disk repairs) when
        it cannot."""
        if self.write:
            try:
                action()
                return True
            except OSError:
                self.write = False
        return False

    def note(self, text: str, done: bool = True) -> None:
        self.notes.append(text if done else f"{text} (in memory only: not written to the folder)")


def _move_aside(folder: Path, name: str, files: dict[str, dict[str, Path]]) -> None:
    for sub in SUBFOLDERS:
        src = files[sub].get(name)
        if src is None:
            continue
        dest_dir = folder / SET_ASIDE / sub
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / name
        k = 1
        while dest.exists() or dest.is_symlink():
            k += 1
            dest = dest_dir / f"{name[:-4]}.{k}.png"
        os.replace(src, dest)


def recover(folder: Path, manifest: dict[str, Any], write: bool = True) -> Recovery:
    """Make ``manifest`` (already checked) and the files of ``folder`` agree; repairs on disk
    when ``write`` (and the folder is writable), in ``manifest`` always."""
    check_layout(folder, manifest)
    r = Recovery(write)
    files: dict[str, dict[str, Path]] = {}
    for sub in SUBFOLDERS:
        files[sub], notes = plain_files(folder / sub)
        r.notes += notes
    for tmp in _temp_leftovers(folder) if write else []:
        r.on_disk(tmp.unlink)
    images = manifest["images"]
    n_classes = len(manifest["classes"])
    listed_missing = [n for n in images if n not in files["images"] or n not in files["masks"]]
    unlisted = sorted(
        {n for sub in SUBFOLDERS for n in files[sub] if n not in images}
    )  # one pass over each folder: linear
    for name in listed_missing:
        gone = "images" if name not in files["images"] else "masks"
        r.set_aside[name] = images.pop(name)
        r.changed = True
        done = r.on_disk(lambda name=name: _move_aside(folder, name, files))
        r.note(
            f"{gone}/{name}: missing (an interrupted save or delete); its entry was set "
            f"aside in {SET_ASIDE}/entries.json",
            done,
        )
    for name in unlisted:
        rec = _adoptable(folder, name, n_classes) if name in files["images"] else None
        if rec is not None and name in files["masks"]:
            rec.pop("pixels")
            images[name] = rec
            r.changed = True
            r.note(
                f"images/{name}: saved without its entry in {MANIFEST} (an interrupted save); "
                "adopted",
                r.write,
            )
        else:
            where = next(s for s in SUBFOLDERS if name in files[s])
            done = r.on_disk(lambda name=name: _move_aside(folder, name, files))
            r.note(
                f"{where}/{name}: not listed in {MANIFEST} and not a whole frame; moved to "
                f"{SET_ASIDE}/{where}/",
                done,
            )
    if r.set_aside:
        r.on_disk(lambda: _append_entries(folder, r.set_aside))
    return r


def _append_entries(folder: Path, entries: dict[str, dict[str, Any]]) -> None:
    path = folder / SET_ASIDE / "entries.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    old: dict[str, Any] = {}
    if path.is_file() and not path.is_symlink():
        try:
            old = json.loads(path.read_text(encoding="utf-8")).get("entries", {})
        except (OSError, ValueError, RecursionError, AttributeError):
            old = {}
        old = old if isinstance(old, dict) else {}
    old.update(entries)
    atomic_write_bytes(path, json_lines({"entries": old}, "entries"))
