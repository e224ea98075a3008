"""Where ``sonolive process`` writes, made safe against other runs, links, signals and odd
names (issue 29, group 5). Qt-free; :mod:`.batch` and the command call it.

* :class:`OutputFiles`: one input's outputs are first written to temporary files with unique
  names, created exclusively (``O_EXCL``, so a planted file or link is never written
  through) inside the output folder, then renamed into place together.
* :func:`output_lock`: one run per output folder; a second one is refused in one line.
* :func:`overwrites_an_input`: an output that would replace one of the inputs.
* :func:`interruptible`: SIGINT/SIGTERM raise :class:`Interrupted` in the main thread, so the
  partial files are removed on the way out; the command prints one line and exits 130/143.
* :func:`finite` / :func:`json_bytes`: JSON holds finite numbers only (``null`` otherwise).
* :func:`shown`: a file name that can be printed and stored as UTF-8 (a name that is not
  valid UTF-8 keeps its bytes on disk and shows U+FFFD).
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..models.atomic_file import set_mode
from ..models.file_lock import FolderBusy, FolderLock

_SURROGATES = re.compile("[\ud800-\udfff]")


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived; ``exit_code`` is 128 + the signal number (130, 143)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


class OutputError(OSError):
    """The output folder cannot be used; the message is one plain line."""


def shown(path: str | Path) -> str:
    """``path`` as text that prints and encodes as UTF-8 (lone surrogates -> U+FFFD)."""
    return _SURROGATES.sub("\ufffd", str(path))


def safe_stem(stem: str) -> str:
    """An output stem without the undecodable bytes of a non-UTF-8 input name ('_' each)."""
    return _SURROGATES.sub("_", stem) or "clip"


def finite(obj: Any) -> Any:
    """A copy of ``obj`` where every NaN or infinite number is ``None``."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {shown(k) if isinstance(k, str) else k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if isinstance(obj, str):
        return shown(obj)
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return finite(obj.item())
    return obj


def json_bytes(obj: Any, indent: int | None = 1) -> bytes:
    """Strict JSON (no NaN, no Infinity, valid UTF-8) of ``obj`` made :func:`finite`."""
    return (json.dumps(finite(obj), indent=indent, allow_nan=False) + "\n").encode("utf-8")


class OutputFiles:
    """The final paths of one input's outputs and their exclusive temporary files."""

    def __init__(self, finals: dict[str, Path]) -> None:
        self.finals = {k: Path(v) for k, v in finals.items()}
        self.temps: dict[str, Path] = {}

    def create(self) -> dict[str, Path]:
        """Create every temporary file (empty, ``O_EXCL``, in the output folder). SIGINT and
        SIGTERM wait meanwhile, so that no file is made without being listed for removal."""
        with _signals_held():
            return self._create()

    def _create(self) -> dict[str, Path]:
        try:
            for key, final in self.finals.items():
                fd, tmp = tempfile.mkstemp(
                    prefix=f".{final.name[:80]}.", suffix=".partial", dir=final.parent
                )
                try:
                    set_mode(fd, final)  # the umask's usual mode, not mkstemp's private 0600
                finally:
                    os.close(fd)
                self.temps[key] = Path(tmp)
        except BaseException:
            self.discard()
            raise
        return dict(self.temps)

    def commit(self) -> None:
        """Rename every temporary file onto its final name (a link there is replaced, never
        written through)."""
        for key, tmp in self.temps.items():
            os.replace(tmp, self.finals[key])
        self.temps = {}

    def discard(self) -> None:
        for tmp in self.temps.values():
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
        self.temps = {}


#: while creating temporary files, a signal waits here (its number) instead of raising
_held: dict[str, Any] = {"depth": 0, "signum": None}


@contextmanager
def _signals_held() -> Iterator[None]:
    """An interrupt that :func:`interruptible` would raise waits until the block is done
    (then it is raised), so that no temporary file is made without being listed."""
    _held["depth"] += 1
    try:
        yield
    finally:
        _held["depth"] -= 1
        signum = _held["signum"]
        if _held["depth"] == 0 and signum is not None:
            _held["signum"] = None
            raise Interrupted(signum)


def prepare_folder(out_dir: Path) -> None:
    """Create the output folder; a file (or a link to one) in its place is one line."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError as e:
        raise OutputError(f"{shown(out_dir)}: exists and is not a folder") from e
    except OSError as e:
        raise OutputError(f"{shown(out_dir)}: cannot be created ({e.strerror or e})") from e
    if not out_dir.is_dir():
        raise OutputError(f"{shown(out_dir)}: exists and is not a folder")


@contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """Hold ``OUTDIR/.sonolive.lock`` for the run; another run holding it is refused."""
    prepare_folder(out_dir)
    lock = FolderLock(out_dir, blocking=False)
    try:
        lock.acquire()
    except FolderBusy as e:
        raise OutputError(
            f"{shown(out_dir)}: another 'sonolive process' run is writing there; wait for it "
            "or choose another folder"
        ) from e
    except OSError as e:
        raise OutputError(f"{shown(out_dir)}: cannot be locked ({e.strerror or e})") from e
    try:
        yield
    finally:
        lock.release()


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def overwrites_an_input(inputs: list[Path], outputs: list[Path]) -> tuple[Path, Path] | None:
    """The first (input, output) pair where the output would replace the input, if any."""
    for out in outputs:
        for inp in inputs:
            if _same(inp, out):
                return inp, out
    return None


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` (once: a second signal during the
    clean-up is ignored). Outside the main thread nothing changes."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    sigs = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    old = {s: signal.getsignal(s) for s in sigs}

    def handler(signum: int, _frame: object) -> None:
        for s in sigs:
            signal.signal(s, signal.SIG_IGN)
        if _held["depth"]:  # temporary files are being made: raised once they are listed
            _held["signum"] = signum
            return
        raise Interrupted(signum)

    for s in sigs:
        signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
