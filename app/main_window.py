"""The main window: the video view, the pickers, the mode switch, panels and status line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from ..capture.open_source import is_recording, open_source
from ..capture.source import FrameSource, SourceError
from ..inference.events import Problem, SessionEvent, SourceState, SourceStatus, Topic
from ..inference.overlay import OverlayStyle
from ..inference.pipeline import Result
from ..inference.session import Session
from ..models.registry import DEFAULT_MODEL
from .annotate.window import AnnotateControl
from .banner import Banner
from .bridge import PipelineBridge
from .exam.controller import ExamController
from .export.recording import RecordingController
from .export.snapshot import SnapshotController
from .localize import translated_gate_words
from .menus import compose_menus, main_toolbar, mode_bar
from .model_import_action import ModelImporter
from .model_picker import ModelPicker
from .modes import MODES, ModeSettings, load_mode, save_mode
from .ood_control import OodControl
from .overlay_panel import OverlayPanel
from .quiz.window import QuizControl
from .review.controller import ReviewController
from .review.windowing import ReviewWindowing
from .source.picker import InputPicker
from .status_line import StatusLine
from .teaching.cam_panel import CamPanel
from .teaching.legend_panel import LegendPanel
from .teaching.presenter import PresenterWindow
from .video_view import VideoView


class MainWindow(QMainWindow):
    def __init__(
        self,
        source: str | FrameSource = "phantom",
        model: str | None = DEFAULT_MODEL,
        settings: QSettings | None = None,
        device: str = "auto",
        mode: str | None = None,
        backend: str = "auto",
        trust_code: bool = False,
        accel: str = "off",
    ) -> None:
        super().__init__()
        self.setWindowTitle(self.tr("SonoLive — not for diagnostic use"))
        self.resize(1280, 800)
        self.settings = settings or QSettings("SonoLive", "SonoLive")
        self.device = device
        self.backend = backend
        self.accel = accel  # --accel: the PyTorch forward eager, compiled or a CUDA graph
        self.trust_code = trust_code  # --trust-code: the user trusts --model PATH's TorchScript
        self.model_name: str | None = None
        self.model_simulated = False
        self.card = None
        self.source: FrameSource | None = None  # the source shown (live, or a clip in review)
        self.mode = mode or str(self.settings.value("app/mode", "teaching"))
        if mode is None and self.mode == "review" and not _is_clip(source):
            # the last run ended in Review, and this one has no clip: start where the user
            # last worked live (Review would show an empty panel over the live picture)
            self.mode = str(self.settings.value("app/live_mode", "teaching"))
        if self.mode not in MODES:
            self.mode = "teaching"
        self.mode_settings: ModeSettings = load_mode(self.settings, self.mode)
        style = self.mode_settings.style()

        # ---- central picture ------------------------------------------------------
        self.view = VideoView()
        self.banner = Banner()
        self.messages = self.banner.messages  # banner lines by topic: source, model, other
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        row = QHBoxLayout()  # the banner, and beside it its action's button
        row.setSpacing(0)
        row.addWidget(self.banner, 1)
        row.addWidget(self.banner.button)
        lay.addLayout(row)
        lay.addWidget(self.view, 1)
        self.setCentralWidget(central)
        self.status_line = StatusLine()
        self.setStatusBar(self.status_line)

        # ---- the session (Qt-free): pipeline, Review's player, CAM, the ROI choice --------
        self.session = Session(style, device=device, gate_words=translated_gate_words())
        self.pipeline = self.session.pipeline
        self.cam = self.session.cam
        self.bridge = PipelineBridge(self.session, self)
        self.bridge.resultReady.connect(self.on_result)
        self.bridge.event.connect(self.on_event)
        self.bridge.modelReady.connect(self.on_model_ready)
        self.bridge.modelFailed.connect(self.on_model_failed)

        # ---- panels ---------------------------------------------------------------
        self.overlay_panel = OverlayPanel(style)
        self.overlay_panel.styleChanged.connect(self.on_style)
        self.legend = LegendPanel()
        self.cam_panel = CamPanel()
        self.cam_panel.changed.connect(self._cam_changed)
        self.docks: dict[str, QDockWidget] = {}
        for key, title, w in (
            ("overlay", self.tr("Overlay"), self.overlay_panel),
            ("legend", self.tr("Legend"), self.legend),
            ("cam", self.tr("CAM heatmap"), self.cam_panel),
        ):
            d = QDockWidget(title, self)
            d.setObjectName(f"{key}-dock")
            d.setWidget(w)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, d)
            self.docks[key] = d
        # the right-hand panels run the full height, beside the Review panel below the
        # picture: stacked over it, their minimum heights pushed the window past 800 px
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

        # ---- toolbars -------------------------------------------------------------
        self.source_picker = QComboBox()  # filled by the input picker
        self.model_picker = ModelPicker()
        self.model_picker.currentIndexChanged.connect(self._model_picked)
        self.main_toolbar = main_toolbar(self)
        bar = mode_bar(self)
        self.mode_bar, self.mode_actions, self.side_action = bar.bar, bar.modes, bar.side
        self.fullscreen_action, self.presenter_action = bar.fullscreen, bar.presenter
        self.presenter: PresenterWindow | None = None

        self.last_result: Result | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._refresh_status)
        self._timer.start(500)

        # ---- controllers: each owns its actions; menus.compose_menus places them -----------
        self.review = ReviewController(self.bridge, self)
        ports = (self, self, self)  # the window is the banner, status and display port
        self.input_picker = InputPicker(
            self.session, self.bridge, self.review, self.source_picker, self.settings, ports,
            self.set_source, self,
        )  # fmt: skip
        self.review_windowing = ReviewWindowing(
            self.review, self.input_picker, self.settings, (self, self, self), self
        )
        # a model or style change shows the current Review frame again, recomputed
        self.overlay_panel.styleChanged.connect(lambda *_: self.review.refresh())
        self.bridge.modelReady.connect(lambda *_: self.review.refresh())
        self.review_panel = self.review_windowing.panel
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.review_windowing.dock)
        self.docks["review"] = self.review_windowing.dock
        self.recording = RecordingController(self.session, self.review, self, self, self.settings, self)  # fmt: skip
        self.pipeline.add_sink(self.recording.hook)
        self.snapshots = SnapshotController(self.session, self, self, self, self.settings, self)
        self.model_importer = ModelImporter(self, self._model_imported, self)
        self.ood = OodControl(self.session, self.review, self, self, self)
        self.bridge.modelReady.connect(self.ood.reset)
        self.annotate = AnnotateControl(self.session, self.review, (self, self), self.settings, self)  # fmt: skip
        self.quiz = QuizControl(self.session, (self, self, self), self)
        self.annotate.modelInstalled.connect(self._model_installed)
        # the eFAST checklist dock, in Bedside and Teaching
        self.exam = ExamController(self.session, self, self.settings, self)
        self.bridge.resultReady.connect(self.exam.on_result)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.exam.dock)
        compose_menus(self)
        self.set_mode(self.mode)
        if model:
            self.select_model(model)
        self.set_source(source)
        self.update_marks()  # the permanent marks show even before any source runs

    # ---- modes -----------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """Switch the look and the panels; the pipeline keeps running throughout."""
        if mode not in MODES:
            raise ValueError(f"unknown mode '{mode}' (known: {', '.join(MODES)})")
        if mode != self.mode:
            save_mode(self.settings, self.mode, self.mode_settings)
        self.mode = mode
        self.settings.setValue("app/mode", mode)
        if mode != "review":
            self.settings.setValue("app/live_mode", mode)
        ms = self.mode_settings = load_mode(self.settings, mode)
        self.mode_actions[mode].setChecked(True)
        self.overlay_panel.set_style(ms.style())
        self.pipeline.set_style(self.overlay_panel.style())  # "Show overlay" still applies
        self.pipeline.set_temporal(ms.temporal)
        self.docks["overlay"].setVisible(ms.chrome)
        self.exam.mode_changed(mode)  # its dock: in Bedside and Teaching
        self.docks["legend"].setVisible(ms.legend)
        self.docks["cam"].setVisible(ms.chrome and mode != "bedside")
        self.main_toolbar.setVisible(ms.chrome)
        self.cam_panel.review_methods(mode == "review")
        self.side_action.blockSignals(True)
        self.side_action.setChecked(ms.side_by_side)
        self.side_action.setVisible(mode != "bedside")
        self.side_action.blockSignals(False)
        self.cam_panel.enabled.blockSignals(True)
        self.cam_panel.enabled.setChecked(ms.cam)
        self.cam_panel.enabled.blockSignals(False)
        self.docks["review"].setVisible(mode == "review")
        self.view.setStyleSheet("")
        self._cam_changed()

    def set_side_by_side(self, on: bool) -> None:
        self.mode_settings.side_by_side = on
        save_mode(self.settings, self.mode, self.mode_settings)

    def _save_mode_from_panels(self) -> None:
        st = self.overlay_panel.chosen_style()
        ms = self.mode_settings
        ms.fill, ms.outline, ms.names, ms.opacity = st.fill, st.outline, st.names, st.opacity
        ms.cam = self.cam_panel.enabled.isChecked()
        save_mode(self.settings, self.mode, ms)

    # ---- CAM ---------------------------------------------------------------------------
    def _cam_changed(self) -> None:
        on = self.cam_panel.enabled.isChecked() and self.mode != "bedside"
        self.mode_settings.cam = self.cam_panel.enabled.isChecked()
        self.cam.configure(
            on,
            self.cam_panel.organ.currentData(),
            self.cam_panel.method.currentData(),
            self.cam_panel.layer.currentData(),
            review=self.mode == "review",
        )
        if self.cam.error:
            self.show_banner(self.cam.error)

    # ---- models ----------------------------------------------------------------------
    def refresh_models(self) -> None:
        self.model_picker.refresh()

    def _model_installed(self, folder: str) -> None:
        """A model trained in the annotate window was installed: list it at once (the model
        in use stays picked) and say where to find it."""
        self.model_picker.refresh()
        name = Path(folder).name
        self.show_message(self.tr("Installed %1: choose it in the model picker").replace("%1", name), 15000)  # fmt: skip

    def select_model(self, name: str | None) -> None:
        """Load a model in the background; frames keep flowing meanwhile."""
        self.model_name = name
        self.model_picker.show_name(name)
        if name is None:
            self.bridge.cancel_model_load()
            self.status_line.backend_label.setText(self.tr("no model"))
            self.pipeline.set_segmenter(None)
            self.model_simulated = False
            self._set_card(None, None)
            self.update_marks()
            return
        # the picture runs unsegmented meanwhile (seconds; longer with --accel compile): say so
        self.status_line.backend_label.setText(self.tr("Loading model %1…").replace("%1", name))
        self.bridge.load_model_async(
            name, self.device, self.backend, trust_code=self.trust_code, accel=self.accel
        )

    def _model_imported(self, name: str) -> None:
        """A model was added (File → Open model…): list it and use it."""
        self.refresh_models()
        self.select_model(name)

    def _model_picked(self, idx: int) -> None:
        self.select_model(self.model_picker.itemData(idx))

    def _set_card(self, card, loaded) -> None:
        self.card = card
        self.legend.set_card(card)
        self.cam.set_model(loaded)
        from ..inference.cam.engine import candidate_layers

        self.cam_panel.set_card(card, candidate_layers(loaded.net) if loaded is not None else [])
        self._cam_changed()
        self.fit_docks()

    def on_model_ready(self, seg, name: str) -> None:
        self.model_simulated = bool(seg.card.simulated)
        self.hide_banner("model")  # a source error stays up: it is not the model's to clear
        self.hide_banner("other")
        from ..inference.backends import describe_backend

        self.status_line.backend_label.setText(f"{name} · {seg.device.type} · {seg.backend_name}")
        # the probe's timings are detail: on hover, so the line fits a 1280 px window
        tip = describe_backend(seg)
        self.status_line.backend_label.setToolTip(
            f"{tip}\n{seg.accel_note}" if seg.accel_note else tip
        )
        if seg.accel_note and seg.accel_mode == "off":  # asked for, and it could not run here
            self.show_banner(seg.accel_note, "other")
        self._set_card(seg.card, seg.torch_model)
        self.update_marks()

    @Slot(str, str)
    def on_model_failed(self, name: str, msg: str) -> None:
        self.model_simulated = False
        self.status_line.backend_label.setText(self.tr("no model"))
        self._set_card(None, None)
        self.show_banner(
            self.tr("Model “%1” could not be loaded, so the picture is shown without overlay. %2")
            .replace("%1", name)
            .replace("%2", msg),
            "model",
        )
        self.update_marks()

    # ---- sources ---------------------------------------------------------------------
    def set_source(self, source: str | FrameSource | None) -> None:
        """Switch the input: a live source (the simulated scanner, a capture card, a stream)
        plays here; a recording given by path opens in Review instead, where it is seeked,
        as from File → Open clip, the input picker, drag and drop or the command line."""
        if source is None:
            self.pipeline.set_source(None)
            return
        if _is_clip(source):
            self.review.open(source)
            return
        try:
            src = open_source(source) if isinstance(source, str) else source
        except SourceError as e:
            self.show_banner(str(e), "source")
            return
        self.hide_banner("source")
        self.source = src
        self.set_source_text(src.describe())
        self.pipeline.set_source(src)
        self.ood.reset()
        self.pipeline.start()
        self.input_picker.sync()
        self.update_marks()

    # ---- pipeline events -------------------------------------------------------------
    @Slot(object)
    def on_result(self, result: Result) -> None:
        self.last_result = result
        image = result.image
        if self.mode_settings.side_by_side and result.seg is not None:
            gap = np.zeros((image.shape[0], max(4, image.shape[1] // 100), 3), np.uint8)
            image = np.hstack([result.frame.pixels, gap, image])
        self.view.set_frame(image)
        if self.presenter is not None and self.presenter.isVisible():
            self.presenter.set_frame(image)
        if result.seg is not None and self.docks["legend"].isVisible():
            hidden = result.ood_hidden and not result.ood_shown_anyway
            self.legend.update_confidence({} if hidden else result.seg.confidence)
        self.ood.show(result)

    @Slot(object)
    def on_event(self, event: SessionEvent) -> None:
        """The session's events: the source's state on the picture and the status line, a
        problem on its topic's banner line (Review's clip events go to its controller)."""
        if isinstance(event, SourceState):
            if event.status is SourceStatus.LOST:
                self.show_no_signal(self.tr("No signal"), event.text)
                self.set_source_text(event.text)
            elif event.status is SourceStatus.LIVE:
                self.set_source_text(event.text)
            else:
                self.set_source_text(self.tr("End of clip: %1").replace("%1", event.text))
        elif isinstance(event, Problem) and event.topic is Topic.ROI:
            self.input_picker.show_roi_notice(event.message)  # with its Adjust ROI… button
        elif isinstance(event, Problem):
            self.show_banner(event.message, event.topic.value)

    # ---- the display and status ports (app/ports.py) -------------------------------------
    def show_no_signal(self, headline: str, detail: str = "") -> None:
        """The one way "no signal" (or "connecting…") reaches the screen: the main view
        with its reason, the presenter's view with the headline."""
        self.view.show_no_signal(headline + ("\n" + detail if detail else ""))
        if self.presenter is not None:
            self.presenter.view.show_no_signal(headline)

    def set_source_text(self, text: str) -> None:
        """What the status line says about the source."""
        self.status_line.source_label.setText(text)

    def show_message(self, text: str, ms: int = 0) -> None:
        """A passing note in the status line."""
        self.status_line.showMessage(text, ms)

    def show_note(self, text: str, path: str = "", ms: int = 4000) -> None:
        self.status_line.show_note(text, path, ms)

    def current_array(self) -> np.ndarray | None:
        """The picture on screen, as shown (side by side included)."""
        return self.view.current_array()

    @Slot(object)
    def on_style(self, style: OverlayStyle) -> None:
        self.pipeline.set_style(style)
        self._save_mode_from_panels()

    def _refresh_status(self) -> None:
        self.status_line.update_figures(self.pipeline.stats, self.pipeline.dropped)
        r = self.last_result
        if self.cam.worker is not None:
            self.cam_panel.show_age(r and r.cam_age, r and r.cam_class, self.cam.rate())
            age = self.cam_panel.age
            if age.height() < age.heightForWidth(age.width()):
                self.fit_docks()  # the readout wrapped onto another line
            if self.cam.worker.error:
                self.show_banner(self.cam.worker.error)
                self.cam.worker.error = None

    def show_source(self, source: FrameSource) -> None:
        """The source on screen changed without the live path (a clip opened in Review): the
        simulated-data mark follows it."""
        self.source = source
        self.update_marks()

    def update_marks(self) -> None:
        src_sim = self.source is not None and self.source.simulated
        sim = src_sim or self.model_simulated
        why = []
        if src_sim:
            why.append(self.tr("The picture comes from the simulated scanner."))
        if self.model_simulated:
            why.append(self.tr("The model was trained on simulated images only."))
        marks = [self.tr("Not for diagnostic use")]
        if self.model_simulated:
            marks.insert(0, self.tr("Model trained on simulated images"))
        elif src_sim:
            marks.insert(0, self.tr("Simulated data"))
        # the badge says what is simulated (a real clip under a simulated-data model is not
        # "simulated data"), in few words (the status line is full); the tooltip says why
        badge = self.tr("Simulated data") if src_sim else self.tr("Model: simulated data")
        self.status_line.set_simulated(sim, " ".join(why), badge)
        self.view.marks = marks
        self.view.update()
        if self.presenter is not None:
            self.presenter.view.marks = list(marks)

    def fit_docks(self) -> None:
        """Widen and heighten the right-hand panels to what their contents need (a new card
        brings longer organ names; the CAM readout wraps), so that nothing is cut off."""
        area = Qt.DockWidgetArea.RightDockWidgetArea
        right = [d for d in self.docks.values() if d.isVisible() and not d.isFloating()]
        right = [d for d in right if self.dockWidgetArea(d) == area]
        if not right:
            return
        need_w = max(d.widget().sizeHint().width() for d in right) + 8
        if any(d.width() < need_w for d in right):
            self.resizeDocks(right, [need_w] * len(right), Qt.Orientation.Horizontal)
        if any(d.widget().height() < d.widget().sizeHint().height() for d in right):
            self.resizeDocks(right, [d.sizeHint().height() for d in right], Qt.Orientation.Vertical)

    def open_clip(self, path: str) -> None:
        """Open a clip, DICOM cine or image folder in Review (stepped and seeked there)."""
        self.review.open(path)

    # ---- windows -----------------------------------------------------------------------
    def toggle_fullscreen(self, on: bool | None = None) -> None:
        on = not self.isFullScreen() if on is None else on
        self.fullscreen_action.setChecked(on)
        self.showFullScreen() if on else self.showNormal()

    def toggle_presenter(self, on: bool) -> None:
        if on:
            if self.presenter is None:
                self.presenter = PresenterWindow(self.view.marks, self)
                self.presenter.destroyed.connect(lambda: setattr(self, "presenter", None))
            self.presenter.show_on_best_screen()
        elif self.presenter is not None:
            self.presenter.close()

    # ---- messages (the banner port) ---------------------------------------------------
    def show_banner(self, text: str, topic: str = "other", action: QAction | None = None) -> None:
        self.banner.show_banner(text, topic, action)

    def hide_banner(self, topic: str | None = None) -> None:
        self.banner.hide_banner(topic)

    def closeEvent(self, e) -> None:  # noqa: N802 - Qt API
        self._timer.stop()
        if self.recording.recording:
            self.recording.stop()  # the last fragment is written, so the file plays to its end
            self.recording.wait_closed(3.0)
        self._save_mode_from_panels()
        self.snapshots.close()
        self.session.close()
        if self.presenter is not None:
            self.presenter.close()
        super().closeEvent(e)


def _is_clip(source: object) -> bool:
    """A recording given by path (it opens in Review), not a live input."""
    return isinstance(source, str) and is_recording(source)
