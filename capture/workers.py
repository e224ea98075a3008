"""The one owner of the process's worker threads.

Every worker thread (capture, inference, CAM, review, recorder, batch reader and encoder,
model loads, the GUI's background jobs) is started through :func:`spawn`, so one group
knows them all and shutdown joins exactly those (``app/shutdown.py``), instead of
enumerating every thread in the interpreter.

Workers are daemons so that a stuck capture card never keeps the process alive; a daemon
still inside a torch call when Python finalises aborts the process, which is why shutdown
joins the group first.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any


class WorkerGroup:
    """A set of started threads that can be listed and joined with one deadline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def spawn(
        self,
        target: Callable[..., Any],
        *,
        name: str,
        args: Iterable[Any] = (),
        daemon: bool = True,
        start: bool = True,
    ) -> threading.Thread:
        """Create a worker thread in this group (and start it unless ``start`` is False)."""
        t = threading.Thread(target=target, args=tuple(args), name=name, daemon=daemon)
        with self._lock:
            self._threads = [x for x in self._threads if x.is_alive() or x.ident is None]
            self._threads.append(t)
        if start:
            t.start()
        return t

    def alive(self, exclude: frozenset[int] = frozenset()) -> list[threading.Thread]:
        """The group's threads still running, other than the caller and those in ``exclude``
        (by ident)."""
        me = threading.current_thread()
        with self._lock:
            threads = list(self._threads)
        return [t for t in threads if t is not me and t.is_alive() and t.ident not in exclude]

    def idents(self) -> frozenset[int]:
        """The idents of the group's running threads (to leave alone in a later join)."""
        return frozenset(t.ident for t in self.alive() if t.ident is not None)

    def join(
        self, deadline_s: float, exclude: frozenset[int] = frozenset()
    ) -> list[threading.Thread]:
        """Wait up to ``deadline_s`` in all for the running workers to end; return those
        left. Workers started while joining are waited for too."""
        end = time.monotonic() + deadline_s
        while True:
            left = self.alive(exclude)
            if not left or time.monotonic() >= end:
                return left
            for t in left:
                t.join(max(0.0, end - time.monotonic()))


#: the process's one group
WORKERS = WorkerGroup()


def spawn(
    target: Callable[..., Any],
    *,
    name: str,
    args: Iterable[Any] = (),
    daemon: bool = True,
    start: bool = True,
) -> threading.Thread:
    """Start a worker thread owned by the process's group (:data:`WORKERS`)."""
    return WORKERS.spawn(target, name=name, args=args, daemon=daemon, start=start)


#: a :class:`SerialWorker` with nothing to do for this long ends its thread (an owner that
#: never shuts it down then leaves no thread behind for shutdown to wait on)
IDLE_S = 2.0


class SerialWorker:
    """Jobs run one after another on one worker thread of the group (a snapshot writer, the
    annotation saver): ``submit`` returns a Future, as a one-thread executor's does, but the
    thread belongs to :data:`WORKERS`, so shutdown joins it like any other."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[tuple[Future, Callable[[], Any]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, fn: Callable[[], Any]) -> Future:
        """Run ``fn()`` after the jobs already queued; its result or error goes to the Future."""
        fut: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._name} is shut down")
            self._jobs.put((fut, fn))
            if self._thread is None:  # started on first use
                self._thread = spawn(self._run, name=self._name)
        return fut

    def shutdown(self, wait: bool = False) -> None:
        """Finish the queued jobs (none is dropped), then end; ``wait``: until it has ended."""
        with self._lock:
            self._closed = True
            self._jobs.put(None)
            t = self._thread
        if wait and t is not None and t is not threading.current_thread():
            t.join()

    @property
    def alive(self) -> bool:
        """Its thread is running (started and not yet ended)."""
        t = self._thread
        return t is not None and t.is_alive()

    def _run(self) -> None:
        while True:
            try:
                item = self._jobs.get(timeout=IDLE_S)
            except queue.Empty:
                with self._lock:  # idle: end (submit starts a new thread when needed)
                    if self._jobs.empty():
                        self._thread = None
                        return
                continue
            if item is None:
                return
            fut, fn = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as e:  # noqa: BLE001 - handed to the Future's owner
                fut.set_exception(e)


__all__ = ["WORKERS", "SerialWorker", "WorkerGroup", "spawn"]
