"""Playback timing shared by every seekable source and by the review player."""

from __future__ import annotations

import time

MIN_SPEED, MAX_SPEED = 0.25, 4.0


def clamp_speed(value: float) -> float:
    """A playback speed factor within 0.25-4."""
    return float(min(MAX_SPEED, max(MIN_SPEED, float(value))))


class Pacer:
    """Releases frames at their presentation times scaled by ``speed``.

    The first frame after :meth:`reset` (open, seek, speed change) is released at once and
    anchors the clock. When the consumer falls more than ``slack`` seconds behind (the
    pipeline was paused or slow), the clock re-anchors instead of bursting to catch up.
    """

    def __init__(self, speed: float = 1.0, slack: float = 0.25, max_wait: float = 5.0) -> None:
        self.speed = speed
        self.slack = slack
        self.max_wait = max_wait
        self._anchor: tuple[float, float] | None = None

    def reset(self) -> None:
        self._anchor = None

    def due(self, media_time: float, now: float | None = None) -> float:
        """The wall-clock time (``perf_counter``) at which ``media_time`` is due.

        Anchors the clock on the first call after :meth:`reset`, and re-anchors when the
        caller is more than ``slack`` behind or the wait would exceed ``max_wait``.
        """
        now = time.perf_counter() if now is None else now
        if self._anchor is None:
            self._anchor = (now, media_time)
            return now
        wall0, media0 = self._anchor
        due = wall0 + (media_time - media0) / self.speed
        if due - now > self.max_wait or now - due > self.slack or media_time < media0:
            self._anchor = (now, media_time)
            return now
        return due

    def wait(self, media_time: float) -> None:
        """Sleep until ``media_time`` is due (sources paced on their own reading thread)."""
        delay = self.due(media_time) - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
