"""The tracing quiz without a window: frames, Dice, the overlap picture and session records.

A quiz item is a frame, the organ to trace, and a reference mask: the dataset's mask when the
frame comes from a dataset folder, otherwise the model's mask (``reference_kind`` says which,
and the window labels it, because a model's mask is not a ground truth).
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ...models.dataset_store import atomic_write_bytes, dataset_info

#: a cell starting with one of these is a formula to a spreadsheet (CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

AGREED = (40, 200, 80)  # green: traced and in the reference
MISSED = (40, 120, 255)  # blue: in the reference, not traced
EXTRA = (240, 60, 40)  # red: traced, not in the reference
OUTLINE = (255, 255, 255)


def dice(traced: np.ndarray, reference: np.ndarray) -> float:
    """2|A∩B| / (|A|+|B|) of two boolean masks; 1.0 when both are empty."""
    a, b = traced.astype(bool), reference.astype(bool)
    total = int(a.sum()) + int(b.sum())
    if total == 0:
        return 1.0
    return 2.0 * int(np.logical_and(a, b).sum()) / total


def overlap_picture(image: np.ndarray, traced: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The frame with agreed / missed / extra pixels in three colours and the reference outline."""
    a, b = traced.astype(bool), reference.astype(bool)
    out = image[..., :3].astype(np.float32).copy()
    for sel, col in ((a & b, AGREED), (b & ~a, MISSED), (a & ~b, EXTRA)):
        out[sel] = out[sel] * 0.35 + np.array(col, np.float32) * 0.65
    out = out.astype(np.uint8)
    contours, _ = cv2.findContours(b.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, OUTLINE, 1)
    return out


@dataclass
class QuizItem:
    image: np.ndarray  # H x W x 3 RGB
    reference: np.ndarray  # H x W bool: the organ to trace
    organ: str  # the class name
    organ_display: str
    reference_kind: str  # "dataset" or "model"
    label: str  # where the frame came from (a file name and frame index)
    labels: np.ndarray | None = None  # the whole reference label map: lets one choose the organ

    def choose(self, index: int, name: str, display: str) -> None:
        """Trace another organ of this frame (needs ``labels``)."""
        if self.labels is None:
            raise ValueError("this frame has only one organ's reference")
        self.reference = self.labels == index
        self.organ, self.organ_display = name, display


@dataclass
class QuizRecord:
    student: str
    item: int
    frame: str
    organ: str
    reference: str
    dice: float
    traced_pixels: int
    reference_pixels: int
    agreed_pixels: int
    strokes: int
    time: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))


def items_from_dataset(folder: str | Path, organ: str | None = None) -> list[QuizItem]:
    """One item per frame of a dataset folder. ``organ`` None: each frame's largest organ.

    The folder is read as the other dataset commands read it (checked ``dataset.json``,
    bounded pictures, repaired after a crash); frames with a broken file are left out. Any
    problem is a :class:`DataError` with one line naming the file."""
    from ...models.datasets import DataError
    from ...models.mask_io import read_mask, read_rgb

    folder = Path(folder)
    info = dataset_info(folder)
    classes = info.classes
    names = [c["name"] for c in classes]
    if organ is not None and organ not in names[1:]:
        raise DataError(f"{folder / 'dataset.json'}: no class called '{organ}'")
    items = []
    for name in sorted(info.pixel_counts):  # the frames whose picture and mask read
        try:
            img = read_rgb(folder / "images" / name)
            m = read_mask(folder / "masks" / name, len(names))
        except DataError:
            continue  # changed since it was checked
        if organ is None:
            counts = np.bincount(m.ravel(), minlength=len(names))[1 : len(names)]
            if counts.size == 0 or counts.max() == 0:
                continue  # nothing to trace in this frame
            k = int(counts.argmax()) + 1
        else:
            k = names.index(organ)
        rec = info.images[name]
        items.append(
            QuizItem(
                img,
                m == k,
                names[k],
                classes[k].get("display", names[k]),
                "dataset",
                f"{rec.get('source') or name} #{rec.get('frame_index', 0)}",
                m,
            )
        )
    return items


def csv_safe(value: object) -> object:
    """A cell a spreadsheet shows as text: one starting like a formula gets an apostrophe
    in front (the usual CSV-injection rule); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def result_paths(chosen: str | Path) -> tuple[Path, Path]:
    """The CSV and JSON files for the name the user chose: ``class.2026-12-01.csv`` gives
    itself and ``class.2026-12-01.json``; a name without ``.csv`` gets it added (nothing
    after a dot is ever taken for a suffix and replaced)."""
    p = Path(chosen)
    if p.suffix.lower() == ".csv":
        base = p.name[: -len(p.suffix)]
        return p, p.with_name(base + ".json")
    return p.with_name(p.name + ".csv"), p.with_name(p.name + ".json")


class QuizSession:
    """N items, one student at a time; records per student and item."""

    def __init__(self, items: list[QuizItem]) -> None:
        if not items:
            raise ValueError("a quiz needs at least one frame")
        self.items = items
        self.records: list[QuizRecord] = []

    def score(self, student: str, index: int, traced: np.ndarray, strokes: int) -> QuizRecord:
        it = self.items[index]
        a, b = traced.astype(bool), it.reference
        rec = QuizRecord(
            student=student,
            item=index + 1,
            frame=it.label,
            organ=it.organ,
            reference=it.reference_kind,
            dice=round(dice(a, b), 4),
            traced_pixels=int(a.sum()),
            reference_pixels=int(b.sum()),
            agreed_pixels=int(np.logical_and(a, b).sum()),
            strokes=int(strokes),
        )
        self.records = [r for r in self.records if (r.student, r.item) != (student, index + 1)]
        self.records.append(rec)
        return rec

    def table(self) -> dict[str, dict[str, float]]:
        """student -> {"mean": mean Dice, "n": items scored, "item 1": Dice, ...}."""
        out: dict[str, dict[str, float]] = {}
        for r in sorted(self.records, key=lambda r: (r.student, r.item)):
            row = out.setdefault(r.student, {})
            row[f"item {r.item}"] = r.dice
        for row in out.values():
            vals = [v for k, v in row.items() if k.startswith("item ")]
            row["n"] = len(vals)
            row["mean"] = round(float(np.mean(vals)), 4)
        return out

    def save(self, chosen: str | Path) -> tuple[Path, Path]:
        """The CSV (one row per student and item, formula-safe cells) and the JSON (records +
        table) for the file name chosen (:func:`result_paths`)."""
        buf = io.StringIO()
        cols = list(QuizRecord.__dataclass_fields__)
        w = csv.DictWriter(buf, fieldnames=cols)
        w.writeheader()
        for r in self.records:
            w.writerow({k: csv_safe(v) for k, v in asdict(r).items()})
        csv_path, json_path = result_paths(chosen)
        atomic_write_bytes(csv_path, buf.getvalue().encode("utf-8"))
        doc = {
            "items": [
                {"frame": it.label, "organ": it.organ, "reference": it.reference_kind}
                for it in self.items
            ],
            "records": [asdict(r) for r in self.records],
            "table": self.table(),
        }
        text = json.dumps(doc, indent=1, allow_nan=False)
        atomic_write_bytes(json_path, (text + "\n").encode("utf-8"))
        return csv_path, json_path
