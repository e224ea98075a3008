"""Capture-to-Frame latency of DeviceSource on a file-backed 1080p capture card.

A 1080p clip with barcoded frames is encoded with PyAV at start, and a FakeCaptureCard plays
it in real time at 60 fps. For every Frame that ``DeviceSource.read()`` returns, the latency
is measured from the instant the fake card made that frame available (its due time on the
card's clock, i.e. when a real driver's buffer would be complete) to the moment ``read()``
returned it; this covers driver wake-up, the BGR->RGB conversion, the latest-wins hand-off
and the consumer's wake-up. ``capture`` is the conversion alone (``Frame.capture_ms``).

    python bench/bench_capture.py --frames 600 --json capture.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sonolive.capture.capture_card import DeviceSource

# the simulated capture card is a test double: it lives with the tests, not in the product
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from barcode import CORNER, read_barcode  # noqa: E402
from fake_capture_card import FakeCaptureCard, encode_barcode_clip  # noqa: E402


def _pct(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3), "p99": round(float(p99), 3)}


def _rss_mb() -> float:
    try:
        import psutil

        return round(psutil.Process().memory_info().rss / 2**20, 1)
    except Exception:
        return float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=600, help="frames to measure")
    ap.add_argument("--fps", type=float, default=60.0)
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--clip-frames", type=int, default=30, help="distinct frames in the loop")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        clip = encode_barcode_clip(
            Path(tmp) / "bench_1080p.mp4",
            frames=args.clip_frames,
            width=args.width,
            height=args.height,
            fps=int(round(args.fps)),
        )
        card = FakeCaptureCard(clip, fps=args.fps)
        print(f"clip encoded+decoded in {time.perf_counter() - t:.1f} s", file=sys.stderr)

    n_clip = len(card.frames)
    src = DeviceSource(
        "bench", width=args.width, height=args.height, fps=args.fps, opener=card, timeout=2.0
    )
    lat_due: list[float] = []
    lat_ret: list[float] = []
    conv: list[float] = []
    indices: list[int] = []
    src.open()
    try:
        t_start = None
        for i in range(args.warmup + args.frames):
            f = src.read()
            t_read = time.perf_counter()
            if i < args.warmup:
                continue
            if t_start is None:
                t_start = t_read
            k = read_barcode(f.pixels, CORNER) % n_clip
            due, ret = card.deliveries[k]
            lat_due.append((t_read - due) * 1e3)
            lat_ret.append((t_read - ret) * 1e3)
            conv.append(f.capture_ms)
            indices.append(f.index)
        elapsed = time.perf_counter() - (t_start or time.perf_counter())
    finally:
        src.close()

    dropped = int(np.sum(np.diff(indices) - 1)) if len(indices) > 1 else 0
    result = {
        "capture": _pct(conv),
        "capture_to_read": _pct(lat_due),
        "capture_to_read_from_driver_return": _pct(lat_ret),
        "fps": round((len(indices) - 1) / elapsed, 2) if elapsed > 0 else 0.0,
        "dropped": dropped,
        "frames": len(indices),
        "backend": "cpu",
        "device": src.describe(),
        "rss_mb": _rss_mb(),
        "source": f"FakeCaptureCard {args.width}x{args.height} @ {args.fps:g} fps (file-backed)",
    }
    c = result["capture_to_read"]
    print(
        f"capture->Frame (available -> read() returned), {len(indices)} frames: "
        f"p50 {c['p50']:.2f} ms  p95 {c['p95']:.2f} ms  p99 {c['p99']:.2f} ms"
    )
    cc = result["capture"]
    print(
        f"  of which BGR->RGB + Frame: p50 {cc['p50']:.2f} ms  p95 {cc['p95']:.2f} ms  "
        f"p99 {cc['p99']:.2f} ms;  fps {result['fps']}, dropped {dropped}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
