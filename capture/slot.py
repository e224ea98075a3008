"""A one-item, latest-wins hand-over between threads.

A producer that is faster than its consumer overwrites the waiting item instead of queueing
behind it; every overwrite is counted as a dropped item. It lives in the lowest layer because every
layer hands frames over this way: the capture card's reader to its ``read()``, the capture
thread to inference, inference to the view, the pipeline to the CAM worker.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    def __init__(self) -> None:
        self._item: T | None = None
        self._cond = threading.Condition()
        self.dropped = 0
        self._closed = False
        self._wakes = 0  # counts wake() calls: a waiting take() returns early on one

    def put(self, item: T) -> bool:
        """Store ``item``; returns True when it replaced one nobody had taken (a drop)."""
        with self._cond:
            replaced = self._item is not None
            if replaced:
                self.dropped += 1
            self._item = item
            self._cond.notify()
            return replaced

    def take(self, timeout: float | None = None, since: int | None = None) -> T | None:
        """The newest item, waiting up to ``timeout`` seconds; None on timeout, on close, or
        when :meth:`wake` is called (after ``since``, a value of :attr:`wakes`, if given)."""
        with self._cond:
            wakes = self._wakes if since is None else since
            if self._item is None and not self._closed and self._wakes == wakes:
                self._cond.wait_for(
                    lambda: self._item is not None or self._closed or self._wakes != wakes,
                    timeout,
                )
            item, self._item = self._item, None
            return item

    @property
    def wakes(self) -> int:
        """How many times :meth:`wake` was called (pass it to :meth:`take` as ``since``)."""
        with self._cond:
            return self._wakes

    def wake(self) -> None:
        """Make a waiting :meth:`take` return now (with the item, if one came): the
        producer's state changed (a lost signal, a close) and the taker must look."""
        with self._cond:
            self._wakes += 1
            self._cond.notify_all()

    def take_nowait(self) -> T | None:
        with self._cond:
            item, self._item = self._item, None
            return item

    def pending(self) -> bool:
        """True while an item waits to be taken."""
        with self._cond:
            return self._item is not None

    def clear(self) -> None:
        with self._cond:
            self._item = None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def reopen(self) -> None:
        with self._cond:
            self._closed = False
