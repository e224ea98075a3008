"""Rolling per-stage latency figures, read by the status line and by ``sonolive bench``."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..capture.frame import Frame

STAGES = ("capture", "preprocess", "infer", "compose", "handoff")
FIELDS = (*STAGES, "total")


@dataclass
class Timings:
    """One frame's stage durations in milliseconds, filled in as the pipeline moves it on.

    ``t_enter`` is the ``perf_counter`` instant the frame entered the pipeline (the end of
    capture); ``total`` is the added latency from there to the hand-off to the view, plus what
    capture itself cost.
    """

    capture: float = 0.0
    preprocess: float = 0.0
    infer: float = 0.0
    compose: float = 0.0
    handoff: float = 0.0
    #: the training-data check's own cost (its features, hooks and score), inside ``infer``
    ood: float = 0.0
    ood_features: float = 0.0  # ... of it, what the feature distance adds
    t_enter: float = 0.0
    total: float = 0.0
    #: how long a played review frame, ready early, waited for its time: pacing, which
    #: ``t_enter`` is moved past, so it is left out of ``total``
    paced: float = 0.0

    @classmethod
    def of(cls, frame: Frame) -> Timings:
        """A record for ``frame``: what its source and the capture thread already spent."""
        return cls(capture=frame.capture_ms, t_enter=frame.t_enter)


def percentiles(values: list[float] | np.ndarray) -> dict[str, float]:
    if len(values) == 0:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    p = np.percentile(np.asarray(values, dtype=np.float64), [50, 95, 99])
    return {
        "p50": round(float(p[0]), 3),
        "p95": round(float(p[1]), 3),
        "p99": round(float(p[2]), 3),
    }


class LatencyStats:
    """Thread-safe record of finished frames; ``window_s`` bounds what the UI reads."""

    def __init__(self, window_s: float = 5.0, keep_all: bool = False) -> None:
        self.window_s = window_s
        self._recent: deque[tuple[float, Timings]] = deque()
        self._all: list[Timings] | None = [] if keep_all else None
        self._lock = threading.Lock()
        self.frames = 0

    def add(self, t: Timings) -> None:
        now = time.perf_counter()
        with self._lock:
            self.frames += 1
            self._recent.append((now, t))
            while self._recent and now - self._recent[0][0] > self.window_s:
                self._recent.popleft()
            if self._all is not None:
                self._all.append(t)

    def fps(self, now: float | None = None) -> float:
        """Frames handed to the view per second over the last ``window_s``, up to ``now``:
        when frames stop (review paused, a frozen source), the figure falls to 0 instead of
        holding the last rate."""
        now = time.perf_counter() if now is None else now
        with self._lock:
            self._expire(now)
            if len(self._recent) < 2:
                return 0.0
            span = now - self._recent[0][0]
            return (len(self._recent) - 1) / span if span > 0 else 0.0

    def _expire(self, now: float) -> None:
        while self._recent and now - self._recent[0][0] > self.window_s:
            self._recent.popleft()

    def summary(self, everything: bool = False) -> dict[str, dict[str, float]]:
        with self._lock:
            self._expire(time.perf_counter())
            rows = (
                list(self._all)
                if everything and self._all is not None
                else [t for _, t in self._recent]
            )
        return {
            f: percentiles([getattr(t, f) for t in rows]) for f in (*FIELDS, "ood", "ood_features")
        }
