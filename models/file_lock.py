"""An advisory lock on one folder.

Used by the dataset store (a save and a crash repair never run at once) and by ``sonolive
process`` (one run per output folder). On POSIX the folder itself is locked (``flock`` on its
descriptor): no file is added to it. On Windows a lock file inside it is opened without
following links and never written. The operating system releases the lock when the process
ends, however it ends, so a crash never leaves a folder locked.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

LOCK_NAME = ".sonolive.lock"


class FolderBusy(OSError):
    """Another process holds the folder's lock."""


class FolderLock:
    """``with FolderLock(folder):`` holds the lock; ``blocking=False`` raises FolderBusy."""

    def __init__(self, folder: str | Path, *, blocking: bool = True) -> None:
        self.path = Path(folder) / LOCK_NAME
        self.blocking = blocking
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        cloexec = getattr(os, "O_CLOEXEC", 0)
        if _ON_FOLDER:
            fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | cloexec)
        else:
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | cloexec
            fd = os.open(self.path, flags, 0o644)
        try:
            _lock(fd, self.blocking)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            _unlock(fd)
            os.close(fd)

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# sys.platform (not a try/except ImportError) so that type checkers see one branch
if sys.platform != "win32":
    import fcntl

    _ON_FOLDER = True

    def _lock(fd: int, blocking: bool) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError as e:
            raise FolderBusy(e.errno, "in use by another SonoLive process") from e

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

else:  # Windows
    import msvcrt

    _ON_FOLDER = False

    def _lock(fd: int, blocking: bool) -> None:
        try:
            msvcrt.locking(fd, msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK, 1)
        except OSError as e:
            raise FolderBusy(e.errno, "in use by another SonoLive process") from e

    def _unlock(fd: int) -> None:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass
