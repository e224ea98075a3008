"""The legend: each class with its colour swatch, display name and the model's confidence."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from ...models.card import ModelCard

# Display names of the shipped models' classes, marked so that lupdate collects them; a
# hospital's own class names are shown as written in its model card.
KNOWN_CLASS_NAMES = (
    QT_TRANSLATE_NOOP("LegendPanel", "Liver"),
    QT_TRANSLATE_NOOP("LegendPanel", "Kidney"),
    QT_TRANSLATE_NOOP("LegendPanel", "Spleen"),
    QT_TRANSLATE_NOOP("LegendPanel", "Bladder"),
    QT_TRANSLATE_NOOP("LegendPanel", "Heart"),
    QT_TRANSLATE_NOOP("LegendPanel", "Free fluid"),
    QT_TRANSLATE_NOOP("LegendPanel", "Nerve"),
    QT_TRANSLATE_NOOP("LegendPanel", "Vessel"),
)


class LegendPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout()
        self.title = QLabel(self.tr("Legend"))
        self.title.setStyleSheet("font-weight:bold")
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addLayout(self._grid)
        lay.addStretch(1)
        self.rows: dict[str, tuple[QLabel, QLabel, QLabel]] = {}

    def set_card(self, card: ModelCard | None) -> None:
        while self._grid.count():
            w = self._grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.rows.clear()
        if card is None:
            return
        for r, c in enumerate(card.classes[1:]):
            sw = QLabel()
            pm = QPixmap(18, 18)
            pm.fill(QColor(*c.color))
            sw.setPixmap(pm)
            name = QLabel(self.tr(c.display))
            conf = QLabel("–")
            self._grid.addWidget(sw, r, 0)
            self._grid.addWidget(name, r, 1)
            self._grid.addWidget(conf, r, 2)
            self.rows[c.name] = (sw, name, conf)

    def update_confidence(self, confidence: dict[str, float]) -> None:
        for cname, (_, name, conf) in self.rows.items():
            if cname in confidence:
                conf.setText(f"{confidence[cname] * 100:.0f} %")
                name.setStyleSheet("font-weight:bold")
            else:
                conf.setText("–")
                name.setStyleSheet("color:#888")
