"""``sonolive process IN... -o OUTDIR``: annotated MP4 + per-frame CSV/JSON for each input.

Failed inputs do not stop the run: each gets one plain line on stderr
(``<file>: not a readable video (truncated or corrupt)``) and the exit code is 1 when any
input failed, 0 otherwise. Inputs that share a stem get distinct outputs
(``inference.batch.output_names``); the closing summary, and ``process_index.json`` in OUTDIR,
list every input with its outputs or its reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ...models.registry import DEFAULT_MODEL
from .options import add_accel, add_backend, add_trust_code


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "process", help="annotate recorded clips: MP4 with overlay plus per-frame CSV/JSON"
    )
    p.add_argument(
        "inputs", nargs="+", metavar="IN", help="video files, GIFs, DICOM cines or image folders"
    )
    p.add_argument("-o", "--out", required=True, type=Path, metavar="OUTDIR")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    add_backend(p)
    add_accel(p)
    add_trust_code(p)
    p.add_argument(
        "--roi",
        type=_roi_arg,
        default="auto",
        metavar="auto|none|X,Y,W,H",
        help="auto (default): only the ultrasound image of a scanner recording, following "
        "depth changes (text outside it is blanked where the region is not certain); none: "
        "the whole picture; X,Y,W,H: this region, in the input's pixels",
    )
    p.add_argument(
        "--show-ood",
        action="store_true",
        help="draw the overlay also on frames unlike the model's training data (marked)",
    )
    p.add_argument(
        "--temporal",
        action="store_true",
        help="smooth the masks over frames (the live Bedside filter): a steadier clip",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _roi_arg(value: str) -> str:
    from ...capture.roi_stage import parse_roi

    if value in ("auto", "none") or parse_roi(value) is not None:
        return value
    raise argparse.ArgumentTypeError(f"{value!r} is not auto, none or X,Y,W,H (whole pixels)")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ...capture.source import SourceError
    from ...inference.backends import make_segmenter
    from ...inference.batch import BatchError, output_names, plain_reason, process_file
    from ...inference.torch_device import configure_cpu_threads

    configure_cpu_threads()  # as the app and bench do: stages must not fight for the cores
    try:
        seg = make_segmenter(
            args.model,
            device=args.device,
            backend=args.backend,
            trust_code=args.trust_code,
            accel=args.accel,
        )
    except Exception as e:  # noqa: BLE001 - one plain line, no traceback
        print(f"error: model {args.model!r} could not be loaded: {e}", file=sys.stderr)
        return 2
    if seg.reference_note:
        print(seg.reference_note, file=sys.stderr)
    failed: list[str] = []
    index: list[dict] = []  # one entry per input, in order: what became of it
    stems = dict(zip(args.inputs, output_names(args.inputs), strict=True))
    files = tqdm(args.inputs, desc="files", unit="file", disable=args.no_progress or None)
    for inp in files:
        bar = tqdm(desc=Path(inp).name, unit="frame", leave=False, disable=args.no_progress or None)

        def progress(done: int, total: int, bar=bar) -> None:
            if total and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        try:
            s = process_file(
                inp,
                args.out,
                seg,
                progress=progress,
                roi=args.roi,
                name=stems[inp],
                show_ood=args.show_ood,
                temporal=args.temporal,
            )
        except (SourceError, BatchError, OSError) as e:
            failed.append(inp)
            index.append({"input": inp, "ok": False, "reason": plain_reason(e, inp)})
            tqdm.write(f"{inp}: {plain_reason(e, inp)}", file=sys.stderr)
            continue
        except Exception as e:  # noqa: BLE001 - any input may fail; the rest go on
            failed.append(inp)
            index.append({"input": inp, "ok": False, "reason": f"processing failed ({e})"})
            tqdm.write(f"{inp}: processing failed ({e})", file=sys.stderr)
            continue
        finally:
            bar.close()
        entry = {"input": inp, "ok": True, "frames": s.frames, "outputs": s.outputs}
        if s.roi_blanked_frames:
            entry["roi_blanked_frames"] = s.roi_blanked_frames
            tqdm.write(f"{inp}: {_blank_note(s)}", file=sys.stderr)
        index.append(entry)
        note = f" (warning: {s.warning})" if s.warning else ""
        tqdm.write(
            f"{inp}: {s.frames} frames -> {s.outputs['video']} ({s.processing_fps:.1f} fps){note}"
        )
    ok = len(args.inputs) - len(failed)
    print(f"{ok} of {len(args.inputs)} inputs processed into {args.out}:", file=sys.stderr)
    for e in index:
        done = f"{e['frames']} frames -> {Path(e['outputs']['video']).name}" if e["ok"] else ""
        if e.get("roi_blanked_frames"):
            done += f" ({e['roi_blanked_frames']} with the text outside the picture blanked)"
        print(f"  {e['input']}: {done or 'failed: ' + e['reason']}", file=sys.stderr)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "process_index.json").write_text(json.dumps(index, indent=2) + "\n")
    except OSError as e:
        print(f"cannot write {args.out / 'process_index.json'}: {e.strerror or e}", file=sys.stderr)
    return 1 if failed else 0


def _blank_note(s) -> str:  # noqa: ANN001 - a FileSummary
    """The per-input line saying that text outside the picture was blanked, and why."""
    why = s.warning or "the ultrasound region was not certain"
    return (
        f"{s.roi_blanked_frames} of {s.frames} frames written with everything outside the "
        f"picture blanked ({why}); give the region with --roi or check it in Review"
    )
