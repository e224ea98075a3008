"""Does memory grow over a long session? Frames through the pipeline at full speed.

    python bench/bench_memory.py [--frames 10000] [--model fast-lite] [--device auto]
                                 [--size 512] [--mark 500] [--read-labels 30] [--json OUT]

``Pipeline.process`` runs on pre-rendered phantom frames as fast as it can (no pacing; the
same path the inference thread takes, CUDA fast path included), each result goes through the
output slot and is handed off as the view would. Reported:

* ``rss_growth_mb``: resident memory at the end minus at frame ``--mark`` (start-up, lazy
  imports, cuDNN autotuning and the allocators' first growth are over by then). A leak of
  one picture per frame shows up as hundreds of MB; a few MB is allocator noise;
* ``gpu_allocated_mb`` / ``gpu_reserved_mb`` before the first frame and after the last, and
  the peak: the GPU-side counterpart (PyTorch's caching allocator);
* ``ms_per_frame`` p50 / p99 of the whole ``process`` call.

``--read-labels K`` reads ``seg.labels`` every K-th frame, as a snapshot or CSV export would
(on the fast path that is the lazy download of the full-size label map).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--frames", type=int, default=10000)
    p.add_argument("--model", default="fast-lite")
    p.add_argument("--device", default="auto")
    p.add_argument("--size", default="512")
    p.add_argument("--mark", type=int, default=500, help="frame from which growth is counted")
    p.add_argument("--distinct", type=int, default=60, help="pre-rendered frames, cycled")
    p.add_argument("--read-labels", type=int, default=30, help="read seg.labels every K frames")
    p.add_argument("--accel", default="off", help="off, cudagraphs or compile")
    p.add_argument(
        "--gpu-compose", action="store_true", help="force the device path (on the CPU: a check)"
    )
    p.add_argument("--json", dest="json_out", default=None)
    a = p.parse_args(argv)

    import psutil
    import torch
    from sonolive.capture.bench_sources import phantom_frames
    from sonolive.capture.frame import Frame
    from sonolive.inference.backends import make_segmenter
    from sonolive.inference.pipeline import Pipeline
    from sonolive.inference.torch_device import configure_cpu_threads

    configure_cpu_threads()
    proc = psutil.Process(os.getpid())
    cuda = torch.cuda.is_available()

    def gpu(kind: str) -> float:
        if not cuda:
            return 0.0
        f = {"alloc": torch.cuda.memory_allocated, "reserved": torch.cuda.memory_reserved}[kind]
        return round(f() / 2**20, 1)

    imgs, _ = phantom_frames(a.distinct, a.size)
    seg = make_segmenter(
        a.model, device=a.device, route="device" if a.gpu_compose else None, accel=a.accel
    )
    pipe = Pipeline(None, seg)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    gpu_before = {"allocated": gpu("alloc"), "reserved": gpu("reserved")}
    rss_start = proc.memory_info().rss
    rss_mark = None
    times = np.empty(a.frames)
    t_all = time.perf_counter()
    for i in range(a.frames):
        frame = Frame(imgs[i % len(imgs)], time.perf_counter(), i)
        frame.mark_entered()
        t0 = time.perf_counter()
        r = pipe.process(frame)
        times[i] = time.perf_counter() - t0
        if r is not None:
            pipe.results.put(r)
            got = pipe.results.take_nowait()
            if got is not None:
                got.finish_handoff(pipe.stats)
                if a.read_labels and got.seg is not None and i % a.read_labels == 0:
                    _ = got.seg.labels
        if i + 1 == a.mark:
            rss_mark = proc.memory_info().rss
        if (i + 1) % 1000 == 0:
            print(
                f"  {i + 1} frames, rss {proc.memory_info().rss / 2**20:.1f} MB, "
                f"{(i + 1) / (time.perf_counter() - t_all):.1f} fps",
                flush=True,
            )
    if cuda:
        torch.cuda.synchronize()
    rss_end = proc.memory_info().rss
    if rss_mark is None:  # fewer frames than the mark
        rss_mark = rss_start
    ms = times * 1000
    res = {
        "frames": a.frames,
        "model": a.model,
        "device": str(seg.device),
        "accel": seg.accel_mode,
        "fast_path": seg.device_route is not None,
        "size": a.size,
        "fps": round(a.frames / (time.perf_counter() - t_all), 1),
        "ms_per_frame": {
            "p50": round(float(np.percentile(ms, 50)), 2),
            "p99": round(float(np.percentile(ms, 99)), 2),
        },
        "rss_start_mb": round(rss_start / 2**20, 1),
        "rss_mark_mb": round(rss_mark / 2**20, 1),
        "rss_end_mb": round(rss_end / 2**20, 1),
        "rss_growth_mb": round((rss_end - rss_mark) / 2**20, 1),
        "mark": a.mark,
        "gpu_before_mb": gpu_before,
        "gpu_after_mb": {"allocated": gpu("alloc"), "reserved": gpu("reserved")},
        "gpu_peak_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1) if cuda else 0.0,
        "errors": pipe.last_error,
    }
    print(json.dumps(res, indent=2))
    if a.json_out:
        Path(a.json_out).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
