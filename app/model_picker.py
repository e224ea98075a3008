"""The toolbar's model list: every installed model, a broken one greyed out with its reason."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QComboBox, QWidget

from ..models.registry import list_models


class ModelPicker(QComboBox):
    """The models to pick from; the entry's data is the model's name (None: no overlay)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(140)
        self.refresh()

    def refresh(self) -> None:
        """List the models again (one was added), keeping the one shown picked, silently."""
        shown = self.currentData()
        self.blockSignals(True)
        self.clear()
        self.addItem(QCoreApplication.translate("MainWindow", "(no overlay)"), None)
        for e in list_models():
            self.addItem(e.name, e.name if e.error is None else None)
            if e.error:
                idx = self.count() - 1
                self.setItemData(idx, e.error, Qt.ItemDataRole.ToolTipRole)
                self.model().item(idx).setEnabled(False)  # type: ignore[attr-defined]
        self.show_name(shown)
        self.blockSignals(False)

    def show_name(self, name: str | None) -> None:
        """Show ``name`` as picked without announcing a pick."""
        idx = self.findData(name)
        if idx >= 0:
            self.blockSignals(True)
            self.setCurrentIndex(idx)
            self.blockSignals(False)
