"""Replays frames held in memory at a fixed rate, like a capture card would deliver them.

Benchmarks use it to measure the pipeline without the cost of decoding or simulating each
frame on the same cores.
"""

from __future__ import annotations

import time

import numpy as np

from .frame import Frame
from .source import EndOfStream, FrameSource


class ReplaySource(FrameSource):
    def __init__(
        self,
        frames: list[np.ndarray],
        fps: float = 30.0,
        truths: list[np.ndarray] | None = None,
        loop: bool = True,
        name: str = "replay",
        simulated: bool = False,
    ) -> None:
        if not frames:
            raise ValueError("ReplaySource needs at least one frame")
        self.frames = [np.ascontiguousarray(f) for f in frames]
        self.truths = truths
        self.fps = fps
        self.loop = loop
        self.name = name
        self.simulated = simulated
        self._n = 0
        self._t0 = 0.0

    @property
    def nbytes(self) -> int:
        """Memory the held frames take (a benchmark reports it apart from the pipeline's)."""
        return sum(f.nbytes for f in self.frames) + sum(t.nbytes for t in self.truths or [])

    def open(self) -> None:
        self._n = 0
        self._t0 = time.perf_counter()

    def read(self) -> Frame:
        if not self.loop and self._n >= len(self.frames):
            raise EndOfStream
        if self.fps > 0:
            due = self._t0 + self._n / self.fps
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            elif now - due > 1.0:  # the consumer fell far behind: restart the schedule
                self._t0 = now - self._n / self.fps
        t0 = time.perf_counter()
        i = self._n % len(self.frames)
        px = self.frames[i].copy()  # a capture card hands over a fresh buffer per frame
        frame = Frame(
            pixels=px,
            timestamp=self._n / self.fps if self.fps > 0 else float(self._n),
            index=self._n,
            truth=self.truths[i] if self.truths is not None else None,
            source=self.name,
        )
        frame.capture_ms = (time.perf_counter() - t0) * 1000
        self._n += 1
        return frame

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return (
            f"{self.name} ({self.frames[0].shape[1]}×{self.frames[0].shape[0]} @ {self.fps:g} fps)"
        )
