"""Join every worker thread before the interpreter shuts down (Qt-free).

Worker threads are daemons so that a stuck capture card never keeps the process alive. But a
daemon thread still inside a torch or ONNX Runtime call when Python finalises is unwound
by force, and libstdc++ aborts ("terminate called without an active exception", exit 134).
So ``main()`` asks the workers to stop (window close, ``Pipeline.stop``, ``CamControl``)
and then waits here until each has left. The workers are the threads of the process's one
group (``capture/workers.py: WORKERS``): every thread the product starts is spawned there. Should one not leave in time (a driver stuck in a
read), the process ends with ``os._exit`` instead of finalising under it: the exit code stays
the command's own, and nothing is left half-unwound.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from ..capture.workers import WORKERS

DEFAULT_DEADLINE_S = 20.0


def live_workers(exclude: frozenset[int] = frozenset()) -> list[threading.Thread]:
    """The process's worker threads (:data:`~..capture.workers.WORKERS`) other than the
    calling one and those in ``exclude`` (by ident) that are still running."""
    return WORKERS.alive(exclude)


def running_idents() -> frozenset[int]:
    """The workers running now, to leave alone later (those of a host such as pytest)."""
    return WORKERS.idents()


def join_workers(
    deadline_s: float = DEFAULT_DEADLINE_S, exclude: frozenset[int] = frozenset()
) -> list[threading.Thread]:
    """Wait up to ``deadline_s`` in all for the workers to end; return those left.
    tqdm's monitor (started by ``torch.compile``, training) is asked to end too: it sleeps
    up to 10 s between checks, and the window's quit waited 20 s for it."""
    end = time.monotonic() + deadline_s
    monitor = _stop_tqdm_monitor()
    left = WORKERS.join(deadline_s, exclude)
    if monitor is not None and monitor is not threading.current_thread():
        monitor.join(max(0.0, end - time.monotonic()))
    return left


def finish(
    rc: int,
    exclude: frozenset[int] = frozenset(),
    hard_exit: bool = True,
    deadline_s: float = DEFAULT_DEADLINE_S,
) -> int:
    """Join the workers started since ``exclude`` was taken, then return ``rc``. If some never
    end and ``hard_exit`` (this process is the command), exit now with ``rc``."""
    left = join_workers(deadline_s, exclude)
    if left:
        names = ", ".join(sorted(t.name for t in left))
        print(f"SonoLive: stopping without waiting for {names}", file=sys.stderr)
        if hard_exit:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(rc)
    return rc


def _stop_tqdm_monitor() -> threading.Thread | None:
    """tqdm's monitor thread sleeps up to 10 s between checks: wake it so that it ends (the
    bounded join in :func:`join_workers` then waits for it; ``monitor.exit()`` would join
    with no limit)."""
    tqdm_mod = sys.modules.get("tqdm")
    monitor = getattr(getattr(tqdm_mod, "tqdm", None), "monitor", None)
    killed = getattr(monitor, "was_killed", None)
    if killed is None:
        return None
    try:
        killed.set()
    except Exception:  # noqa: BLE001 - tqdm internals: at worst we wait for it
        return None
    return monitor if isinstance(monitor, threading.Thread) else None
