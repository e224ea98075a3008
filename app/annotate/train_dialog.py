""" "Train from this dataset…": check, split, train, evaluate in QProcess subprocesses, then
offer to install the result as a new model version. Nothing here blocks the GUI thread.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QProcess, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...capture.workers import spawn
from ...models.finetune import FinetunePlan, finish_card

_PROGRESS = re.compile(r"(\d+)/(\d+)")
_LEFT = re.compile(r"<(?:(\d+):)?(\d+):(\d+)")  # tqdm's time left, [elapsed<left, ...]
STAGE_SHARE = {"check": (0, 3), "split": (3, 5), "train": (5, 90), "eval": (90, 100)}
MIN_FRAMES, MIN_SOURCES = 3, 2
# One training step on one 256x256 frame of the shipped network, on one core of a busy 2-core
# CPU (measured with 'sonolive train --steps 10 --batch-size 1'), and the four subprocesses'
# start-up (Python, torch): the basis of the estimate shown before Start.
STEP_S_PER_FRAME_256 = 0.4
START_S = 20.0


def minimum_text(frames: int | None, sources: int | None) -> tuple[str, bool]:
    """The rule in plain words, this dataset's figures, and whether training may start."""
    rule = QCoreApplication.translate(
        "TrainDialog",
        "Training needs at least %1 annotated frames from at least %2 different clips or "
        "images: the frames of one clip are held out to measure the result, and training "
        "keeps one of its own frames to choose the best checkpoint.",
    )
    rule = rule.replace("%1", str(MIN_FRAMES)).replace("%2", str(MIN_SOURCES))
    if frames is None or sources is None:
        return rule, True
    have = (
        QCoreApplication.translate("TrainDialog", "This dataset: %1 frames from %2 sources.")
        .replace("%1", str(frames))
        .replace("%2", str(sources))
    )
    return rule + " " + have, frames >= MIN_FRAMES and sources >= MIN_SOURCES


def estimate_s(plan: FinetunePlan, frames: int | None) -> float:
    """Seconds for the whole run on a CPU: steps x the effective batch x the picture size."""
    from ...models.card import ModelCard

    size = plan.input_size or ModelCard.load(plan.base_model).input_size[0]
    batch = plan.batch_size if frames is None else max(1, min(plan.batch_size, frames - 2))
    per_step = STEP_S_PER_FRAME_256 * batch * (size / 256) ** 2
    if plan.device != "cpu":
        per_step /= 10
    return START_S + plan.steps * per_step


def duration_text(seconds: float) -> str:
    if seconds < 90:
        return QCoreApplication.translate("TrainDialog", "about %1 s").replace(
            "%1", str(int(round(seconds)))
        )
    return QCoreApplication.translate("TrainDialog", "about %1 min").replace(
        "%1", str(int(round(seconds / 60)))
    )


