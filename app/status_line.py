"""The status line: fps, added latency (p50/p95 over the last seconds), dropped frames,
and the permanent 'Not for diagnostic use' and 'Simulated data' marks."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

from ..inference.stats import LatencyStats


class StatusLine(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from .localize import SourceLabel

        self.source_label = SourceLabel()  # source names in the UI language
        self.fps_label = QLabel()
        self.latency_label = QLabel()
        self.dropped_label = QLabel()
        self.backend_label = QLabel()
        self.simulated_label = QLabel(self.tr("Simulated data"))
        self.simulated_label.setStyleSheet(
            "QLabel{background:#5a4a00;color:#ffe680;padding:2px 6px;font-weight:bold}"
        )
        self.diagnostic_label = QLabel(self.tr("Not for diagnostic use"))
        self.diagnostic_label.setStyleSheet(
            "QLabel{background:#6b0000;color:white;padding:2px 6px;font-weight:bold}"
        )
        # the source's name gives way first (elided by the status bar), never the marks
        self.source_label.setMinimumWidth(40)
        self.source_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.addWidget(self.source_label, 1)
        for w in (self.fps_label, self.latency_label, self.dropped_label, self.backend_label):
            self.addPermanentWidget(w)
        self.addPermanentWidget(self.simulated_label)
        self.addPermanentWidget(self.diagnostic_label)
        self.simulated_label.setVisible(False)
        self.update_figures(None, 0)

    def show_note(self, text: str, path: str = "", ms: int = 4000) -> None:
        """A passing message, then ``path`` (a snapshot's file) elided from the left to the
        room before the figures: the file's name stays readable instead of being cut off at
        the fps figure."""
        room = self.fps_label.x() - 14 if self.fps_label.isVisible() else self.width() - 18
        fm = self.fontMetrics()
        if path and room - fm.horizontalAdvance(text) < 100:  # a narrow window: the path only
            text = ""
        width = max(60, room - fm.horizontalAdvance(text))
        tail = fm.elidedText(path, Qt.TextElideMode.ElideLeft, width)
        self.showMessage(text + tail, ms)

    def update_figures(self, stats: LatencyStats | None, dropped: int) -> None:
        if stats is None:
            fps, p50, p95 = 0.0, 0.0, 0.0
        else:
            fps = stats.fps()
            s = stats.summary()["total"]
            p50, p95 = s["p50"], s["p95"]
        self.fps_label.setText(self.tr("%1 fps").replace("%1", f"{fps:.1f}"))
        self.latency_label.setText(
            self.tr("latency p50 %1 ms · p95 %2 ms")
            .replace("%1", f"{p50:.0f}" if fps > 0 else "–")  # no frames: no figure
            .replace("%2", f"{p95:.0f}" if fps > 0 else "–")
        )
        self.dropped_label.setText(self.tr("dropped %1").replace("%1", str(dropped)))

    def set_simulated(self, simulated: bool, why: str = "", text: str = "") -> None:
        if text:
            self.simulated_label.setText(text)
        self.simulated_label.setVisible(simulated)
        self.simulated_label.setToolTip(why)
