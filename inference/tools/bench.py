"""Headless pipeline benchmark: the same threads and slots as the app, with a consumer
thread standing in for the GUI so that the hand-off is measured the same way."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import psutil
import torch

from ...capture.replay import ReplaySource
from ...capture.source import FrameSource
from ...capture.workers import spawn
from ..pipeline import Pipeline
from ..segmenter import Segmenter
from ..stats import FIELDS


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
    warm: dict[str, Any] = {}  # the warm-up's figures, for a source that ends right after it

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

    pipe = Pipeline(
        source,
        segmenter,
        keep_all_stats=True,
        on_result=wake.set,
        on_status=on_status,
        roi=count_read,
        temporal=temporal,
    )
    pipe.add_sink(count_made)

    def drained() -> bool:
        """The source has ended, every frame it gave was processed or dropped, and every
        result was handed off or dropped."""
        if "end" not in events or pipe.frames_in.pending():
            return False
        if pipe.jobs_done < state["read"] - pipe.frames_in.dropped:
            return False
        return state["n"] + pipe.results.dropped >= state["made"]

    def cam_ready() -> bool:
        w = cam.worker if cam is not None else None
        if w is None or w.computed >= 1 or w.error:
            return True
        return time.perf_counter() - state["t_start"] > 60.0  # never wait for ever

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
            # the warm-up lasts until the CAM's first map too (its set-up is not measured)
            if state["n"] >= warmup and "n0" not in state and cam_ready():
                state["n0"] = state["n"]
                warm["stats"], warm["t_start"] = pipe.stats, state["t_start"]
                pipe.stats = type(pipe.stats)(keep_all=True)
                state["drop0"] = pipe.dropped
                state["t_start"] = time.perf_counter()
                state["rss0"] = proc.memory_info().rss
                if cam is not None and cam.worker is not None:
                    state["cam0"] = cam.worker.computed
            if "n0" in state and state["n"] >= frames + state["n0"]:
                done.set()

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    cam = None
    cam_error = None
    if cam_method and segmenter is not None:
        from ..cam.control import CamControl

        cam = CamControl(pipe, device=str(segmenter.device))
        cam.set_model(segmenter.torch_model)
        cam.configure(True, None, cam_method, None)
        if cam.worker is None:  # the CAM could not start: say so in the figures
            cam_error = cam.error or "the CAM did not start"
    th = spawn(consumer, name="sonolive-bench-consumer")
    pipe.start()
    done.wait(timeout_s)
    elapsed = state.get("t_last", time.perf_counter()) - state["t_start"]
    cam_figures: dict[str, Any] = {}
    if cam_error is not None:
        cam_figures = {"cam_method": cam_method, "cam_hz": 0.0, "cam_maps": 0}
        cam_figures.update(cam_from_mask_pass=0, cam_note=cam_error)
    if cam is not None and cam.worker is not None:
        engine = cam.worker.engine
        cam_figures = {
            "cam_method": cam_method
            if cam_method == engine.method
            else f"{cam_method} ({engine.method})",
            # maps made while the frames were measured (after the warm-up)
            "cam_hz": round((cam.worker.computed - state.get("cam0", 0)) / elapsed, 2)
            if elapsed > 0
            else 0.0,
            "cam_maps": cam.worker.computed,
            "cam_ms_last": round(cam.worker.last_ms, 1) if cam.worker.last_ms else None,
            "cam_from_mask_pass": cam.worker.with_taps,
            "cam_note": cam.worker.error or cam.tap_note or "",
        }
        cam.configure(False)
    pipe.stop()
    done.set()
    th.join(1)
    if pipe.stats.frames == 0 and warm:  # the source ended with the warm-up: report it
        pipe.stats, state["t_start"], state["drop0"] = warm["stats"], warm["t_start"], 0
        elapsed = state.get("t_last", time.perf_counter()) - state["t_start"]
    summary = pipe.stats.summary(everything=True)
    n = pipe.stats.frames
    out: dict[str, Any] = {f: summary[f] for f in FIELDS}
    out["ood"] = summary["ood"]  # the training-data check's share of "infer"
    out["ood_features"] = summary["ood_features"]  # ... and the feature distance's share of it
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
    elif state["n"] < frames + state.get("n0", warmup):
        out["note"] = _ended_note(int(state["n"]), frames, int(state.get("n0", warmup)))
    return out


def _ended_note(handed: int, frames: int, warmup: int) -> str:
    """Why fewer frames were measured than asked for (a finite source ended)."""
    if handed <= warmup:
        return (
            f"the source ended after {handed} frames, within the {warmup}-frame warm-up: "
            "the figures include the warm-up"
        )
    return f"the source ended: {handed - warmup} of {frames} frames measured after the warm-up"


def run_roi_bench(frames: int = 300, size: str = "1920x1080") -> dict[str, Any]:
    """The ROI stage's cost per frame (detection, follow check, crop) on simulated scanner
    screens: ``{p50, p95, p99}`` in milliseconds plus what it ran on."""
    from ...capture.bench_sources import scanner_screen_frames
    from ...capture.frame import Frame
    from ...capture.roi_stage import RoiStage
    from ..stats import percentiles

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
    if "ood" in res:
        o = res["ood"]
        lines.append(
            f"training-data check (inside infer): p50 {o['p50']:.2f}  p95 {o['p95']:.2f}  "
            f"p99 {o['p99']:.2f} ms"
        )
    if "ood_features" in res:
        o = res["ood_features"]
        lines.append(
            f"  of it the feature distance: p50 {o['p50']:.2f}  p95 {o['p95']:.2f}  "
            f"p99 {o['p99']:.2f} ms"
        )
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
            f"CAM {res['cam_method']}: {res['cam_hz']} maps/s beside {res['fps']:.1f} mask fps "
            f"(dropped {res['dropped']}; {res['cam_from_mask_pass']} of {res['cam_maps']} maps "
            "from the mask path's forward pass)"
        )
        if res.get("cam_note"):
            lines.append(f"CAM note: {res['cam_note']}")
    return "\n".join(lines)
