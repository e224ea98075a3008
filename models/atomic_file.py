"""Write a file so that it is either the old one or the whole new one (never half)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def file_mode(path: Path) -> int:
    """The permissions for a file written to ``path`` through a temporary file: the old
    file's (a link's target is not looked at), else ``rw-rw-rw-`` less the umask, as
    ``open()`` would give. mkstemp's private 0600 would hide the file from the colleagues
    who share the folder."""
    try:
        if not os.path.islink(path):
            return os.lstat(path).st_mode & 0o777
    except OSError:
        pass
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it where the system says it (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def set_mode(fd: int, path: Path) -> None:
    """Give the open temporary file ``fd`` :func:`file_mode` of ``path`` (not on Windows,
    where mkstemp's mode is not private)."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, file_mode(path))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a unique temporary file beside ``path``, then rename it onto
    ``path`` (a link there is replaced, never written through), with :func:`file_mode`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        set_mode(fd, path)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
