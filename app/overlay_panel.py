"""Overlay toggles (fill, outline, names) and the opacity slider."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QSlider, QVBoxLayout, QWidget

from ..inference.overlay import OverlayStyle


class OverlayPanel(QWidget):
    styleChanged = Signal(object)  # OverlayStyle  # noqa: N815

    def __init__(self, style: OverlayStyle, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._style = style
        self.show_overlay = QCheckBox(self.tr("Show overlay"))
        self.fill = QCheckBox(self.tr("Filled masks"))
        self.outline = QCheckBox(self.tr("Outlines"))
        self.names = QCheckBox(self.tr("Organ names"))
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity_value = QLabel()
        self.show_overlay.setChecked(True)
        self.fill.setChecked(style.fill)
        self.outline.setChecked(style.outline)
        self.names.setChecked(style.names)
        self.opacity.setValue(int(round(style.opacity * 100)))
        form = QFormLayout()
        form.addRow(self.tr("Opacity"), self.opacity)
        form.addRow("", self.opacity_value)
        lay = QVBoxLayout(self)
        for w in (self.show_overlay, self.fill, self.outline, self.names):
            lay.addWidget(w)
        lay.addLayout(form)
        lay.addStretch(1)
        for box in (self.show_overlay, self.fill, self.outline, self.names):
            box.toggled.connect(self._emit)
            # clicked, never focused: Space is play/pause, it must not untick a box that
            # happened to keep the focus after a click
            box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.opacity.valueChanged.connect(self._emit)
        self._update_label()

    def style(self) -> OverlayStyle:
        on = self.show_overlay.isChecked()
        return replace(
            self._style,
            fill=on and self.fill.isChecked(),
            outline=on and self.outline.isChecked(),
            names=on and self.names.isChecked(),
            opacity=self.opacity.value() / 100.0,
        )

    def chosen_style(self) -> OverlayStyle:
        """The boxes as ticked, whatever "Show overlay" says: what a mode keeps in the
        settings (unticking "Show overlay" hides the overlay for now, it does not forget the
        choice of fill, outlines and names)."""
        return replace(
            self._style,
            fill=self.fill.isChecked(),
            outline=self.outline.isChecked(),
            names=self.names.isChecked(),
            opacity=self.opacity.value() / 100.0,
        )

    def set_style(self, style: OverlayStyle) -> None:
        self._style = style
        for box, val in (
            (self.fill, style.fill),
            (self.outline, style.outline),
            (self.names, style.names),
        ):
            box.blockSignals(True)
            box.setChecked(val)
            box.blockSignals(False)
        self.opacity.blockSignals(True)
        self.opacity.setValue(int(round(style.opacity * 100)))
        self.opacity.blockSignals(False)
        self._update_label()

    def _update_label(self) -> None:
        self.opacity_value.setText(f"{self.opacity.value()} %")

    def _emit(self, *_args) -> None:
        self._update_label()
        self._style = self.style()
        self.styleChanged.emit(self._style)
