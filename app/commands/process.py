"""``sonolive process IN... -o OUTDIR``: annotated MP4 + per-frame CSV/JSON for each input.

Failed inputs do not stop the run: each gets one plain line on stderr
(``<file>: not a readable video (truncated or corrupt)``) and the exit code is 1 when any
input failed, 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...models.registry import DEFAULT_MODEL


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "process", help="annotate recorded clips: MP4 with overlay plus per-frame CSV/JSON"
    )
    p.add_argument("inputs", nargs="+", metavar="IN", help="video files or DICOM cines")
    p.add_argument("-o", "--out", required=True, type=Path, metavar="OUTDIR")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--backend", default="auto")
    p.add_argument(
        "--roi",
        choices=["none", "auto"],
        default="none",
        help="auto: process only the ultrasound image of a raw scanner recording",
    )
    p.add_argument(
        "--show-ood",
        action="store_true",
        help="draw the overlay also on frames unlike the model's training data (marked)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ...capture.source import SourceError
    from ...inference.backends import make_segmenter
    from ...inference.batch import BatchError, plain_reason, process_file

    try:
        seg = make_segmenter(args.model, device=args.device, backend=args.backend)
    except Exception as e:  # noqa: BLE001 - one plain line, no traceback
        print(f"error: model {args.model!r} could not be loaded: {e}", file=sys.stderr)
        return 2
    if seg.reference_note:
        print(seg.reference_note, file=sys.stderr)
    failed: list[str] = []
    files = tqdm(args.inputs, desc="files", unit="file", disable=args.no_progress or None)
    for inp in files:
        bar = tqdm(desc=Path(inp).name, unit="frame", leave=False, disable=args.no_progress or None)

        def progress(done: int, total: int, bar=bar) -> None:
            if total and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        try:
            s = process_file(
                inp, args.out, seg, progress=progress, roi=args.roi, show_ood=args.show_ood
            )
        except (SourceError, BatchError, OSError) as e:
            failed.append(inp)
            tqdm.write(f"{inp}: {plain_reason(e, inp)}", file=sys.stderr)
            continue
        except Exception as e:  # noqa: BLE001 - any input may fail; the rest go on
            failed.append(inp)
            tqdm.write(f"{inp}: processing failed ({e})", file=sys.stderr)
            continue
        finally:
            bar.close()
        note = f" (warning: {s.warning})" if s.warning else ""
        tqdm.write(
            f"{inp}: {s.frames} frames -> {s.outputs['video']} ({s.processing_fps:.1f} fps){note}"
        )
    ok = len(args.inputs) - len(failed)
    print(f"{ok} of {len(args.inputs)} inputs processed into {args.out}", file=sys.stderr)
    return 1 if failed else 0
