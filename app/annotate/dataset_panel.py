"""The frames annotated so far: thumbnails, per-class pixel counts, reopen, delete, jump.

The folder is read on the annotate panel's I/O thread; this widget only shows the result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...models.dataset_store import DatasetInfo, dataset_info
from .panel import AnnotatePanel

THUMB = 96


def _thumbnail(folder: Path, name: str, palette: list[tuple[int, int, int]]) -> np.ndarray:
    """The image with its mask blended in, ``THUMB`` pixels on the long side (RGB)."""
    import cv2

    from ...models.mask_io import read_mask, read_rgb

    img = read_rgb(folder / "images" / name)
    m = read_mask(folder / "masks" / name, len(palette))
    lut = np.array(palette + [(255, 0, 255)] * (256 - len(palette)), np.uint8)
    blend = np.where(m[..., None] > 0, (img * 0.5 + lut[m] * 0.5).astype(np.uint8), img)
    s = THUMB / max(img.shape[:2])
    size = (max(1, int(img.shape[1] * s)), max(1, int(img.shape[0] * s)))
    return np.ascontiguousarray(cv2.resize(blend, size, interpolation=cv2.INTER_AREA))


def load_listing(folder: Path) -> tuple[DatasetInfo, dict[str, np.ndarray]]:
    info = dataset_info(folder)
    palette = [tuple(c["color"]) for c in info.classes]
    thumbs = {}
    for name in info.pixel_counts:
        thumbs[name] = _thumbnail(folder, name, palette)
    return info, thumbs


class DatasetPanel(QWidget):
    """Signals: ``jumpRequested(opened_name, frame_index)``: the clip or image folder's name."""

    jumpRequested = Signal(str, int)  # noqa: N815
    listed = Signal(int)  # number of frames shown, after each refresh

    def __init__(self, annotate: AnnotatePanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.annotate = annotate
        self.info: DatasetInfo | None = None
        self.title = QLabel(self.tr("No dataset folder yet"), self)
        # the pixel counts wrap: a long line must not widen the side panel
        self.title.setWordWrap(True)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setMinimumWidth(1)
        self.list = QListWidget(self)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.itemDoubleClicked.connect(lambda _i: self.reopen())
        self.reopen_button = QPushButton(self.tr("Reopen to edit"), self)
        self.delete_button = QPushButton(self.tr("Delete"), self)
        self.jump_button = QPushButton(self.tr("Go to source frame"), self)
        self.reopen_button.clicked.connect(self.reopen)
        self.delete_button.clicked.connect(self.delete)
        self.jump_button.clicked.connect(self.jump)
        buttons = QHBoxLayout()
        for b in (self.reopen_button, self.jump_button, self.delete_button):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.list, 1)
        lay.addLayout(buttons)
        annotate.datasetChanged.connect(self.refresh)

    def selected(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def refresh(self) -> None:
        store = self.annotate.store
        if store is None:
            return
        folder = store.folder
        self.annotate.run_io(lambda: load_listing(folder), self._show)

    def _show(self, res: tuple[DatasetInfo, dict[str, np.ndarray]]) -> None:
        info, thumbs = res
        self.info = info
        keep = self.selected()
        self.list.clear()
        totals = info.totals
        names = [c["name"] for c in info.classes]
        self.title.setText(
            self.tr("%1: %2 frames")
            .replace("%1", info.folder.name)
            .replace("%2", str(len(info.images)))
            + "\n"
            + ", ".join(f"{n} {totals.get(n, 0)} px" for n in names[1:])
        )
        for name in sorted(info.images):
            rec = info.images[name]
            counts = info.pixel_counts.get(name)
            if counts is None:
                text = f"{name}\n" + self.tr("broken: see 'sonolive dataset info'")
            else:
                text = f"{rec.get('source', '')} #{rec.get('frame_index', 0)}\n" + ", ".join(
                    f"{n} {counts[n]}" for n in names[1:]
                )
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, name)
            t = thumbs.get(name)
            if t is not None:
                h, w = t.shape[:2]
                qi = QImage(t.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
                item.setIcon(QIcon(QPixmap.fromImage(qi)))
            self.list.addItem(item)
            if name == keep:
                self.list.setCurrentItem(item)
        for p in info.problems:
            self.annotate.status.setText(p)
        self.listed.emit(self.list.count())

    def reopen(self) -> None:
        name = self.selected()
        if name is not None:
            self.annotate.reopen(name)

    def delete(self) -> None:
        name, store = self.selected(), self.annotate.store
        if name is None or store is None:
            return
        self.annotate.run_io(lambda: store.delete(name), lambda _r: self.refresh())

    def jump(self) -> None:
        name = self.selected()
        if name is None or self.info is None:
            return
        rec = self.info.images.get(name, {})
        opened = str(rec.get("opened") or rec.get("source", ""))
        self.jumpRequested.emit(opened, int(rec.get("frame_index", 0)))
