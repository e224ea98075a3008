"""The standard benchmark set, through ``sonolive bench``; JSONs plus one Markdown table.

    python bench/standard.py [--out bench/results] [--cpu-only] [--frames-scale 0.2]

CPU (always):
  cpu-lite-512     fast-lite, phantom 512x512 at 30 fps, 300 frames
  cpu-lite-1080p   fast-lite, phantom letterboxed in 1920x1080 at 30 fps, 300 frames
  cpu-lite-clip-1080p  fast-lite, a 1920x1080 H.264 clip at 30 fps (encoded first), 250 frames
  cpu-lite-clip-1080p-bedside  the same clip with the temporal filter on (Bedside's default)
  process-1080p    ``bench/bench_process.py``: ``sonolive process`` on a 1080p clip, end to
                   end, beside the naive one-thread loop, in the same run
CUDA (when torch sees a GPU):
  gpu-lite-1080p   fast-lite, 1920x1080 at 60 fps, 600 frames
  gpu-compare      ``--compare`` of backends (``--compare`` here; default torch against onnx)
  gpu-accel-MODE   fast-lite 1080p with ``sonolive bench --accel`` off / cudagraphs / compile
                   (``inference.compile``; the JSON records the mode that ran and its note)

Every run is its own process, so resident memory (``rss``) belongs to that run alone. A run
that fails is listed as failed and the others still run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sonolive.inference.stats import FIELDS  # the stages, then "total"

CLI = "import sys; from sonolive.app.cli import main; sys.exit(main(sys.argv[1:]))"


def cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


def plan(args: argparse.Namespace, cuda: bool) -> list[tuple[str, list[str]]]:
    def n(frames: int) -> str:
        return str(max(20, int(frames * args.frames_scale)))

    runs = [
        ("cpu-lite-512", ["--device", "cpu", "--model", "fast-lite", "--size", "512",
                          "--fps", "30", "--frames", n(300)]),
        ("cpu-lite-1080p", ["--device", "cpu", "--model", "fast-lite", "--size", "1920x1080",
                            "--fps", "30", "--frames", n(300)]),
    ]  # fmt: skip
    clip = str(args.clip_path)
    runs.append(("cpu-lite-clip-1080p", ["--device", "cpu", "--model", "fast-lite",
                                          "--source", clip, "--frames", n(250)]))  # fmt: skip
    runs.append(("cpu-lite-clip-1080p-bedside", ["--device", "cpu", "--model", "fast-lite",
                 "--source", clip, "--frames", n(250), "--temporal"]))  # fmt: skip
    runs.append(("process-1080p", ["--_process", "--frames", n(300), "--model", "fast-lite"]))
    if cuda and not args.cpu_only:
        gpu = ["--device", "cuda", "--size", "1920x1080", "--fps", "60", "--frames", n(600)]
        runs.append(("gpu-lite-1080p", ["--model", args.gpu_model, *gpu]))
        runs.append(("gpu-compare", ["--compare", args.compare, *gpu]))
        for mode in ("off", "cudagraphs", "compile"):
            runs.append((f"gpu-accel-{mode}", ["--accel", mode, "--model", args.gpu_model, *gpu]))
    return runs


def run_one(name: str, argv: list[str], out: Path, timeout: float) -> dict:
    js = out / f"{name}.json"
    if argv[:1] == ["--_process"]:
        cmd = [sys.executable, str(Path(__file__).with_name("bench_process.py")), *argv[1:]]
    else:
        cmd = [sys.executable, "-c", CLI, "bench", *argv]
    cmd += ["--json", str(js)]
    t0 = time.perf_counter()
    print(f"-- {name}: {' '.join(cmd[3:] if cmd[1] == '-c' else cmd[2:])}", flush=True)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"name": name, "error": f"timed out after {timeout:.0f} s"}
    log = (p.stdout or "") + (p.stderr or "")
    (out / f"{name}.log").write_text(log)
    if p.returncode != 0 or not js.exists():
        tail = log.strip().splitlines()[-1:] or ["no output"]
        return {"name": name, "error": f"exit {p.returncode}: {tail[0][:160]}"}
    res = json.loads(js.read_text())
    res["name"] = name
    res["wall_s"] = round(time.perf_counter() - t0, 1)
    return res


def _rows(res: dict) -> list[dict]:
    """A compare run holds several runs; every other JSON is one."""
    if "error" in res:
        return [res]
    runs = res.get("runs")
    if runs:
        return [{**r, "name": f"{res['name']}: {r.get('spec', '?')}"} for r in runs]
    return [res]


def process_markdown(results: list[dict]) -> str:
    """The batch rows: ``process`` end to end against the naive loop, measured together."""
    lines = ["| run | frames | `process` fps | naive loop fps | ratio |", "|---|---|---|---|---|"]
    for r in results:
        if "process_fps" not in r:
            continue
        ratio = r["process_fps"] / r["naive_fps"] if r.get("naive_fps") else 0.0
        lines.append(
            f"| {r['name']} | {r['frames']} | {r['process_fps']:.1f} | "
            f"{r['naive_fps']:.1f} | {ratio:.2f}x |"
        )
    return "\n".join(lines)


def markdown(results: list[dict]) -> str:
    head = ["run", "device", "fps", "dropped", "frames", "rss MB", "of it replay frames MB"]
    head += [f"{s} p50/p95/p99 ms" for s in FIELDS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for res in results:
        if "process_fps" in res:
            continue  # the batch table
        for r in _rows(res):
            if "error" in r:
                cells = [r["name"], "failed: " + r["error"]] + [""] * (len(head) - 2)
            else:
                cells = [
                    r["name"] + (f" ({r.get('accel', '?')})" if "-accel-" in r["name"] else ""),
                    str(r.get("device", "")),
                    f"{r['fps']:.1f}",
                    str(r["dropped"]),
                    str(r["frames"]),
                    f"{r['rss_mb']:.0f}",
                    f"{r.get('source_mb', 0):.0f}",
                ]
                for s in FIELDS:
                    v = r.get(s, {})
                    cells.append(
                        f"{v.get('p50', 0):.1f} / {v.get('p95', 0):.1f} / {v.get('p99', 0):.1f}"
                    )
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def make_clip(path: Path, frames: int) -> None:
    """A 1920x1080 H.264 clip of phantom frames at 30 fps, as a capture recording would be."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_process import encode
    from sonolive.capture.bench_sources import phantom_frames

    imgs, _ = phantom_frames(frames, "1920x1080")
    encode(path, imgs)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", default="bench/results", help="folder for the JSONs and logs")
    p.add_argument("--cpu-only", action="store_true", help="skip the CUDA runs")
    p.add_argument("--gpu-model", default="fast-lite")
    p.add_argument("--compare", default="fast-lite@torch,fast-lite@onnx")
    p.add_argument("--frames-scale", type=float, default=1.0, help="e.g. 0.2 for a quick look")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cuda = cuda_available()
    if not cuda and not args.cpu_only:
        print("No CUDA GPU visible to torch: running the CPU part of the standard set only.")
    with tempfile.TemporaryDirectory() as tmp:
        args.clip_path = Path(tmp) / "phantom_1080p.mp4"
        make_clip(args.clip_path, 300)
        results = [run_one(name, a, out, args.timeout) for name, a in plan(args, cuda)]
    table = markdown(results) + "\n\n" + process_markdown(results)
    (out / "summary.md").write_text(table + "\n")
    (out / "summary.json").write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
