"""Review of recorded clips in the window: Qt signals over the player, and its panel.

The work (decoding, seeking, pacing, the result cache) is done by the Qt-free
:class:`~..inference.player.ClipPlayer` on its own worker thread. :class:`ReviewController`
only posts commands and turns the player's events into signals, so the GUI never waits on
decoding or inference. :class:`~.review_window.ReviewWindowing` holds the panel (a dock),
"Open clip…", "Recent clips", drag and drop and the keyboard shortcuts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...capture.clip import VIDEO_EXTENSIONS
from ...capture.open_source import DICOM_EXTENSIONS
from ...capture.roi import Roi
from ...capture.roi_stage import RoiStage
from ...capture.source import SeekableSource
from ...inference.events import ClipCount, ClipOpened, PlayState, Problem, SessionEvent
from ...inference.pipeline import Result
from ...inference.player import ClipPlayer
from ..bridge import PipelineBridge
from .scrub_bar import ScrubBar

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
CLIP_EXTENSIONS = VIDEO_EXTENSIONS | DICOM_EXTENSIONS
TOUCH_PX = 44  # minimum height of a control, for touch screens


def format_position(index: int, count: int, seconds: float) -> str:
    """``mm:ss.ff · frame N / M`` (N counts from 1, as people count frames), in the user's
    language (the words are translated in the Review panel's context)."""
    seconds = max(0.0, seconds)
    m, s = divmod(seconds, 60.0)
    text = QCoreApplication.translate("ReviewPanel", "%1 · frame %2 / %3")
    if count <= 0:
        return text.replace("%1", "00:00.00").replace("%2", "–").replace("%3", "–")
    return (
        text.replace("%1", f"{int(m):02d}:{s:05.2f}")
        .replace("%2", str(index + 1))
        .replace("%3", str(count))
    )


class ReviewController(QObject):
    """Qt signals over the Qt-free :class:`ClipPlayer` (which does all the work).

    The player publishes its frames through the pipeline, and they reach the window through
    the one :class:`PipelineBridge`, as live frames do (``bridge.resultReady``). Signals
    (all delivered in the GUI thread):
      ``frameShown(Result)``: a review frame the bridge delivered; ``result.frame.index`` is
      its index and ``result.image`` its overlay, composed from exactly that frame.
      ``positionChanged(index, count, seconds)``, ``stateChanged(playing)``,
      ``error(message)`` (plain words), ``opened(path, description, count, fps)``,
      ``warning(message)`` (a damaged but partly usable file).
    """

    frameShown = Signal(object)  # noqa: N815
    positionChanged = Signal(int, int, float)  # noqa: N815
    stateChanged = Signal(bool)  # noqa: N815
    error = Signal(str)
    warning = Signal(str)
    opened = Signal(str, str, int, float)
    _state = Signal(bool)

    def __init__(self, bridge: PipelineBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.player: ClipPlayer = bridge.session.player  # the session owns it
        self.playing = False
        bridge.resultReady.connect(self._deliver)
        bridge.event.connect(self._on_event)
        self._state.connect(self._set_playing, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _on_event(self, event: SessionEvent) -> None:
        """The player's events, from the session (in the GUI thread)."""
        if isinstance(event, ClipOpened):
            self.opened.emit(event.path, event.description, event.frames, event.fps)
        elif isinstance(event, PlayState):
            self._state.emit(event.playing)
        elif isinstance(event, ClipCount):
            self._true_count(event.frames)
        elif isinstance(event, Problem) and event.origin == "review":
            (self.warning if event.warning else self.error).emit(event.message)

    # ---- the player's state, as the GUI reads it ---------------------------------------------
    @property
    def index(self) -> int:
        """The index of the review frame the window shows now (-1 before the first)."""
        return self.player.index

    @property
    def count(self) -> int:
        return self.player.count

    @property
    def path(self) -> str | None:
        return self.player.path

    @property
    def roi_stage(self) -> RoiStage | None:
        """The ultrasound region of the open clip (None for stills or before a clip)."""
        return self.player.roi_stage

    @property
    def roi_lookup(self) -> Callable[[str], Roi | None] | None:
        return self.player.roi_lookup

    @roi_lookup.setter
    def roi_lookup(self, lookup: Callable[[str], Roi | None] | None) -> None:
        """``lookup(path)``: a region saved for that file (set by the input picker)."""
        self.player.roi_lookup = lookup

    @property
    def fps(self) -> float:
        return self.player.fps

    @property
    def source(self) -> SeekableSource | None:
        return self.player.source

    @property
    def active(self) -> bool:
        return self.player.active

    @property
    def speed(self) -> float:
        return self.player.speed

    @property
    def ab(self) -> tuple[int | None, int | None]:
        return self.player.ab

    # ---- commands (GUI thread; none of them blocks) ---------------------------------------
    def open(self, path: str | Path) -> None:
        self.player.open(path)

    def seek(self, index: int) -> None:
        self.player.seek(index)

    def step(self, delta: int = 1) -> None:
        self.player.step(delta)
        self._set_playing(self.player.playing)

    def jump(self, seconds: float) -> None:
        self.player.jump(seconds)
        self._set_playing(self.player.playing)

    def play(self) -> None:
        if self.player.play():
            self._set_playing(True)

    def pause(self) -> None:
        self.player.pause()
        self._set_playing(False)

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def set_speed(self, speed: float) -> None:
        self.player.set_speed(speed)

    def set_loop(self, on: bool) -> None:
        self.player.set_loop(on)

    def set_a(self, index: int | None = None) -> None:
        self.player.set_a(index)

    def set_b(self, index: int | None = None) -> None:
        self.player.set_b(index)

    def clear_ab(self) -> None:
        self.player.clear_ab()

    def refresh(self) -> None:
        self.player.refresh()

    def close(self, timeout: float = 2.0) -> bool:
        return self.player.close(timeout)

    # ---- GUI-side slots -------------------------------------------------------------------
    @Slot(bool)
    def _set_playing(self, on: bool) -> None:
        if not on:
            self.player.playing = False
        if on != self.playing:
            self.playing = on
            self.stateChanged.emit(on)

    @Slot(int)
    def _true_count(self, count: int) -> None:
        """Fewer frames decode than the header said: the position shows the true count."""
        self.positionChanged.emit(self.player.index, count, float(self.player.seconds))

    @Slot(object)
    def _deliver(self, result: Result) -> None:
        if not self.player.mark_shown(result):  # a live frame, or one of a clip since closed
            return
        frame = result.frame
        self.frameShown.emit(result)
        self.positionChanged.emit(frame.index, self.player.count, float(frame.timestamp))


# ---- the panel -------------------------------------------------------------------------------
class ReviewPanel(QWidget):
    """Transport controls for :class:`ReviewController`, sized for a touch screen."""

    def __init__(self, controller: ReviewController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = c = controller

        def button(text: str, tip: str, slot) -> QPushButton:
            b = QPushButton(text)
            b.setToolTip(tip)
            b.setMinimumSize(TOUCH_PX + 8, TOUCH_PX)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the window's shortcuts
            b.clicked.connect(slot)
            return b

        self.back_1s = button("−1 s", self.tr("Back one second (Shift+Left)"), lambda: c.jump(-1))
        self.step_back = button("◀|", self.tr("Previous frame (Left)"), lambda: c.step(-1))
        self.play_button = button("▶", self.tr("Play / pause (Space)"), c.toggle_play)
        self.play_button.setMinimumWidth(TOUCH_PX * 2)
        self.step_fwd = button("|▶", self.tr("Next frame (Right)"), lambda: c.step(1))
        self.fwd_1s = button("+1 s", self.tr("Forward one second (Shift+Right)"), lambda: c.jump(1))

        self.slider = ScrubBar()
        self.slider.setMinimumHeight(TOUCH_PX)
        self.slider.setRange(0, 0)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setStyleSheet(
            "QSlider::groove:horizontal{height:10px;background:#555;border-radius:5px}"
            "QSlider::handle:horizontal{width:28px;margin:-12px 0;background:#ddd;"
            "border-radius:14px}"
        )
        self.slider.sliderMoved.connect(c.seek)
        self.slider.valueChanged.connect(self._slider_value)
        self.position_label = QLabel(format_position(0, 0, 0.0))
        self.position_label.setMinimumWidth(220)
        f = self.position_label.font()
        f.setPointSizeF(max(11.0, f.pointSizeF() * 1.2))
        self.position_label.setFont(f)

        self.speed_combo = QComboBox()
        for s in SPEEDS:
            self.speed_combo.addItem(f"{s:g}×", s)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_combo.setMinimumHeight(TOUCH_PX)
        self.speed_combo.currentIndexChanged.connect(
            lambda i: c.set_speed(self.speed_combo.itemData(i))
        )
        self.loop_box = QCheckBox(self.tr("Loop"))
        self.loop_box.setMinimumHeight(TOUCH_PX)
        self.loop_box.toggled.connect(c.set_loop)
        self.a_button = button("A", self.tr("Mark loop start at this frame"), self._mark_a)
        self.b_button = button("B", self.tr("Mark loop end at this frame"), self._mark_b)
        self.clear_ab_button = button(
            self.tr("Clear A–B"), self.tr("Clear the A–B loop"), self._clear_ab
        )
        self.ab_label = QLabel("")

        top = QHBoxLayout()
        top.addWidget(self.slider, 1)
        top.addWidget(self.position_label)
        grid = QGridLayout()
        row = [self.back_1s, self.step_back, self.play_button, self.step_fwd, self.fwd_1s]
        for i, w in enumerate(row):
            grid.addWidget(w, 0, i)
        grid.addWidget(QLabel(self.tr("Speed")), 0, len(row))
        grid.addWidget(self.speed_combo, 0, len(row) + 1)
        grid.addWidget(self.loop_box, 0, len(row) + 2)
        ab = QHBoxLayout()
        for w in (self.a_button, self.b_button, self.clear_ab_button, self.ab_label):
            ab.addWidget(w)
        ab.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(grid)
        lay.addLayout(ab)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        c.positionChanged.connect(self.on_position)
        c.stateChanged.connect(self.on_state)
        c.opened.connect(self._on_opened)
        #: what does nothing without a clip: greyed out, with a line saying how to open one
        self.transport = [*row, self.slider, self.speed_combo, self.loop_box, self.a_button,
                          self.b_button, self.clear_ab_button]  # fmt: skip
        self.hint = QLabel(
            self.tr("No clip open: File → Open clip…, Recent clips, or drop a file on the window")
        )
        # the palette's own text colour, bold: a fixed light amber was unreadable on the
        # default light window (contrast 1.3:1)
        self.hint.setStyleSheet("QLabel{font-weight:bold}")
        lay.insertWidget(0, self.hint)
        self._show_clip_controls(c.active)

    def _show_clip_controls(self, active: bool) -> None:
        for w in self.transport:
            w.setEnabled(active)
        self.hint.setVisible(not active)

    @Slot(str, str, int, float)
    def _on_opened(self, _path: str, _desc: str, count: int, _fps: float) -> None:
        self._show_clip_controls(True)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, count - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._update_ab()

    @Slot(int, int, float)
    def on_position(self, index: int, count: int, seconds: float) -> None:
        self.position_label.setText(format_position(index, count, seconds))
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            if count > 0 and self.slider.maximum() != count - 1:  # the true count, once known
                self.slider.setRange(0, count - 1)
            self.slider.setValue(index)
            self.slider.blockSignals(False)

    @Slot(bool)
    def on_state(self, playing: bool) -> None:
        self.play_button.setText("❚❚" if playing else "▶")

    def _slider_value(self, value: int) -> None:
        if not self.slider.isSliderDown():  # a click on the groove or a key on the slider
            self.controller.seek(value)

    def _mark_a(self) -> None:
        self.controller.set_a()
        self._update_ab()

    def _mark_b(self) -> None:
        self.controller.set_b()
        self._update_ab()

    def _clear_ab(self) -> None:
        self.controller.clear_ab()
        self._update_ab()

    def _update_ab(self) -> None:
        a, b = self.controller.ab
        if a is None and b is None:
            self.ab_label.setText("")
            return
        fa = "–" if a is None else str(a + 1)
        fb = "–" if b is None else str(b + 1)
        self.ab_label.setText(self.tr("A–B loop: frames %1–%2").replace("%1", fa).replace("%2", fb))
