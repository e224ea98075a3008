"""The eFAST exam as a Qt-free model: the checklist of views, a finding per view, the model's
view suggestion (kept apart from the finding), the timer and the progress.

The view suggestion reads the classes the model sees (liver and kidney: RUQ; spleen: LUQ;
bladder: the pelvis; heart: subxiphoid), votes over the last frames and proposes only on
frames the training-data gate accepts; frames it rejects, or a model without a
training-data statement, give no suggestion. The lungs have no organ class in the shipped
models, so their views are never suggested: the physician picks them.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np


@dataclass(frozen=True)
class ExamView:
    key: str
    label: str
    kind: str  # "fluid" (abdominal and cardiac views) or "lung"


VIEWS: tuple[ExamView, ...] = (
    ExamView("ruq", "RUQ", "fluid"),
    ExamView("luq", "LUQ", "fluid"),
    ExamView("pelvis_transverse", "Pelvis transverse", "fluid"),
    ExamView("pelvis_sagittal", "Pelvis sagittal", "fluid"),
    ExamView("subxiphoid", "Subxiphoid", "fluid"),
    ExamView("lung_left", "Left lung", "lung"),
    ExamView("lung_right", "Right lung", "lung"),
)
VIEW_BY_KEY = {v.key: v for v in VIEWS}

#: the findings a physician can record, per kind of view (code, label)
FINDINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "fluid": (("fluid", "Fluid"), ("no_fluid", "No fluid"), ("indeterminate", "Indeterminate")),
    "lung": (("sliding_present", "Sliding present"), ("sliding_absent", "Sliding absent")),
}
FINDING_LABEL = {code: label for kind in FINDINGS.values() for code, label in kind}

#: organ classes that point to a view, strongest rule first: (classes all present, views)
_RULES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("heart",), ("subxiphoid",)),
    (("bladder",), ("pelvis_transverse", "pelvis_sagittal")),
    (("spleen",), ("luq",)),
    (("liver", "kidney"), ("ruq",)),
    (("liver",), ("ruq",)),
)


@dataclass
class Suggestion:
    view: str
    confidence: float  # share of the recent voting frames times the organs' mean confidence


def vote(seg, pixels: int = 0, min_share: float = 0.005) -> tuple[str, ...] | None:
    """The views this one segmented frame points to (None: no vote). Only frames the
    training-data gate accepts vote. ``pixels``: the frame's size, to ignore specks under
    ``min_share`` of it (0: every class present counts). Reads only the per-class areas, so
    a label map still on the GPU stays there."""
    if seg is None or seg.in_distribution is not True:
        return None
    present = {c for c, a in seg.areas.items() if pixels <= 0 or a / pixels >= min_share}
    for needs, views in _RULES:
        if all(c in present for c in needs):
            return views
    return None


class ViewSuggester:
    """Majority vote over the last ``window`` frames; a view is proposed when it holds at
    least ``quorum`` of them. Among equivalent views (the two pelvis views) the first one
    not yet recorded is proposed."""

    def __init__(self, window: int = 15, quorum: float = 0.6) -> None:
        self.window = window
        self.quorum = quorum
        self._votes: deque[tuple[tuple[str, ...] | None, float]] = deque(maxlen=window)

    def reset(self) -> None:
        self._votes.clear()

    def update(
        self, seg, done: set[str] | frozenset[str] = frozenset(), pixels: int = 0
    ) -> Suggestion | None:
        views = vote(seg, pixels)
        conf = 0.0
        if views is not None:
            needs = next(n for n, v in _RULES if v == views)
            conf = float(np.mean([seg.confidence.get(c, 0.0) for c in needs]))
        self._votes.append((views, conf))
        counts = Counter(v for v, _ in self._votes if v is not None)
        if not counts:
            return None
        views, n = counts.most_common(1)[0]
        share = n / self._votes.maxlen if self._votes.maxlen else 0.0
        if share < self.quorum:
            return None
        mean_conf = float(np.mean([c for v, c in self._votes if v == views]))
        pick = next((v for v in views if v not in done), views[0])
        return Suggestion(pick, round(share * mean_conf, 3))


@dataclass
class ViewRecord:
    """One recorded view: a short clip, a key frame, the finding, the model's suggestion."""

    view: str
    recorded_s: float  # seconds since the exam started
    clip: list[np.ndarray]  # the overlay pictures of the last seconds, oldest first
    clip_fps: float
    key_image: np.ndarray  # the overlay picture at confirmation (ROI only)
    key_raw: np.ndarray | None = None  # the ROI picture without overlay
    key_labels: np.ndarray | None = None  # the model's class map of the key frame
    in_distribution: bool | None = None
    suggestion: str | None = None  # what the model proposed, apart from the finding
    suggestion_confidence: float | None = None
    finding: str | None = None

    def summary(self) -> dict:
        return {
            "view": self.view,
            "label": VIEW_BY_KEY[self.view].label,
            "recorded_s": round(self.recorded_s, 1),
            "finding": self.finding,
            "finding_label": FINDING_LABEL.get(self.finding or "", "not recorded"),
            "model_suggestion": self.suggestion,
            "model_suggestion_confidence": self.suggestion_confidence,
            "in_distribution": self.in_distribution,
            "clip_frames": len(self.clip),
            "clip_fps": round(self.clip_fps, 2),
        }


@dataclass
class Exam:
    """One eFAST exam: the views recorded so far, the findings and the times."""

    started: datetime = field(default_factory=datetime.now)
    t0: float = field(default_factory=time.monotonic)
    views: dict[str, ViewRecord] = field(default_factory=dict)
    finished_s: float | None = None

    def elapsed(self) -> float:
        return self.finished_s if self.finished_s is not None else time.monotonic() - self.t0

    def record(self, view: str, **kw) -> ViewRecord:
        """Record (or record again) ``view``; a finding already given to it is kept."""
        if view not in VIEW_BY_KEY:
            raise ValueError(f"unknown view '{view}'")
        old = self.views.get(view)
        rec = ViewRecord(view=view, recorded_s=self.elapsed(), **kw)
        if old is not None and rec.finding is None:
            rec.finding = old.finding
        self.views[view] = rec
        return rec

    def set_finding(self, view: str, finding: str) -> None:
        kind = VIEW_BY_KEY[view].kind
        if finding not in dict(FINDINGS[kind]):
            raise ValueError(f"'{finding}' is not a finding for {VIEW_BY_KEY[view].label}")
        if view not in self.views:
            raise ValueError(f"{VIEW_BY_KEY[view].label} has not been recorded yet")
        self.views[view].finding = finding

    @property
    def done(self) -> list[str]:
        return [v.key for v in VIEWS if v.key in self.views]

    @property
    def missing(self) -> list[str]:
        return [v.key for v in VIEWS if v.key not in self.views]

    def progress(self) -> str:
        return f"{len(self.done)}/{len(VIEWS)}"

    def finish(self) -> None:
        if self.finished_s is None:
            self.finished_s = time.monotonic() - self.t0
