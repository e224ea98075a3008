"""``sonolive send FILES... --to AET@HOST:PORT [--calling-aet SONOLIVE]``: C-STORE to a PACS.

The files go through the on-disk send queue (``--queue``, by default the per-user data
folder's ``send-queue``): they are copied in first, and leave it only once the PACS has
stored them. When the PACS is down, or refuses, they stay; ``sonolive send --retry`` sends
what waits (to ``--to`` when given, else to each object's own destination).
Exit codes: 0 all stored; 1 some wait in the queue; 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def default_queue() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("SonoLive", appauthor=False)) / "send-queue"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("send", help="send DICOM files to a PACS (C-STORE), queued until stored")
    p.add_argument("files", nargs="*", metavar="FILE", help="DICOM files or folders of them")
    p.add_argument("--to", metavar="AET@HOST:PORT", help="the PACS: its AE title, host and port")
    p.add_argument("--calling-aet", default="SONOLIVE", help="our AE title (default SONOLIVE)")
    p.add_argument("--queue", type=Path, default=None, help="the send queue's folder")
    p.add_argument("--retry", action="store_true", help="send what waits in the queue")
    p.add_argument("--echo", action="store_true", help="only test the connection (C-ECHO)")
    p.set_defaults(func=run)


def _expand(items: list[str]) -> list[Path]:
    out: list[Path] = []
    for it in items:
        p = Path(it)
        out += sorted(q for q in p.rglob("*.dcm") if q.is_file()) if p.is_dir() else [p]
    return out


def run(args: argparse.Namespace) -> int:
    from ...inference.exam.pacs import PacsError, SendQueue, check_aet, echo, parse_destination
    from .errors import fail

    try:
        dest = parse_destination(args.to) if args.to else None
        check_aet(args.calling_aet)
    except ValueError as e:
        return fail(e)
    if args.echo:
        if dest is None:
            return fail("--echo needs --to AET@HOST:PORT")
        try:
            echo(dest, args.calling_aet)
        except PacsError as e:
            return fail(e, 1)
        print(f"{dest} answered the echo")
        return 0
    if not args.files and not args.retry:
        return fail("give the DICOM files to send, or --retry")
    if args.files and dest is None:
        return fail("--to AET@HOST:PORT is needed to send files")
    queue = SendQueue(args.queue or default_queue())
    if args.files:
        files = _expand(args.files)
        if not files:
            return fail(f"no DICOM files in {' '.join(args.files)}")
        try:
            queue.enqueue(files, dest, args.calling_aet)
        except (ValueError, OSError) as e:
            return fail(e)
    sent, error = queue.flush(dest if args.retry else None)
    left = len(queue)
    print(f"{sent} objects stored" + (f" in {dest}" if dest else ""))
    if left:
        print(
            f"error: {error or 'not sent'}; {left} objects wait in {queue.folder} "
            "(sonolive send --retry sends them)",
            file=sys.stderr,
        )
        return 1
    return 0
