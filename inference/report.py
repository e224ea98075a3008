"""Per-frame figures in plain numbers: classes present, areas (pixels and % of the ROI),
confidence. Shared by snapshots (app) and batch processing (``sonolive process``); Qt-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .segmenter import Segmentation


def frame_report(
    seg: Segmentation | None,
    roi_area: int,
    *,
    index: int | None = None,
    time_s: float | None = None,
) -> dict[str, Any]:
    """The figures of one frame as a JSON-ready dict.

    ``roi_area`` is the number of pixels of the ultrasound picture the model saw (the frame
    is already cropped to its ROI, so this is ``height * width`` of the frame). Areas are
    given in pixels and in percent of that area; confidence is the mean top-class
    probability over each present class's pixels. With no segmentation (no model, or the
    model failed) the lists are empty.
    """
    areas = dict(seg.areas) if seg is not None else {}
    conf = dict(seg.confidence) if seg is not None else {}
    roi_area = max(1, int(roi_area))
    out: dict[str, Any] = {}
    if index is not None:
        out["index"] = int(index)
    if time_s is not None:
        out["time_s"] = round(float(time_s), 6)
    out["classes_present"] = list(areas)
    out["areas_px"] = {k: int(v) for k, v in areas.items()}
    out["areas_pct"] = {k: round(100.0 * v / roi_area, 4) for k, v in areas.items()}
    out["confidence"] = {k: round(float(conf.get(k, 0.0)), 4) for k in areas}
    # like the model's training data? (None: the model has no reference statistics)
    out["in_distribution"] = seg.in_distribution if seg is not None else None
    out["ood_score"] = seg.ood_score if seg is not None else None
    return out


def csv_header(class_names: Sequence[str]) -> list[str]:
    """Columns of the per-frame CSV for a model's (foreground) classes."""
    cols = ["index", "time_s", "classes_present"]
    for name in class_names:
        cols += [f"{name}_area_px", f"{name}_area_pct", f"{name}_confidence"]
    return [*cols, "in_distribution", "ood_score"]


def csv_row(report: dict[str, Any], class_names: Sequence[str]) -> list[Any]:
    """One CSV row for :func:`frame_report`'s dict; absent classes get 0 area and empty conf."""
    row: list[Any] = [
        report.get("index", ""),
        report.get("time_s", ""),
        ";".join(report["classes_present"]),
    ]
    for name in class_names:
        if name in report["areas_px"]:
            row += [
                report["areas_px"][name],
                report["areas_pct"][name],
                report["confidence"][name],
            ]
        else:
            row += [0, 0.0, ""]
    ind = report.get("in_distribution")
    score = report.get("ood_score")
    return [*row, "" if ind is None else str(bool(ind)).lower(), "" if score is None else score]


@dataclass
class _ClassTotals:
    frames: int = 0
    area_px: float = 0.0
    area_pct: float = 0.0
    confidence: float = 0.0


@dataclass
class ReportSummary:
    """Accumulates frame reports into per-class totals for a clip's summary.

    Frames judged unlike the model's training data (``in_distribution`` False) are counted
    apart and add nothing to the class totals: the summary never reports an organ present,
    its area or its confidence from them (their rows keep the raw figures, marked). Frames
    without a verdict (a model without reference statistics) count as they are.
    """

    class_names: Sequence[str]
    frames: int = 0
    totals: dict[str, _ClassTotals] = field(default_factory=dict)
    #: frames judged unlike the training data, left out of the class totals
    ood_frames: int = 0
    #: frames that had a verdict at all (0: the model is not gated)
    judged_frames: int = 0

    @property
    def counted_frames(self) -> int:
        """The frames the class figures are counted over (the in-distribution ones)."""
        return self.frames - self.ood_frames

    def add(self, report: dict[str, Any]) -> None:
        self.frames += 1
        verdict = report.get("in_distribution")
        if verdict is not None:
            self.judged_frames += 1
        if verdict is False:
            self.ood_frames += 1
            return
        for name in report["classes_present"]:
            t = self.totals.setdefault(name, _ClassTotals())
            t.frames += 1
            t.area_px += report["areas_px"][name]
            t.area_pct += report["areas_pct"][name]
            t.confidence += report["confidence"][name]

    def per_class(self) -> dict[str, dict[str, float | int | None]]:
        """For every class: frames present among the counted frames, and mean area and
        confidence over those frames (confidence None when the class was never present;
        the fraction None when no frame was counted, so that "no fluid" is never read into a
        clip the model could not judge)."""
        out: dict[str, dict[str, float | int | None]] = {}
        counted = self.counted_frames
        for name in self.class_names:
            t = self.totals.get(name, _ClassTotals())
            n = max(1, t.frames)
            out[name] = {
                "frames_present": t.frames,
                # no frame to count over (all unlike the training data): unknown, not 0
                "fraction_present": round(t.frames / counted, 4) if counted else None,
                "mean_area_px": round(t.area_px / n, 2) if t.frames else 0.0,
                "mean_area_pct": round(t.area_pct / n, 4) if t.frames else 0.0,
                "mean_confidence": round(t.confidence / n, 4) if t.frames else None,
            }
        return out
