"""The training-data check in the window: a small gauge, the hidden-overlay line and
"Show anyway".

The pipeline (Qt-free) decides, with hysteresis, when the overlay gives way to the line
"Picture unlike this model's training data – overlay hidden"; it draws that line into the
picture itself, so Bedside, Teaching, Review, the presenter view and recordings all show it.
Here the window gets:

* ``action``: "Show anyway", checkable, off by default and unchecked again on
  every source or model change (the pipeline resets its own flag at the same moments);
* a gauge in the status line and in the legend: how familiar the picture looks to the model
  (a bar that empties as the score nears and passes the threshold), or "not checked" with the
  reason when the model has no reference statistics; its tooltip says which score the model
  uses (the network's features and the picture statistics, or the statistics only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QProgressBar

from ..inference.pipeline import Result
from ..inference.session import Session
from .ports import DisplayPort, StatusPort

if TYPE_CHECKING:
    from .review.controller import ReviewController


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


def familiarity(score: float, threshold: float) -> int:
    """0-100 for the gauge: 100 at the training mean, about 50 at the threshold, 0 far out."""
    return int(round(100 * max(0.0, 1.0 - 0.5 * score / threshold)))


class OodGauge(QProgressBar):
    """A small bar: full and green for a familiar picture, short and amber past the line."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setRange(0, 100)
        self.setFixedWidth(150)
        self.setMaximumHeight(16)
        self.setFormat(_tr("like training data"))
        self.setTextVisible(True)
        self.set_state(None, None, _tr("not checked"))

    def set_state(self, value: int | None, familiar: bool | None, why: str = "") -> None:
        self.setValue(0 if value is None else value)
        self.setFormat(
            _tr("not checked")
            if familiar is None
            else _tr("like training data")
            if familiar
            else _tr("unlike training data")
        )
        colour = "#3a9a4a" if familiar else "#c98a00" if familiar is not None else "#777"
        self.setStyleSheet(
            f"QProgressBar{{font-size:10px}}QProgressBar::chunk{{background:{colour}}}"
        )
        self.setToolTip(why)


class OodControl(QObject):
    """The "Show anyway" action and the two gauges (the window places them in the mode bar,
    the status line and the legend); a new source or model resets it (:meth:`reset`)."""

    def __init__(
        self,
        session: Session,
        review: ReviewController,
        status: StatusPort,
        display: DisplayPort,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.pipeline = session.pipeline
        self.review = review
        self.status = status
        self.display = display
        self.action = QAction(_tr("Show anyway"), self, checkable=True)
        self.action.setToolTip(
            _tr("Draw the overlay even on pictures unlike the model's training data (marked)")
        )
        self.action.toggled.connect(self._toggled)
        self.gauge = OodGauge()
        self.legend_gauge = OodGauge()
        self.legend_label = QLabel(_tr("Like the training data:"))
        self.shown_note: str | None = None  # the "no statistics" note, said once per model

    def _toggled(self, on: bool) -> None:
        self.pipeline.set_show_ood(bool(on))
        # the frame on screen follows at once, even when no new frame is coming
        if self.review.active:
            self.review.refresh()
        elif (shown := self.display.last_result) is not None:
            self.pipeline.redo(shown.frame)

    def reset(self, *_args) -> None:
        """A new source or model: "Show anyway" is off again."""
        self.action.blockSignals(True)
        self.action.setChecked(False)
        self.action.blockSignals(False)
        self.pipeline.set_show_ood(False)
        seg = self.pipeline.segmenter
        note = seg.reference_note if seg is not None else None
        if note and note != self.shown_note:
            self.shown_note = note
            self.status.show_message(note, 15000)

    def show(self, result: Result) -> None:
        """Update the gauges from a shown frame."""
        seg = result.seg
        model = self.pipeline.segmenter
        ref = model.reference if model is not None else None
        if seg is None or seg.ood_score is None or ref is None:
            why = (model.reference_note if model is not None else None) or ""
            for g in (self.gauge, self.legend_gauge):
                g.set_state(None, None, why or _tr("not checked"))
            return
        value = familiarity(seg.ood_score, ref.threshold)
        why = _tr("score %1 (threshold %2)").replace("%1", f"{seg.ood_score:.2f}")
        why = why.replace("%2", f"{ref.threshold:.2f}")
        # which score this model's check uses (a format that hides the network's inside, or
        # an older reference.json, has the statistics only)
        deep = ref.deep is not None and model.ood_features.visible
        why += " · " + (
            _tr("network features + picture statistics")
            if deep
            else _tr("picture and output statistics only")
        )
        if result.ood_hidden:
            why += " · " + (_tr("shown anyway") if result.ood_shown_anyway else _tr("hidden"))
        for g in (self.gauge, self.legend_gauge):
            g.set_state(value, bool(seg.in_distribution), why)
        if self.action.isChecked() != self.pipeline.show_ood:  # reset by the pipeline
            self.action.blockSignals(True)
            self.action.setChecked(self.pipeline.show_ood)
            self.action.blockSignals(False)
