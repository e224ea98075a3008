"""CAM controls: on/off, organ (or auto), method, target layer, and the map's age."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QWidget

from ...inference.cam.engine import DEFAULT_LAYER, DEFAULT_METHOD, LIVE_METHODS, REVIEW_METHODS
from ...models.card import ModelCard


class CamPanel(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox(self.tr("Show CAM heatmap"))
        self.organ = QComboBox()
        self.method = QComboBox()
        self.layer = QComboBox()
        self.organ.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.age = QLabel("–")
        self.age.setWordWrap(True)  # the narrow dock must not cut the "maps/s" readout
        form = QFormLayout(self)
        form.addRow(self.enabled)
        form.addRow(self.tr("Organ"), self.organ)
        form.addRow(self.tr("Method"), self.method)
        form.addRow(self.tr("Layer"), self.layer)
        form.addRow(self.tr("Map age"), self.age)
        self.set_methods(LIVE_METHODS)
        self.enabled.toggled.connect(self.changed)
        for box in (self.organ, self.method, self.layer):
            box.currentIndexChanged.connect(lambda *_: self.changed.emit())

    def set_card(self, card: ModelCard | None, layers: list[str]) -> None:
        for box in (self.organ, self.layer):
            box.blockSignals(True)
            box.clear()
        self.organ.addItem(self.tr("auto (largest organ)"), None)
        if card is not None:
            for i, c in enumerate(card.classes[1:], start=1):
                self.organ.addItem(QCoreApplication.translate("LegendPanel", c.display), i)
        for name in layers:
            self.layer.addItem(name, name)
        i = self.layer.findData(DEFAULT_LAYER)
        self.layer.setCurrentIndex(max(0, i))
        for box in (self.organ, self.layer):
            box.blockSignals(False)

    def set_methods(self, methods: tuple[str, ...]) -> None:
        cur = self.method.currentData() or DEFAULT_METHOD
        self.method.blockSignals(True)
        self.method.clear()
        for m in methods:
            self.method.addItem(m, m)
        self.method.setCurrentIndex(max(0, self.method.findData(cur)))
        self.method.blockSignals(False)

    def review_methods(self, review: bool) -> None:
        self.set_methods(REVIEW_METHODS if review else LIVE_METHODS)

    def show_age(self, frames: int | None, organ: str | None, rate_hz: float) -> None:
        if frames is None:
            self.age.setText("–")
        else:
            self.age.setText(
                self.tr("%1: %2 frames old · %3 maps/s")
                .replace("%1", organ or "")
                .replace("%2", str(frames))
                .replace("%3", f"{rate_hz:.1f}")
                .replace(" · ", "\n")  # age and rate on their own lines
            )
