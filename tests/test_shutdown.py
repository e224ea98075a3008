"""Quitting never aborts: every worker is joined before the interpreter shuts down.

Before the fix about half of the quits ended with exit code 134 ("terminate called without an
active exception"): a daemon thread was still inside a torch forward pass at shutdown.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

CLI = "import sys; from sonolive.app.cli import main; sys.exit(main())"


def _env(tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),  # QSettings and caches of this test only
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        SONOLIVE_CACHE_DIR=str(tmp_path / "cache"),
        SONOLIVE_THREADS="1",
    )
    return env


def _run_many(cmds: list[list[str]], env: dict[str, str], parallel: int = 4) -> list[tuple]:
    """Run the commands, ``parallel`` at a time; (exit code, stderr tail) for each."""
    out = []
    for i in range(0, len(cmds), parallel):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", CLI, *c],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for c in cmds[i : i + parallel]
        ]
        for p in procs:
            _, err = p.communicate(timeout=120)
            out.append((p.returncode, err[-400:]))
    return out


def test_twenty_quits_in_a_row_all_exit_zero(tmp_path):
    # the quit lands while the model loads, probes both backends, or runs frames
    cmds = [
        ["--quit-after", str(0.3 + 0.2 * (i % 4)), "--backend", "torch" if i % 2 else "auto"]
        for i in range(20)
    ]
    results = _run_many(cmds, _env(tmp_path))
    bad = [(i, rc, err) for i, (rc, err) in enumerate(results) if rc != 0]
    assert not bad, bad


def test_bench_with_cam_exits_zero(tmp_path):
    cmd = ["bench", "--cam", "gradcam", "--frames", "12", "--backend", "torch", "--device", "cpu"]
    results = _run_many([cmd] * 4, _env(tmp_path))
    assert [rc for rc, _ in results] == [0] * 4, results


def test_finish_joins_the_workers_started_since(tmp_path):
    from sonolive.app.shutdown import finish, running_idents
    from sonolive.capture.workers import spawn

    host = running_idents()
    release, done = threading.Event(), threading.Event()

    def work() -> None:
        release.wait(5)
        done.set()

    spawn(work, name="test-worker")
    threading.Timer(0.05, release.set).start()
    assert finish(3, exclude=host, hard_exit=False) == 3
    assert done.is_set()  # finish() returned only once the worker had ended


def _catches(pid: int, sig: int) -> bool:
    """Whether process ``pid`` has a handler installed for ``sig`` (Linux /proc)."""
    for line in open(f"/proc/{pid}/status", encoding="ascii"):
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_closes_the_window_and_exits_zero(tmp_path, sig):
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, "--quit-after", "120"],
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # the window is up once the app has its own SIGTERM handler (Python sets none)
        deadline = time.monotonic() + 60
        while not _catches(proc.pid, signal.SIGTERM):
            assert proc.poll() is None and time.monotonic() < deadline, "the app never came up"
            time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)  # far less than --quit-after
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-400:]
    assert "Traceback" not in err


def test_join_workers_ends_tqdms_monitor_instead_of_waiting_for_it():
    """``torch.compile`` and training start tqdm's monitor thread, which sleeps up to 10 s
    between checks: the window's quit used to wait its whole 20 s limit for it."""
    from sonolive.app.shutdown import join_workers, running_idents
    from tqdm import tqdm

    host = running_idents()
    with open(os.devnull, "w") as sink, tqdm(total=3, file=sink) as bar:
        bar.update(3)
    monitor = tqdm.monitor
    assert monitor is not None and monitor.is_alive(), "tqdm started no monitor here"
    left = join_workers(deadline_s=3.0, exclude=host)
    assert monitor not in left and not monitor.is_alive()
