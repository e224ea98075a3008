"""Turn an exception into the one plain line a command prints instead of a traceback."""

from __future__ import annotations

import sys


def one_line(e: BaseException) -> str:
    """The first line of the message, without the quotes ``KeyError`` adds."""
    text = str(e).strip().strip("'\"").strip()
    return text.splitlines()[0] if text else type(e).__name__


def fail(e: BaseException | str, code: int = 2) -> int:
    """Print ``error: <one line>`` on stderr and return the exit code."""
    print(f"error: {e if isinstance(e, str) else one_line(e)}", file=sys.stderr)
    return code
