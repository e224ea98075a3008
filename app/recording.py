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

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu

from ..capture.recorder import RECORD_CONTENTS, Recorder
from ..inference.pipeline import Result


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


class RecordingController(QObject):
    """Starts and stops a Recorder for the window; signals arrive in the GUI thread."""

    started = Signal(str)  # path
    stopped = Signal(str, int)  # path, frames written (after the file is closed)
    failed = Signal(str)  # from the recorder's thread: queued to the GUI

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.settings = window.settings
        self.recorder: Recorder | None = None
        self.last_recorder: Recorder | None = None
        self.t_start = 0.0
        self._lock = threading.Lock()
        self._closers: list[threading.Thread] = []
        self.failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)

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
        review = getattr(self.window, "review", None)
        if review is not None and getattr(review, "active", False) and review.fps:
            return float(review.fps)
        src = getattr(self.window.pipeline, "source", None) or getattr(self.window, "source", None)
        fps = float(getattr(src, "fps", 0) or 0)
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
            self.window.show_banner(f"Recording could not start: {e}")
            return None
        with self._lock:
            self.recorder = rec
        self.t_start = time.perf_counter()
        if rec.codec_note:
            self.window.show_banner(rec.codec_note)
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

        t = threading.Thread(target=close, name="sonolive-rec-close", daemon=True)
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
        self.window.show_banner(msg)
        action = getattr(self.window, "record_action", None)
        if action is not None and action.isChecked():
            action.setChecked(False)  # -> stop()
        else:
            self.stop()


def install_recording(window) -> RecordingController:
    """Add recording to ``window``; returns the controller (also ``window.recording``).

    Adds: ``window.record_action`` (checkable, shortcut R) in a "Record" menu with the
    raw / overlay / both choice and "Watermark";
    a pipeline frame hook; and "● REC mm:ss" as a permanent status-bar widget while
    recording.
    """
    existing = getattr(window, "recording", None)
    if isinstance(existing, RecordingController):
        return existing
    ctl = RecordingController(window)
    window.recording = ctl
    window.pipeline.frame_hooks.append(ctl.hook)

    action = QAction(QCoreApplication.translate("MainWindow", "Record"), window, checkable=True)
    action.setShortcut(QKeySequence("R"))
    action.setToolTip(QCoreApplication.translate("MainWindow", "Start or stop recording (R)"))
    window.addAction(action)
    window.record_action = action

    menu = QMenu(QCoreApplication.translate("MainWindow", "&Record"), window)
    menu.setObjectName("record-menu")
    menu.addAction(action)
    menu.addSeparator()
    group = QActionGroup(menu)
    window.record_mode_actions = {}
    labels = {
        "raw": QCoreApplication.translate("MainWindow", "Raw picture"),
        "overlay": QCoreApplication.translate("MainWindow", "Picture with overlay"),
        "both": QCoreApplication.translate("MainWindow", "Both (two files)"),
    }
    for m in RECORD_CONTENTS:
        a = QAction(labels[m], menu, checkable=True)
        a.setChecked(m == ctl.mode)
        a.triggered.connect(lambda _=False, m=m: window.settings.setValue("recording/mode", m))
        group.addAction(a)
        menu.addAction(a)
        window.record_mode_actions[m] = a
    menu.addSeparator()
    wm = QAction(
        QCoreApplication.translate("MainWindow", "Watermark “Not for diagnostic use”"),
        menu,
        checkable=True,
    )
    wm.setChecked(ctl.watermark)
    wm.toggled.connect(lambda on: window.settings.setValue("recording/watermark", on))
    menu.addAction(wm)
    window.record_watermark_action = wm
    window.menuBar().addMenu(menu)
    window.record_menu = menu

    label = QLabel("")
    label.setStyleSheet("QLabel{color:#ff4040;font-weight:bold;padding:0 8px}")
    label.setVisible(False)
    window.statusBar().addPermanentWidget(label)
    window.rec_label = label
    timer = QTimer(window)
    timer.setInterval(500)

    def tick() -> None:
        s = int(time.perf_counter() - ctl.t_start)
        label.setText(f"● REC {s // 60:02d}:{s % 60:02d}")

    timer.timeout.connect(tick)

    def toggled(on: bool) -> None:
        if on:
            if ctl.start() is None:
                action.blockSignals(True)
                action.setChecked(False)
                action.blockSignals(False)
                return
            tick()
            label.setVisible(True)
            timer.start()
        else:
            ctl.stop()
            timer.stop()
            label.setVisible(False)

    action.toggled.connect(toggled)
    return ctl
