"""Names that come from Qt-free code, shown in the user's language.

Organ names come from the model card, source names from ``FrameSource.describe()`` and the
training-data check's lines from ``inference/gate/ood.py``; all are English there. The app
translates them here (organs in the "LegendPanel" context, where legend_panel.py marks them;
sources in "Sources"; the lines in "GateLines"), so capture/, models/ and inference/ stay
free of Qt.
"""

from __future__ import annotations

import dataclasses
import re

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel

from ..inference.gate.marks import GateWords
from ..models.card import ModelCard

# (pattern of describe(), translatable template): %1, %2, ... are the groups in order
_SOURCES = (
    (re.compile(r"^Simulated scanner \(FAST\)$"), "Simulated scanner (FAST)"),
    (re.compile(r"^Clip (.+) \((\d+) frames, ([\d.]+) fps\)$"), "Clip %1 (%2 frames, %3 fps)"),
    (re.compile(r"^DICOM (.+) \((\d+) frames, ([\d.]+) fps\)$"), "DICOM %1 (%2 frames, %3 fps)"),
    (re.compile(r"^Stream (.+)$"), "Stream %1"),
    (re.compile(r"^(.+) \((\d+) images\)$"), "%1 (%2 images)"),
)


def organ_name(display: str) -> str:
    """The shipped models' class names are translated in the legend's context."""
    return QCoreApplication.translate("LegendPanel", display)


def translated_gate_words() -> GateWords:
    """The training-data check's lines on the picture, in the user's language (the
    "GateLines" context; the pipeline falls back to English where no font can draw them)."""
    return GateWords(
        **{
            f.name: QCoreApplication.translate("GateLines", f.default)
            for f in dataclasses.fields(GateWords)
        }
    )


def translated_card(card: ModelCard) -> ModelCard:
    """A copy of ``card`` whose class display names are in the user's language (the card on
    disk is never changed)."""
    classes = [dataclasses.replace(c, display=organ_name(c.display)) for c in card.classes]
    return dataclasses.replace(card, classes=classes)


def source_name(text: str) -> str:
    """``describe()`` of a source in the user's language (unknown texts stay as they are)."""
    for pattern, template in _SOURCES:
        m = pattern.match(text)
        if m:
            out = QCoreApplication.translate("Sources", template)
            for i, g in enumerate(m.groups(), 1):
                out = out.replace(f"%{i}", g)
            return out
    return text


class SourceLabel(QLabel):
    """A label that shows source descriptions translated, whoever sets its text."""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        super().setText(source_name(text))
