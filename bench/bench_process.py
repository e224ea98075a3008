"""Batch throughput of ``sonolive process`` (inference.batch.process_file) on a 1080p clip.

A 1080p H.264 clip of phantom frames (the square sector letterboxed in 1920x1080) is encoded
first with the app's own MP4 writer (``capture/mp4_writer.Mp4Writer``); then the clip is
processed end to end: decode, segment, compose the overlay, encode the annotated MP4 and
write the per-frame CSV/JSON. The figure is frames per second of that whole job (the model
load and the test-clip encoding are not counted).

The same run also times the loop a user would write in an afternoon, as the baseline: OpenCV
decode -> resize to the network's input -> torch eager forward of the same network ->
``cv2.addWeighted`` of the colour mask (a ``cv2.LUT``, no NumPy indexing), one thread; once
with ``cv2.VideoWriter`` (mp4v) writing the result, and once without writing anything (the
fastest form of the loop, the one the ratio is taken against).

    python bench/bench_process.py --frames 150 --model fast-lite --json process.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from sonolive.capture.bench_sources import phantom_frames
from sonolive.capture.mp4_writer import Mp4Writer
from sonolive.inference.backends import make_segmenter
from sonolive.inference.batch import process_file


def encode(path: Path, frames, fps: int = 30) -> None:
    """The test clip, through the product's one MP4 writer (libx264 veryfast, CRF 20)."""
    with Mp4Writer(path, fps, crf=20, preset="veryfast") as out:
        for rgb in frames:
            out.write(rgb)


def naive_loop(clip: Path, out: Path | None, model_name: str) -> tuple[int, float]:
    """(frames, seconds) of the one-thread baseline on ``clip``; ``out=None``: no writing."""
    import cv2
    import numpy as np
    import torch
    from sonolive.models.loader import load_model
    from sonolive.models.registry import find_model

    loaded = load_model(find_model(model_name))
    net, card = loaded.net.eval(), loaded.card
    h, w = card.input_size
    lut = np.zeros((1, 256, 3), np.uint8)
    lut[0, : card.num_classes] = np.array([c.color for c in card.classes], np.uint8)[:, ::-1]
    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    writer = None
    n = 0
    t0 = time.perf_counter()
    with torch.inference_mode():
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
            x = cv2.resize(grey, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
            x = (x - card.mean[0]) / card.std[0]
            labels = net(torch.from_numpy(x)[None, None]).argmax(1)[0].numpy().astype(np.uint8)
            big = cv2.resize(labels, (bgr.shape[1], bgr.shape[0]), interpolation=cv2.INTER_NEAREST)
            shown = cv2.addWeighted(bgr, 0.55, cv2.LUT(cv2.merge([big, big, big]), lut), 0.45, 0)
            if out is None:
                n += 1
                continue
            if writer is None:
                four = cv2.VideoWriter_fourcc(*"mp4v")
                writer = cv2.VideoWriter(str(out), four, fps, (bgr.shape[1], bgr.shape[0]))
            writer.write(shown)
            n += 1
    cap.release()
    if writer is not None:
        writer.release()
    return n, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--model", default="fast-lite")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--json", dest="json_out", default=None)
    args = ap.parse_args(argv)

    seg = make_segmenter(args.model, device=args.device, backend=args.backend)
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "bench_1080p.mp4"
        imgs, _ = phantom_frames(args.frames, args.size)
        encode(clip, imgs)
        del imgs
        t0 = time.perf_counter()
        s = process_file(clip, Path(tmp) / "out", seg, roi="none")
        wall = time.perf_counter() - t0
        naive_n, naive_s = naive_loop(clip, None, args.model)
        wn, ws = naive_loop(clip, Path(tmp) / "naive.mp4", args.model)
    res = {
        "frames": s.frames,
        "size": args.size,
        "model": s.model,
        "backend": seg.backend_name,
        "device": str(seg.device),
        "seconds": round(wall, 3),
        "process_fps": round(s.frames / wall, 2),
        "naive_fps": round(naive_n / naive_s, 2) if naive_s > 0 else None,
        "naive_frames": naive_n,
        "naive_writing_fps": round(wn / ws, 2) if ws > 0 else None,
    }
    print(
        f"process {res['frames']} frames {args.size} with {res['model']} "
        f"({res['backend']}, {res['device']}): {res['process_fps']} fps "
        f"({res['seconds']} s); naive one-thread loop (OpenCV + torch eager): "
        f"{res['naive_fps']} fps without writing, {res['naive_writing_fps']} fps writing mp4v"
    )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
