"""Snapshots: the picture on screen as PNG plus a JSON sidecar with the frame's figures.

:func:`capture_snapshot` takes what is needed on the GUI thread (a copy of the view's
composed picture and the Result's figures: cheap); :func:`write_snapshot` writes the files
on any thread. The "Snapshot" action (:class:`SnapshotController`, placed in the File menu
by the window) writes on a thread pool, so the GUI never waits on the disk; a failure
reaches the window's banner through a queued signal.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from ... import __version__
from ...capture.recorder import burn_watermark
from ...capture.workers import SerialWorker
from ...inference.pipeline import Result
from ...inference.report import frame_report
from ...inference.segmenter import Segmenter
from ...inference.session import Session
from ..folder_choice import folder_action
from ..ports import BannerPort, DisplayPort, StatusPort


@dataclass
class SnapshotData:
    image: np.ndarray  # the composed picture as shown (RGB)
    meta: dict[str, Any] = field(default_factory=dict)
    stem: str = "snapshot"


def _model_version(seg: Segmenter | None, name: str) -> str | None:
    card = seg.card if seg is not None else None
    if card is not None and (not name or card.name == name):
        return str(card.version)
    return None


def capture_snapshot(
    shown: DisplayPort | Result, segmenter: Segmenter | None = None
) -> SnapshotData:
    """Collect a snapshot from the display (what it shows) or from a Result; ``segmenter``:
    the model in use, for its version."""
    display: DisplayPort | None
    if isinstance(shown, Result):
        display, result = None, shown
        image = result.image
    else:
        display = shown
        result = display.last_result
        image = display.current_array()
        if image is None and result is not None:
            image = result.image
    if image is None:
        raise ValueError(
            QCoreApplication.translate("MainWindow", "Nothing is on screen to snapshot yet.")
        )
    image = np.array(image, copy=True)
    burn_watermark(image)  # a snapshot leaves the app: it carries the mark in its pixels
    frame = result.frame if result is not None else None
    seg = result.seg if result is not None else None
    model = result.model_name if result is not None else ""
    roi_area = frame.height * frame.width if frame is not None else image.shape[0] * image.shape[1]
    rep = frame_report(seg, roi_area)
    src_name = ""
    if frame is not None and frame.source:
        src_name = frame.source
    elif display is not None and display.source is not None:
        try:
            src_name = display.source.describe()
        except Exception:  # noqa: BLE001
            src_name = ""
    now = datetime.now(timezone.utc).astimezone()
    meta: dict[str, Any] = {
        "source": src_name,
        "frame_index": int(frame.index) if frame is not None else None,
        "time_s": round(float(frame.timestamp), 6) if frame is not None else None,
        "roi": list(frame.roi) if frame is not None and frame.roi is not None else None,
        "model": model or None,
        "model_version": _model_version(segmenter, model) if model else None,
        "classes_present": rep["classes_present"],
        "areas_px": rep["areas_px"],
        "areas_pct": rep["areas_pct"],
        "confidence": rep["confidence"],
        "image_size": [int(image.shape[1]), int(image.shape[0])],
        "app_version": __version__,
        "timestamp": now.isoformat(timespec="milliseconds"),
        "not_for_diagnostic_use": True,
    }
    if result is not None and result.cam_class:
        meta["cam_class"] = result.cam_class
    stem = "sonolive_" + now.strftime("%Y%m%d_%H%M%S_") + f"{now.microsecond // 1000:03d}"
    if frame is not None:
        stem += f"_f{frame.index}"
    return SnapshotData(image=image, meta=meta, stem=stem)


def write_snapshot(data: SnapshotData, folder: str | Path) -> tuple[Path, Path]:
    """Write ``<stem>.png`` and ``<stem>.json`` into ``folder`` (any thread)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / f"{data.stem}.png"
    n = 1
    while png.exists():
        png = folder / f"{data.stem}_{n}.png"
        n += 1
    js = png.with_suffix(".json")
    ok, buf = cv2.imencode(".png", cv2.cvtColor(data.image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"could not encode {png.name}")
    png.write_bytes(buf.tobytes())
    meta = dict(data.meta, image=png.name)
    js.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    return png, js


def default_snapshot_folder() -> Path:
    try:
        from platformdirs import user_pictures_dir

        return Path(user_pictures_dir()) / "SonoLive"
    except Exception:  # noqa: BLE001
        return Path.home() / "SonoLive"


class SnapshotController(QObject):
    """The "Snapshot" action (S, Ctrl+S) and its worker side: a thread pool and queued result
    signals; ``take()`` returns a Future of ``(png, json, seconds)``."""

    saved = Signal(str, str)  # png, json
    failed = Signal(str)

    def __init__(
        self,
        session: Session,
        display: DisplayPort,
        banner: BannerPort,
        status: StatusPort,
        settings: QSettings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.pipeline = session.pipeline
        self.display = display
        self.status = status
        self.settings = settings
        self.pool = SerialWorker("sonolive-snapshot")
        self.saved.connect(self._on_saved, Qt.ConnectionType.QueuedConnection)
        self.failed.connect(lambda msg: banner.show_banner(msg), Qt.ConnectionType.QueuedConnection)
        tr = QCoreApplication.translate
        self.action = QAction(tr("MainWindow", "Snapshot"), self)
        self.action.setShortcuts([QKeySequence("S"), QKeySequence("Ctrl+S")])
        self.action.setToolTip(tr("MainWindow", "Save the picture on screen with its figures (S)"))
        self.action.triggered.connect(lambda: self.take())
        self.folder_action = folder_action(
            parent,
            settings,
            "snapshot/folder",
            tr("MainWindow", "Snapshot folder…"),
            self.folder,
        )

    def close(self) -> None:
        """Let the writer end once what is queued is written (nothing queued is dropped), so
        quitting never waits on an idle pool thread."""
        self.pool.shutdown(wait=False)

    def folder(self) -> Path:
        v = self.settings.value("snapshot/folder", "")
        return Path(str(v)) if v else default_snapshot_folder()

    def take(self):
        """Snapshot now: copy on the GUI thread, write on the pool; returns the Future."""
        try:
            data = capture_snapshot(self.display, self.pipeline.segmenter)
        except Exception as e:  # noqa: BLE001
            self.failed.emit(
                QCoreApplication.translate("MainWindow", "Snapshot failed: %1").replace(
                    "%1", str(e)
                )
            )
            return None
        folder = self.folder()
        t0 = time.perf_counter()

        def job():
            try:
                png, js = write_snapshot(data, folder)
            except Exception as e:  # noqa: BLE001 - a full disk, a read-only folder, ...
                self.failed.emit(
                    QCoreApplication.translate(
                        "MainWindow", "Snapshot could not be saved in %1: %2"
                    )
                    .replace("%1", str(folder))
                    .replace("%2", str(e))
                )
                raise
            self.saved.emit(str(png), str(js))
            return png, js, time.perf_counter() - t0

        return self.pool.submit(job)

    def _on_saved(self, png: str, _js: str) -> None:
        try:
            said = QCoreApplication.translate("MainWindow", "Snapshot saved: %1")
            self.status.show_note(said.replace("%1", ""), png)
        except Exception:  # noqa: BLE001
            pass
