"""The one owner of worker threads (capture/workers.py) and the latest-wins slot beside it."""

from __future__ import annotations

import threading

import pytest
from sonolive.capture.slot import LatestSlot
from sonolive.capture.workers import SerialWorker, WorkerGroup


def test_a_group_joins_its_workers_and_only_them():
    group = WorkerGroup()
    release = threading.Event()
    stranger = threading.Thread(target=release.wait, args=(10,), daemon=True)
    stranger.start()  # not the group's: never waited for
    done = []
    t = group.spawn(lambda: (release.wait(10), done.append(1)), name="worker-under-test")
    assert group.alive() == [t]
    threading.Timer(0.05, release.set).start()
    assert group.join(10.0) == []
    assert done == [1] and not t.is_alive()
    stranger.join(10)


def test_a_worker_that_never_ends_is_reported_after_the_deadline():
    group = WorkerGroup()
    stop = threading.Event()
    t = group.spawn(stop.wait, name="stuck", args=(30,))
    try:
        assert group.join(0.1) == [t]
    finally:
        stop.set()
        t.join(10)


def test_serial_worker_runs_jobs_in_order_and_hands_back_results_and_errors():
    w = SerialWorker("serial-under-test")
    order: list[int] = []
    futs = [w.submit(lambda i=i: order.append(i) or i * i) for i in range(5)]

    def boom() -> None:
        raise OSError("disk full")

    bad = w.submit(boom)
    assert [f.result(timeout=10) for f in futs] == [0, 1, 4, 9, 16]
    assert order == [0, 1, 2, 3, 4]
    with pytest.raises(OSError, match="disk full"):
        bad.result(timeout=10)
    assert w.alive
    w.shutdown(wait=True)
    assert not w.alive
    with pytest.raises(RuntimeError):
        w.submit(lambda: None)


def test_latest_slot_wake_ends_a_waiting_take():
    slot: LatestSlot[int] = LatestSlot()
    since = slot.wakes
    got: list[int | None] = []
    taker = threading.Thread(target=lambda: got.append(slot.take(30.0, since=since)))
    taker.start()
    slot.wake()  # before or after the taker waits: it returns either way
    taker.join(10)
    assert not taker.is_alive() and got == [None]
    slot.put(1)
    assert slot.put(2) is True and slot.dropped == 1  # latest wins, the drop is counted
    assert slot.take(0) == 2
