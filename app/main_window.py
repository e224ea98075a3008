"""The main window: the video view, the input and model pickers, overlay controls, status."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ..capture.source import FrameSource, SourceError
from ..inference.overlay import OverlayStyle
from ..inference.pipeline import Pipeline, Result
from ..models.registry import DEFAULT_MODEL, list_models
from .bridge import PipelineBridge
from .overlay_panel import OverlayPanel
from .status_line import StatusLine
from .video_view import VideoView


def make_source(spec: str) -> FrameSource:
    """'phantom', a file path, a URL or 'device:<name>' -> a frame source (not yet opened)."""
    if spec == "phantom":
        from ..capture.phantom import PhantomSource

        return PhantomSource()
    from ..capture.open_source import open_source

    return open_source(spec)


class MainWindow(QMainWindow):
    def __init__(
        self,
        source: str | FrameSource = "phantom",
        model: str | None = DEFAULT_MODEL,
        settings: QSettings | None = None,
        device: str = "auto",
    ) -> None:
        super().__init__()
        self.setWindowTitle(self.tr("SonoLive — not for diagnostic use"))
        self.resize(1280, 800)
        self.settings = settings or QSettings("SonoLive", "SonoLive")
        self.device = device
        self.model_name: str | None = None
        self.model_simulated = False

        style = OverlayStyle(opacity=float(self.settings.value("overlay/opacity", 0.45)))
        self.view = VideoView()
        self.view.marks = [self.tr("Not for diagnostic use")]
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "QLabel{background:#7a3b00;color:white;padding:6px;font-size:14px}"
        )
        self.banner.setVisible(False)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.banner)
        lay.addWidget(self.view, 1)
        self.setCentralWidget(central)

        self.status_line = StatusLine()
        self.setStatusBar(self.status_line)

        self.overlay_panel = OverlayPanel(style)
        dock = QDockWidget(self.tr("Overlay"), self)
        dock.setObjectName("overlay-dock")
        dock.setWidget(self.overlay_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

        self.pipeline = Pipeline(None, None, style)
        self.bridge = PipelineBridge(self.pipeline, self)
        self.bridge.resultReady.connect(self.on_result)
        self.bridge.status.connect(self.on_status)
        self.bridge.modelReady.connect(self.on_model_ready)
        self.bridge.modelFailed.connect(self.on_model_failed)
        self.overlay_panel.styleChanged.connect(self.on_style)

        self.source_picker = QComboBox()
        self.source_picker.addItem(self.tr("Simulated scanner"), "phantom")
        self.model_picker = QComboBox()
        self.model_picker.setMinimumWidth(180)
        self.refresh_models()
        tb = QToolBar(self.tr("Main"))
        tb.setObjectName("main-toolbar")
        tb.addWidget(QLabel(self.tr(" Input ")))
        tb.addWidget(self.source_picker)
        tb.addWidget(QLabel(self.tr(" Model ")))
        tb.addWidget(self.model_picker)
        self.addToolBar(tb)
        self.model_picker.currentIndexChanged.connect(self._model_picked)

        self.last_result: Result | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._refresh_status)
        self._timer.start(500)

        if model:
            self.select_model(model)
        self.set_source(source)

    # ---- models --------------------------------------------------------------
    def refresh_models(self) -> None:
        self.model_picker.blockSignals(True)
        self.model_picker.clear()
        self.model_picker.addItem(self.tr("(no overlay)"), None)
        for e in list_models():
            self.model_picker.addItem(e.name, e.name if e.error is None else None)
            if e.error:
                idx = self.model_picker.count() - 1
                self.model_picker.setItemData(idx, e.error, Qt.ItemDataRole.ToolTipRole)
                self.model_picker.model().item(idx).setEnabled(False)
        self.model_picker.blockSignals(False)

    def select_model(self, name: str | None) -> None:
        """Load a model in the background; frames keep flowing meanwhile."""
        self.model_name = name
        idx = self.model_picker.findData(name)
        if idx >= 0:
            self.model_picker.blockSignals(True)
            self.model_picker.setCurrentIndex(idx)
            self.model_picker.blockSignals(False)
        if name is None:
            self.pipeline.set_segmenter(None)
            self.model_simulated = False
            self._update_marks()
            return
        self.bridge.load_model_async(name, self.device)

    def _model_picked(self, idx: int) -> None:
        self.select_model(self.model_picker.itemData(idx))

    @Slot(object, str)
    def on_model_ready(self, seg, name: str) -> None:
        self.model_simulated = bool(seg.card.simulated)
        self.hide_banner()
        self.status_line.backend_label.setText(f"{name} · {seg.device.type}")
        self._update_marks()

    @Slot(str, str)
    def on_model_failed(self, name: str, msg: str) -> None:
        self.model_simulated = False
        self.status_line.backend_label.setText(self.tr("no model"))
        self.show_banner(
            self.tr("Model “%1” could not be loaded, so the picture is shown without overlay. %2")
            .replace("%1", name)
            .replace("%2", msg)
        )
        self._update_marks()

    # ---- sources -------------------------------------------------------------
    def set_source(self, source: str | FrameSource) -> None:
        try:
            src = make_source(source) if isinstance(source, str) else source
        except SourceError as e:
            self.show_banner(str(e))
            return
        self.source = src
        self.status_line.source_label.setText(src.describe())
        self.pipeline.set_source(src)
        self.pipeline.start()
        self._update_marks()

    # ---- pipeline events -----------------------------------------------------
    @Slot(object)
    def on_result(self, result: Result) -> None:
        self.last_result = result
        self.view.set_frame(result.image)

    @Slot(str, str)
    def on_status(self, kind: str, msg: str) -> None:
        if kind == "lost":
            self.view.show_no_signal(self.tr("No signal") + "\n" + msg)
            self.status_line.source_label.setText(msg)
        elif kind == "live":
            self.status_line.source_label.setText(msg)
        elif kind in ("error", "warning"):
            self.show_banner(msg)
        elif kind == "end":
            self.status_line.source_label.setText(self.tr("End of clip: %1").replace("%1", msg))

    @Slot(object)
    def on_style(self, style: OverlayStyle) -> None:
        self.pipeline.set_style(style)
        self.settings.setValue("overlay/opacity", style.opacity)

    def _refresh_status(self) -> None:
        self.status_line.update_figures(self.pipeline.stats, self.pipeline.dropped)

    def _update_marks(self) -> None:
        src_sim = bool(getattr(getattr(self, "source", None), "simulated", False))
        sim = src_sim or self.model_simulated
        why = []
        if src_sim:
            why.append(self.tr("The picture comes from the simulated scanner."))
        if self.model_simulated:
            why.append(self.tr("The model was trained on simulated images only."))
        self.status_line.set_simulated(sim, " ".join(why))
        marks = [self.tr("Not for diagnostic use")]
        if sim:
            marks.insert(0, self.tr("Simulated data"))
        self.view.marks = marks
        self.view.update()

    # ---- messages --------------------------------------------------------------
    def show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(True)

    def hide_banner(self) -> None:
        self.banner.setVisible(False)

    def closeEvent(self, e) -> None:  # noqa: N802 - Qt API
        self._timer.stop()
        self.pipeline.stop()
        super().closeEvent(e)
