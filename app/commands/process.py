"""``sonolive process IN... -o OUTDIR``: annotated MP4 + per-frame CSV/JSON for each input.

Failed inputs do not stop the run: each gets one plain line on stderr
(``<file>: not a readable video (truncated or corrupt)``) and the exit code is 1 when any
input failed, 0 otherwise. Inputs that share a stem get distinct outputs
(``inference.batch.output_names``); the closing summary, and ``process_index.json`` in OUTDIR,
list every input with its outputs or its reason.

The output folder is locked for the run (a second run into it is refused in one line, exit
2), an output that would replace an input is refused before anything is written (exit 2),
and SIGINT/SIGTERM remove the partial files, write the index of what was done, print one line
and exit 130/143 (:mod:`sonolive.inference.outputs`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...models.registry import DEFAULT_MODEL
from .dicom_options import add_dicom, identity_from
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
    add_dicom(p)
    p.set_defaults(func=run)


def _roi_arg(value: str) -> str:
    from ...capture.roi_stage import parse_roi

    if value in ("auto", "none") or parse_roi(value) is not None:
        return value
    raise argparse.ArgumentTypeError(f"{value!r} is not auto, none or X,Y,W,H (whole pixels)")


def run(args: argparse.Namespace) -> int:
    from ...inference.batch import output_names
    from ...inference.outputs import (
        Interrupted,
        OutputError,
        interruptible,
        output_lock,
        overwrites_an_input,
        safe_stem,
        shown,
    )

    stems = dict(zip(args.inputs, output_names(args.inputs), strict=True))
    finals = [
        args.out / f"{safe_stem(stem)}{end}"
        for stem in stems.values()
        for end in ("_annotated.mp4", "_frames.csv", "_frames.json", "_summary.json")
    ]
    clash = overwrites_an_input([Path(i) for i in args.inputs], [*finals, args.out / INDEX])
    if clash is not None:
        inp, out = clash
        return _error(f"{shown(inp)}: would be overwritten by the output {shown(out.name)}; "
                      "choose another output folder")  # fmt: skip
    index: list[dict] = []  # one entry per input, in order: what became of it
    try:
        with interruptible(), output_lock(args.out):
            try:
                return _run(args, stems, index)
            except Interrupted as e:
                if len(index) < len(args.inputs):  # the input in progress, and those not begun
                    for inp in args.inputs[len(index) :]:
                        index.append({"input": shown(inp), "ok": False,
                                      "reason": f"interrupted ({e.args[0]})"})  # fmt: skip
                _write_index(args.out, index)
                print(
                    f"interrupted ({e.args[0]}): partial outputs removed; {INDEX} lists what "
                    "was finished",
                    file=sys.stderr,
                )
                return e.exit_code
    except OutputError as e:
        return _error(str(e))


INDEX = "process_index.json"


def _error(line: str) -> int:
    print(f"error: {line}", file=sys.stderr)
    return 2


def _write_index(out: Path, index: list[dict]) -> None:
    """``process_index.json`` replaced whole (never written through a link)."""
    from ...inference.outputs import OutputFiles, json_bytes, shown

    files = OutputFiles({"index": out / INDEX})
    try:
        files.create()["index"].write_bytes(json_bytes(index, indent=2))
        files.commit()
    except OSError as e:
        files.discard()
        print(f"cannot write {shown(out / INDEX)}: {e.strerror or e}", file=sys.stderr)


def _run(args: argparse.Namespace, stems: dict[str, str], index: list[dict]) -> int:
    from tqdm import tqdm

    from ...capture.source import SourceError
    from ...inference.backends import make_segmenter
    from ...inference.batch import BatchError, plain_reason, process_file
    from ...inference.outputs import shown
    from ...inference.torch_device import configure_cpu_threads

    configure_cpu_threads()  # as the app and bench do: stages must not fight for the cores
    identity = None
    if args.dicom:
        try:
            identity = identity_from(args)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
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
    files = tqdm(args.inputs, desc="files", unit="file", disable=args.no_progress or None)
    for inp in files:
        name = shown(inp)
        bar = tqdm(desc=shown(Path(inp).name), unit="frame", leave=False,
                   disable=args.no_progress or None)  # fmt: skip

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
            reason = shown(plain_reason(e, inp))
            index.append({"input": name, "ok": False, "reason": reason})
            tqdm.write(f"{name}: {reason}", file=sys.stderr)
            continue
        except Exception as e:  # noqa: BLE001 - any input may fail; the rest go on
            failed.append(inp)
            index.append({"input": name, "ok": False, "reason": f"processing failed ({e})"})
            tqdm.write(f"{name}: processing failed ({shown(e)})", file=sys.stderr)
            continue
        finally:
            bar.close()
        if identity is not None:
            from ...inference.exam.dicom_process import write_process_dicom

            try:
                dcm = write_process_dicom(s, args.out, seg, identity[0], deidentified=identity[1])
            except Exception as e:  # noqa: BLE001 - the MP4 and reports stand; DICOM failed
                failed.append(inp)
                index.append({"input": name, "ok": False, "reason": f"DICOM not written ({e})"})
                tqdm.write(f"{name}: DICOM not written ({shown(e)})", file=sys.stderr)
                continue
            s.outputs["dicom"] = [str(p) for p in dcm]
        entry = {"input": name, "ok": True, "frames": s.frames, "outputs": s.outputs}
        if s.roi_blanked_frames:
            entry["roi_blanked_frames"] = s.roi_blanked_frames
            tqdm.write(f"{name}: {_blank_note(s)}", file=sys.stderr)
        index.append(entry)
        note = f" (warning: {s.warning})" if s.warning else ""
        tqdm.write(
            f"{name}: {s.frames} frames -> {s.outputs['video']} ({s.processing_fps:.1f} fps); "
            f"{_judged(s)}{note}"
        )
    ok = len(args.inputs) - len(failed)
    print(f"{ok} of {len(args.inputs)} inputs processed into {shown(args.out)}:", file=sys.stderr)
    for e in index:
        done = f"{e['frames']} frames -> {Path(e['outputs']['video']).name}" if e["ok"] else ""
        if e.get("roi_blanked_frames"):
            done += f" ({e['roi_blanked_frames']} with the text outside the picture blanked)"
        print(f"  {e['input']}: {done or 'failed: ' + e['reason']}", file=sys.stderr)
    _write_index(args.out, index)
    return 1 if failed else 0


def _judged(s) -> str:
    """The training-data check's share, in words, for the terminal line."""
    if s.in_distribution_fraction is None:
        return "not checked against the training data"
    n = s.in_distribution_frames or 0
    return (
        f"{s.in_distribution_fraction:.0%} of frames like the training data ({n} of {s.frames};"
        " the summary counts organs on these only)"
    )


def _blank_note(s) -> str:  # noqa: ANN001 - a FileSummary
    """The per-input line saying that text outside the picture was blanked, and why."""
    why = s.warning or "the ultrasound region was not certain"
    return (
        f"{s.roi_blanked_frames} of {s.frames} frames written with everything outside the "
        f"picture blanked ({why}); give the region with --roi or check it in Review"
    )