class TrainDialog(QDialog):
    """Signals: ``finished(state)`` with state "done", "failed" or "cancelled";
    ``installed(model_folder)``."""

    finished = Signal(str)
    installed = Signal(str)
    _install_done = Signal(str, str)

    def __init__(
        self,
        plan: FinetunePlan,
        parent: QWidget | None = None,
        frames: int | None = None,
        sources: int | None = None,
    ) -> None:
        """``frames`` and ``sources``: the dataset's counts when known (the dataset list),
        for the minimum and the time estimate."""
        super().__init__(parent)
        self.setWindowTitle(self.tr("Train from this dataset"))
        self.plan = plan
        self.frames = frames
        self.stages = plan.commands()
        self.stage = ""
        self.state = "idle"
        self.card = None
        self.proc: QProcess | None = None
        self.label = QLabel(self.tr("Ready"), self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 100)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(500)
        self.start_button = QPushButton(self.tr("Start"), self)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.install_button = QPushButton(self.tr("Install as a new model version"), self)
        self.install_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.install_button.clicked.connect(self.install)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.cancel_button, self.install_button):
            buttons.addWidget(b)
        rule, self.enough = minimum_text(frames, sources)
        self.minimum = QLabel(rule, self)
        self.minimum.setWordWrap(True)
        if not self.enough:
            self.minimum.setStyleSheet("color: #c0392b; font-weight: bold")
            self.start_button.setEnabled(False)
        self.steps = QSpinBox(self)
        self.steps.setRange(5, 20000)
        self.steps.setSingleStep(50)
        self.steps.setValue(plan.steps)
        self.steps.valueChanged.connect(self._show_estimate)
        self.estimate = QLabel(self)
        steps_row = QHBoxLayout()
        steps_row.addWidget(QLabel(self.tr("Training steps"), self))
        steps_row.addWidget(self.steps)
        steps_row.addWidget(self.estimate, 1)
        dataset = QLabel(self.tr("Dataset: %1").replace("%1", str(plan.dataset)), self)
        dataset.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(dataset)
        lay.addWidget(self.minimum)
        lay.addLayout(steps_row)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.log, 1)
        lay.addLayout(buttons)
        self._queue: list[tuple[str, list[str]]] = []
        self._installer: threading.Thread | None = None
        self._install_done.connect(self._installed, Qt.ConnectionType.QueuedConnection)
        self._show_estimate()
        self.resize(640, 420)

    def _show_estimate(self, *_args) -> None:
        self.plan.steps = int(self.steps.value())
        self.estimate.setText(
            self.tr("Estimated time: %1 on this computer").replace(
                "%1", duration_text(estimate_s(self.plan, self.frames))
            )
        )

    def start(self) -> None:
        if self.state == "running" or not self.enough:
            return
        self.plan.steps = int(self.steps.value())
        self.stages = self.plan.commands()
        self.steps.setEnabled(False)
        self._queue = list(self.stages)
        self.state = "running"
        self.bar.setValue(0)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.install_button.setEnabled(False)
        self._next()

    def cancel(self) -> None:
        if self.state != "running":
            return
        self.state = "cancelled"
        self._queue = []
        if self.proc is not None and self.proc.state() != QProcess.ProcessState.NotRunning:
            self.proc.kill()  # finished() follows and ends the run
        else:
            self._end("cancelled")

    def _next(self) -> None:
        if not self._queue:
            self._finish_card()
            return
        self.stage, argv = self._queue.pop(0)
        self.label.setText(self.tr("Running: %1").replace("%1", self.stage))
        self.bar.setValue(STAGE_SHARE[self.stage][0])
        p = QProcess(self)
        p.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        p.readyReadStandardOutput.connect(self._read)
        p.finished.connect(self._done)
        p.errorOccurred.connect(self._failed_to_start)
        self.proc = p
        p.start(argv[0], argv[1:])

    def _read(self) -> None:
        if self.proc is None:
            return
        text = bytes(self.proc.readAllStandardOutput()).decode("utf-8", "replace")
        for chunk in re.split(r"[\r\n]+", text):
            chunk = chunk.strip()
            if not chunk:
                continue
            if "|" in chunk and _PROGRESS.search(chunk.split("|")[-1]):  # a progress bar
                if self.stage != "train":
                    continue  # eval's own bar: the dialog's bar says enough
                m = _PROGRESS.search(chunk.split("|")[-1])
                if m and int(m.group(2)) > 0:
                    lo, hi = STAGE_SHARE["train"]
                    frac = int(m.group(1)) / int(m.group(2))
                    self.bar.setValue(int(lo + (hi - lo) * frac))
                left = _LEFT.search(chunk)
                if left:
                    h, mnt, sec = (int(g or 0) for g in left.groups())
                    self.label.setText(
                        self.tr("Running: train, %1 left").replace(
                            "%1", duration_text(3600 * h + 60 * mnt + sec)
                        )
                    )
                continue
            self.log.appendPlainText(chunk)

    def _failed_to_start(self, err: QProcess.ProcessError) -> None:
        if err == QProcess.ProcessError.FailedToStart:
            self.log.appendPlainText(self.tr("error: could not start %1").replace("%1", self.stage))
            self._end("failed")

    def _done(self, code: int, _status: QProcess.ExitStatus) -> None:
        self._read()
        self.proc = None
        if self.state == "cancelled":
            self._end("cancelled")
            return
        if code != 0:
            self.log.appendPlainText(
                self.tr("%1 stopped (exit %2); nothing was trained on broken data")
                .replace("%1", self.stage)
                .replace("%2", str(code))
            )
            self._end("failed")
            return
        self.bar.setValue(STAGE_SHARE[self.stage][1])
        self._next()

    def _finish_card(self) -> None:
        try:
            self.card = finish_card(self.plan)
        except (OSError, ValueError, KeyError) as e:
            self.log.appendPlainText(self.tr("error: %1").replace("%1", str(e)))
            self._end("failed")
            return
        figures = self.card.accuracy.get("per_class", {})
        line = ", ".join(
            f"{k} Dice {v['dice']:.3f}"
            for k, v in figures.items()
            if isinstance(v, dict) and v.get("dice") is not None
        )
        self.log.appendPlainText(self.tr("Held-out: %1").replace("%1", line or "-"))
        self.install_button.setEnabled(True)
        self._end("done")

    def _end(self, state: str) -> None:
        self.state = state
        self.label.setText(
            {"done": self.tr("Done"), "failed": self.tr("Failed")}.get(state, self.tr("Cancelled"))
        )
        if state == "done":
            self.bar.setValue(100)
        self.start_button.setEnabled(True)
        self.steps.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.finished.emit(state)

    def install(self) -> None:
        """Validate (one forward pass) and copy the model into the user models folder, on a
        short-lived thread; the answer comes back as a queued signal."""
        self.install_button.setEnabled(False)
        self.label.setText(self.tr("Installing…"))
        self._installer = spawn(self._install_worker, name="install-model", daemon=False)

    def _install_worker(self) -> None:
        from ...models.importer import ImportModelError, import_model

        try:
            self._install_done.emit(str(import_model(self.plan.result, force=True)), "")
        except (ImportModelError, OSError, ValueError) as e:
            self._install_done.emit("", str(e))

    def _installed(self, dest: str, error: str) -> None:
        self._installer.join()
        if error:
            self.log.appendPlainText(self.tr("error: %1").replace("%1", error))
            self.install_button.setEnabled(True)
            return
        self.label.setText(self.tr("Installed as %1").replace("%1", Path(dest).name))
        self.installed.emit(dest)

    def closeEvent(self, e) -> None:  # noqa: N802 - Qt API
        self.cancel()
        if self.proc is not None:
            self.proc.waitForFinished(3000)  # a killed process ends at once
        super().closeEvent(e)
