"""Frames per second of the simulated scanner (numpy + OpenCV on one thread, no torch).

python bench/bench_phantom.py [--frames 300] [--size 512] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np


def bench(frames: int, size: int, seed: int = 0) -> dict:
    from sonolive.capture.phantom import PhantomScanner

    scanner = PhantomScanner(seed=seed, size=size)
    # warm-up: builds the scan-conversion tables of the first segments
    scanner.render(0.0)
    scanner.sample(np.random.default_rng(0))

    times = []
    for n in range(frames):
        t0 = time.perf_counter()
        scanner.render(n / 30.0 + 0.5)
        times.append(time.perf_counter() - t0)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    n_rand = max(frames // 3, 1)
    for _ in range(n_rand):
        scanner.sample(rng)
    rand_s = time.perf_counter() - t0
    ms = np.array(times) * 1000.0
    return {
        "frames": frames,
        "size": size,
        "threads": cv2.getNumThreads(),
        "fps": frames / (ms.sum() / 1000.0),
        "ms": {
            "p50": float(np.percentile(ms, 50)),
            "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)),
        },
        "sample_fps": n_rand / rand_s,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)
    res = bench(args.frames, args.size, args.seed)
    print(
        f"phantom {args.size}x{args.size}, 1 thread: {res['fps']:.1f} frames/s "
        f"(p50 {res['ms']['p50']:.2f} ms, p99 {res['ms']['p99']:.2f} ms); "
        f"random sample(): {res['sample_fps']:.1f} frames/s"
    )
    if args.json:
        args.json.write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
