"""Headless pipeline benchmark: the same threads and slots as the app, with a consumer
thread standing in for the GUI so that the hand-off is measured the same way."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import psutil
import torch

from ..capture.replay import ReplaySource
from ..capture.source import FrameSource
from .pipeline import Pipeline
from .segmenter import Segmenter
from .stats import FIELDS


def run_pipeline_bench(
    source: FrameSource,
    segmenter: Segmenter | None,
    frames: int,
    timeout_s: float = 600.0,
    warmup: int = 10,
    cam_method: str | None = None,
    temporal: bool = False,
) -> dict[str, Any]:
    """``temporal``: run with the temporal filter on, as Bedside mode does."""
    proc = psutil.Process(os.getpid())
    done = threading.Event()
    wake = threading.Event()
    pipe = Pipeline(source, segmenter, keep_all_stats=True, on_result=wake.set)
    pipe.set_temporal(temporal)
    # handed-off count, the measurement's start and the drop counts at that moment (reset
    # once the warm-up frames are done); "read"/"made" count frames from the source and
    # results from the inference thread, so that the end of a finite source is noticed
    state: dict[str, float] = {
        "n": 0,
        "t_start": time.perf_counter(),
        "rss0": proc.memory_info().rss,
        "drop0": 0,
        "read": 0,
        "made": 0,
    }
    events: dict[str, str] = {}

    def on_status(kind: str, msg: str) -> None:
        if kind in ("error", "end") and kind not in events:
            events[kind] = msg
            state["t_" + kind] = time.perf_counter()
            wake.set()
            if kind == "error" and state["read"] == 0:
                done.set()  # the source could not be opened: nothing will come

    def count_read(frame):
        state["read"] += 1
        return frame

    def count_made(_result) -> None:
        state["made"] += 1

    pipe.on_status = on_status
    pipe.frame_filter = count_read
    pipe.frame_hooks.append(count_made)

    def drained() -> bool:
        """The source has ended and every frame it gave was handed off or dropped."""
        if "end" not in events or pipe.frames_in.pending():
            return False
        made = state["read"] - pipe.frames_in.dropped
        if state["made"] >= made and state["n"] + pipe.results.dropped >= made:
            return True
        # a frame that failed in the inference thread is never counted: stop when idle
        return time.perf_counter() - max(state.get("t_last", 0.0), state["t_end"]) > 3.0

    def consumer() -> None:  # plays the GUI thread's part
        while not done.is_set():
            if not wake.wait(0.1):
                if drained():
                    done.set()
                continue
            wake.clear()
            r = pipe.results.take_nowait()
            if r is None:
                continue
            r.finish_handoff(pipe.stats)
            state["n"] += 1
            state["t_last"] = time.perf_counter()
            if state["n"] == warmup:
                pipe.stats = type(pipe.stats)(keep_all=True)
                state["drop0"] = pipe.dropped
                state["t_start"] = time.perf_counter()
                state["rss0"] = proc.memory_info().rss
            if state["n"] >= frames + warmup:
                done.set()

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    cam = None
    if cam_method and segmenter is not None:
        from .cam_control import CamControl

        cam = CamControl(pipe, device=str(segmenter.device))
        cam.set_model(segmenter.torch_model)
        cam.configure(True, None, cam_method, None)
    th = threading.Thread(target=consumer, daemon=True)
    th.start()
    pipe.start()
    done.wait(timeout_s)
    elapsed = state.get("t_last", time.perf_counter()) - state["t_start"]
    cam_figures = {}
    if cam is not None and cam.worker is not None:
        cam_figures = {
            "cam_method": cam_method,
            "cam_hz": round(cam.rate(), 2),
            "cam_maps": cam.worker.computed,
            "cam_ms_last": round(cam.worker.state.ms, 1) if cam.worker.state else None,
        }
        cam.configure(False)
    pipe.stop()
    done.set()
    th.join(1)
    summary = pipe.stats.summary(everything=True)
    n = pipe.stats.frames
    out: dict[str, Any] = {f: summary[f] for f in FIELDS}
    out.update(
        fps=round(n / elapsed, 2) if elapsed > 0 and n else 0.0,
        dropped=pipe.dropped - state["drop0"],
        frames=n,
        backend=segmenter.backend_name if segmenter else "none",
        device=str(segmenter.device) if segmenter else "none",
        rss_mb=round(proc.memory_info().rss / 2**20, 1),
        # frames a replay source holds in memory are the benchmark's, not the pipeline's
        source_mb=round(source.nbytes / 2**20, 1) if isinstance(source, ReplaySource) else 0.0,
        rss_growth_mb=round((proc.memory_info().rss - state["rss0"]) / 2**20, 1),
        gpu_mem_mb=round(torch.cuda.max_memory_allocated() / 2**20, 1)
        if torch.cuda.is_available()
        else 0.0,
        source=source.describe(),
        model=segmenter.card.name if segmenter else "none",
        threads=torch.get_num_threads(),
        **cam_figures,
    )
    if "error" in events and not n:
        out["error"] = events["error"]
    elif state["n"] < frames + warmup:
        out["note"] = _ended_note(state["n"], frames, warmup)
    return out


def _ended_note(handed: int, frames: int, warmup: int) -> str:
    """Why fewer frames were measured than asked for (a finite source ended)."""
    if handed < warmup:
        return (
            f"the source ended after {handed} frames, before the {warmup}-frame warm-up "
            "was over: the figures include the warm-up"
        )
    return f"the source ended: {handed - warmup} of {frames} frames measured after the warm-up"


def run_roi_bench(frames: int = 300, size: str = "1920x1080") -> dict[str, Any]:
    """The ROI stage's cost per frame (detection, follow check, crop) on simulated scanner
    screens: ``{p50, p95, p99}`` in milliseconds plus what it ran on."""
    from ..capture.bench_sources import scanner_screen_frames
    from ..capture.frame import Frame
    from ..capture.roi_stage import RoiStage
    from .stats import percentiles

    screens = scanner_screen_frames(20, size)
    stage = RoiStage()
    times, cpu = [], []
    for i in range(frames + stage.detect_frames):
        f = Frame(pixels=screens[i % len(screens)], timestamp=i / 30.0, index=i)
        t0, c0 = time.perf_counter(), time.thread_time()
        stage(f)
        if i >= stage.detect_frames:  # after the first second: the steady state
            times.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.thread_time() - c0) * 1e3)
    out: dict[str, Any] = percentiles(times)
    # the thread's own CPU time: on a busy machine the wall clock also counts the time the
    # thread waited for a core
    out["cpu"] = percentiles(cpu)
    out.update(frames=len(times), size=size, roi=list(stage.roi) if stage.roi else None)
    return out


def format_table(res: dict[str, Any]) -> str:
    lines = [f"{'stage':<11}{'p50':>9}{'p95':>9}{'p99':>9}   (ms)"]
    for f in FIELDS:
        s = res[f]
        lines.append(f"{f:<11}{s['p50']:>9.2f}{s['p95']:>9.2f}{s['p99']:>9.2f}")
    lines.append(
        f"fps {res['fps']:.1f}  dropped {res['dropped']}  frames {res['frames']}  "
        f"model {res['model']}  backend {res['backend']}  device {res['device']}  "
        f"rss {res['rss_mb']} MB (of it {res.get('source_mb', 0)} MB replay frames)  "
        f"source {res['source']}"
    )
    if res.get("note"):
        lines.append(f"note: {res['note']}")
    if "roi" in res:
        r = res["roi"]
        c = r.get("cpu") or {}
        cpu = f"; CPU time p95 {c['p95']:.2f} ms" if "p95" in c else ""
        lines.append(
            f"ROI stage at {r['size']}: p50 {r['p50']:.2f}  p95 {r['p95']:.2f}  "
            f"p99 {r['p99']:.2f} ms{cpu} (simulated scanner screen)"
        )
    if "cam_hz" in res:
        lines.append(
            f"CAM {res['cam_method']}: {res['cam_hz']} maps/s beside {res['fps']:.1f} mask fps"
        )
    return "\n".join(lines)
