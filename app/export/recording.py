"""Record controls: a Record toggle (R) with raw / overlay / both, watermark and redaction.

Frames reach the :class:`~sonolive.capture.recorder.Recorder` through a pipeline frame hook,
on the inference thread (live) or the review worker (review runs the same hooks for every
frame it shows); ``Recorder.write`` never blocks. A write error (a full disk) arrives on the
recorder's thread and is forwarded with a queued signal: the window shows a banner and the
Record action unchecks. Closing the file (flushing the queue) happens off the GUI thread.

Settings (QSettings): ``recording/mode`` (raw, overlay, both), ``recording/watermark``,
``recording/redact`` ("x,y,w,h;x,y,w,h"), ``recording/folder``.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QWidget

from ...capture.recorder import RECORD_CONTENTS, Recorder
from ...capture.workers import spawn
from ...inference.pipeline import Result
from ...inference.session import Session
from ..folder_choice import folder_action
from ..ports import BannerPort, DisplayPort

if TYPE_CHECKING:
    from ..review.controller import ReviewController


def parse_redact(text) -> list[tuple[int, int, int, int]]:
    """``"x,y,w,h;x,y,w,h"`` (or a list of such strings) -> rectangles; bad parts skipped."""
    if text is None:
        return []
    if isinstance(text, (list, tuple)):
        text = ";".join(str(t) for t in text)
    rects = []
    for part in str(text).split(";"):
        nums = [p.strip() for p in part.split(",")]
        if len(nums) != 4:
            continue
        try:
            x, y, w, h = (int(float(n)) for n in nums)
        except ValueError:
            continue
        if w > 0 and h > 0:
            rects.append((x, y, w, h))
    return rects


def default_record_folder() -> Path:
    try:
        from platformdirs import user_videos_dir

        return Path(user_videos_dir()) / "SonoLive"
    except Exception:  # noqa: BLE001
        return Path.home() / "SonoLive"


def _to_bool(v) -> bool:
    if isinstance(v, str):
        return v.lower() in ("1", "true", "yes", "on")
    return bool(v)


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


class RecordingController(QObject):
    """Starts and stops a Recorder for the window; signals arrive in the GUI thread.

    Owns the Record action (checkable, R), the "Record" menu with the raw / overlay / both
    choice and "Watermark", and the "● REC mm:ss" label (the window places the menu and the
    label). Frames arrive through :meth:`hook`, a pipeline frame hook the window installs.
    """

    started = Signal(str)  # path
    stopped = Signal(str, int)  # path, frames written (after the file is closed)
    failed = Signal(str)  # from the recorder's thread: queued to the GUI

    def __init__(
        self,
        session: Session,
        review: ReviewController,
        banner: BannerPort,
        display: DisplayPort,
        settings: QSettings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.pipeline = session.pipeline
        self.review = review
        self.banner = banner
        self.display = display
        self._parent = parent  # the dialogs' parent (the folder chooser)
        self.settings = settings
        self.recorder: Recorder | None = None
        self.last_recorder: Recorder | None = None
        self.t_start = 0.0
        self._lock = threading.Lock()
        self._closers: list[threading.Thread] = []
        self.failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)
        self._build_controls()

    # -- settings --
    @property
    def mode(self) -> str:
        m = str(self.settings.value("recording/mode", "overlay"))
        return m if m in RECORD_CONTENTS else "overlay"

    @property
    def watermark(self) -> bool:
        return _to_bool(self.settings.value("recording/watermark", True))

    @property
    def redact(self) -> list[tuple[int, int, int, int]]:
        return parse_redact(self.settings.value("recording/redact", ""))

    def folder(self) -> Path:
        v = self.settings.value("recording/folder", "")
        return Path(str(v)) if v else default_record_folder()

    def _fps(self) -> float:
        if self.review.active and self.review.fps:
            return float(self.review.fps)
        src = self.pipeline.source or self.display.source
        fps = float(src.fps or 0) if src is not None else 0.0
        return fps if 0 < fps <= 240 else 30.0

    # -- control --
    @property
    def recording(self) -> bool:
        return self.recorder is not None

    def start(self, path: str | Path | None = None) -> Recorder | None:
        if self.recorder is not None:
            return self.recorder
        if path is None:
            stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
            path = self.folder() / f"sonolive_{stamp}.mp4"
        try:
            rec = Recorder(
                path,
                fps=self._fps(),
                mode=self.mode,
                redact=self.redact,
                watermark=self.watermark,
                on_error=self.failed.emit,  # recorder thread -> queued signal
            )
        except Exception as e:  # noqa: BLE001 - no encoder, bad folder, ...
            self.banner.show_banner(_tr("Recording could not start: %1").replace("%1", str(e)))
            return None
        with self._lock:
            self.recorder = rec
        self.t_start = time.perf_counter()
        if rec.codec_note:
            self.banner.show_banner(rec.codec_note)
        self.started.emit(str(rec.path))
        return rec

    def stop(self) -> None:
        with self._lock:
            rec, self.recorder = self.recorder, None
        if rec is None:
            return
        self.last_recorder = rec

        def close() -> None:  # flushing the queue can take a moment: not on the GUI thread
            rec.close()
            self.stopped.emit(str(rec.path), int(rec.frames_written))

        t = spawn(close, name="sonolive-rec-close", start=False)
        self._closers = [c for c in self._closers if c.is_alive()] + [t]
        t.start()

    def wait_closed(self, timeout: float = 10.0) -> bool:
        """For tests and shutdown: wait until stopped recordings are flushed and closed."""
        end = time.perf_counter() + timeout
        for t in list(self._closers):
            t.join(max(0.0, end - time.perf_counter()))
        return not any(t.is_alive() for t in self._closers)

    def hook(self, result: Result) -> None:
        """Pipeline frame hook (inference thread or review worker): never blocks."""
        rec = self.recorder
        if rec is not None:
            rec.write(result.frame.pixels, result.image)

    def _on_failed(self, msg: str) -> None:
        self.banner.show_banner(msg)
        if self.action.isChecked():
            self.action.setChecked(False)  # -> stop()
        else:
            self.stop()

    # -- the action, the menu and the REC label --
    def _build_controls(self) -> None:
        w = self._parent
        self.action = QAction(_tr("Record"), self, checkable=True)
        self.action.setShortcut(QKeySequence("R"))
        self.action.setToolTip(_tr("Start or stop recording (R)"))
        self.action.toggled.connect(self._toggled)
        self.menu = QMenu(_tr("&Record"), w)
        self.menu.setObjectName("record-menu")
        self.menu.setToolTipsVisible(True)
        self.menu.addAction(self.action)
        self.menu.addSeparator()
        group = QActionGroup(self.menu)
        self.mode_actions: dict[str, QAction] = {}
        labels = {
            "raw": _tr("Raw picture"),
            "overlay": _tr("Picture with overlay"),
            "both": _tr("Both (two files)"),
        }
        for m in RECORD_CONTENTS:
            a = QAction(labels[m], self.menu, checkable=True)
            a.setChecked(m == self.mode)
            a.triggered.connect(lambda _=False, m=m: self.settings.setValue("recording/mode", m))
            group.addAction(a)
            self.menu.addAction(a)
            self.mode_actions[m] = a
        self.menu.addSeparator()
        self.watermark_action = QAction(
            _tr("Watermark “Not for diagnostic use”"), self.menu, checkable=True
        )
        self.watermark_action.setChecked(self.watermark)
        self.watermark_action.toggled.connect(
            lambda on: self.settings.setValue("recording/watermark", on)
        )
        self.menu.addAction(self.watermark_action)
        self.folder_action = folder_action(
            w, self.settings, "recording/folder", _tr("Recording folder…"), self.folder
        )
        self.menu.addAction(self.folder_action)
        self.label = QLabel("")
        self.label.setStyleSheet("QLabel{color:#ff4040;font-weight:bold;padding:0 8px}")
        self.label.setVisible(False)
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        s = int(time.perf_counter() - self.t_start)
        self.label.setText(f"● REC {s // 60:02d}:{s % 60:02d}")

    def _toggled(self, on: bool) -> None:
        if on:
            if self.start() is None:
                self.action.blockSignals(True)
                self.action.setChecked(False)
                self.action.blockSignals(False)
                return
            self._tick()
            self.label.setVisible(True)
            self._timer.start()
        else:
            self.stop()
            self._timer.stop()
            self.label.setVisible(False)
