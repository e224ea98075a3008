"""Helpers for the hostile-input tests (issue 29): the one-line rule, and running the real
command as an unprivileged user where permissions must bite (root reads everything)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

NOBODY = 65534


def one_error_line(err: str) -> str:
    """The single non-empty line of ``err`` (no traceback, no second line)."""
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    return lines[0]


def as_other_user() -> list[str]:
    """A command prefix that drops root to an unprivileged user (empty when not root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be taken away")
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def run_cli(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    unset: tuple[str, ...] = (),
    unprivileged: bool = False,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """``sonolive ARGV`` in a fresh interpreter (a real stdout, real signals, real users);
    ``env`` is added to this environment, ``unset`` names are left out of it."""
    full = {k: v for k, v in os.environ.items() if k not in unset} | (env or {})
    prefix = as_other_user() if unprivileged else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "sonolive.app.cli", *argv],
        env=full,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def sandbox() -> Iterator[Path]:
    """A folder every user can enter (pytest's tmp_path is private to its owner)."""
    d = Path(tempfile.mkdtemp(prefix="sonolive-hostile-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        for p in d.rglob("*"):  # give back permissions taken away, so the folder can go
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shutil.rmtree(d, ignore_errors=True)
