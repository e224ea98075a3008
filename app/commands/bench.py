"""``sonolive bench``: the live pipeline, headless, with per-stage latency percentiles."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ...inference.choices import CAM_CHOICES
from ...inference.choices import DEFAULT_CAM_METHOD as DEFAULT_METHOD
from ...models.registry import DEFAULT_MODEL
from .options import add_accel, add_backend, add_trust_code


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure the live pipeline headless (a benchmark, not a test)")
    p.add_argument("--source", default="phantom", help="phantom, a clip path, or device:<name>")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--fps", type=float, default=None, help="input rate (default: the source's own)")
    p.add_argument("--size", default="512", help="phantom picture size, e.g. 512 or 1920x1080")
    p.add_argument("--device", default="auto")
    add_backend(p)
    add_accel(p)
    add_trust_code(p)
    p.add_argument("--compare", default=None, help="comma list of models or model@backend")
    p.add_argument(
        "--cam",
        default=None,
        choices=CAM_CHOICES,
        help="also run the CAM worker with this method (auto: the app's default, "
        f"{DEFAULT_METHOD}) and report its maps per second",
    )
    p.add_argument(
        "--temporal", action="store_true", help="with the temporal filter on (Bedside mode)"
    )
    p.add_argument("--json", dest="json_out", default=None)
    p.set_defaults(func=run)


def _source(args: argparse.Namespace):
    from ...capture.bench_sources import bench_source
    from ...capture.capture_card import DeviceSource

    src = bench_source(args.source, fps=args.fps, size=args.size, frames=min(args.frames, 60))
    if isinstance(src, DeviceSource):
        src.open()  # a missing card is said now, not after the model has loaded
    return src


def _segmenter(spec: str, args: argparse.Namespace):
    from ...inference.backends import make_segmenter

    model, _, backend = spec.partition("@")
    return make_segmenter(
        model,
        device=args.device,
        backend=backend or args.backend,
        trust_code=args.trust_code,
        accel=args.accel,
    )


def _check(specs: list[str], args: argparse.Namespace) -> None:
    """Refuse a wrong model name, backend or device before any frame is rendered."""
    from ...inference.choices import BACKENDS
    from ...inference.torch_device import pick_device
    from ...models.registry import find_model

    pick_device(args.device)
    for spec in specs:
        model, _, backend = spec.partition("@")
        if model != "none":
            find_model(model)
        if (backend or args.backend) not in BACKENDS:
            raise ValueError(
                f"unknown backend '{backend or args.backend}' (known: {', '.join(BACKENDS)})"
            )


def run(args: argparse.Namespace) -> int:
    from ...inference.tools.bench import format_table, run_pipeline_bench, run_roi_bench
    from ...inference.torch_device import configure_cpu_threads
    from .errors import fail

    configure_cpu_threads()
    specs = args.compare.split(",") if args.compare else [args.model]
    results = []
    try:
        _check(specs, args)
    except Exception as e:  # noqa: BLE001 - one plain line, no traceback
        return fail(e)
    roi = run_roi_bench(min(args.frames, 300))  # the ROI stage at 1080p, whatever the source
    for spec in specs:
        try:
            source = _source(args)
            seg = None if spec == "none" else _segmenter(spec, args)
        except Exception as e:  # noqa: BLE001 - a missing file, a broken model: one line
            return fail(e)
        res = run_pipeline_bench(
            source, seg, args.frames, cam_method=args.cam, temporal=args.temporal
        )
        res["temporal_filter"] = args.temporal
        if seg is not None:  # what ran, which may be less than was asked for
            res.update(accel=seg.accel_mode, accel_note=seg.accel_note)
        if "error" in res:
            return fail(res["error"])
        res["spec"] = spec
        res["roi"] = roi
        print(f"== {spec}")
        print(format_table(res))
        if seg is not None and seg.accel_note:
            print(seg.accel_note)
        results.append(res)
    if len(results) > 1:
        base = results[0]
        print("ratios against", base["spec"])
        for r in results[1:]:
            ratio = (
                r["infer"]["p50"] / base["infer"]["p50"] if base["infer"]["p50"] else float("nan")
            )
            print(
                f"  {r['spec']}: infer p50 x{ratio:.2f}, fps x{r['fps'] / max(base['fps'], 1e-9):.2f}"
            )
    if args.json_out:
        payload = results[0] if len(results) == 1 else {"runs": results, **results[0]}
        Path(args.json_out).write_text(json.dumps(payload, indent=2) + "\n")
    return 0
