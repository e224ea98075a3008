"""Brush strokes per frame with and without the model pre-fill, on held-out usgra-seg images.

    python bench/annotate_strokes.py /work/shared/data/usgra-seg --json docs/annotate-strokes.json

Frames: the 41 validation images of the nerve-vessel model's own split (seed 0, 20 %), which it
never trained on. Method: inference/tools/stroke_count.py (a simulated annotator, same for both).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sonolive.inference.backends import make_segmenter
from sonolive.inference.tools.stroke_count import strokes_needed
from sonolive.models.datasets import folder_pairs, load_pairs, split_pairs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--model", default="nerve-vessel")
    ap.add_argument("--target", type=float, default=0.9)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    seg = make_segmenter(a.model, device="cpu", backend="torch")
    n_classes = seg.card.num_classes
    _tr, va = split_pairs(folder_pairs(a.data), 0.2, 0)
    imgs, masks = load_pairs(va)
    rows = []
    for (ip, _mp), img, ref in zip(va, imgs, masks, strict=True):
        pred = seg.segment_pixels(np.dstack([img] * 3)).labels
        s0, d0 = strokes_needed(np.zeros_like(ref), ref, n_classes, a.target)
        s1, d1 = strokes_needed(pred, ref, n_classes, a.target)
        rows.append({"image": ip.name, "scratch": s0, "prefill": s1, "dice_scratch": d0,
                     "dice_prefill": d1, "wrong_px_scratch": int((ref > 0).sum()),
                     "wrong_px_prefill": int((pred != ref).sum())})  # fmt: skip
    s0 = np.array([r["scratch"] for r in rows])
    s1 = np.array([r["prefill"] for r in rows])
    summary = {
        "frames": len(rows),
        "target_mean_dice": a.target,
        "strokes_scratch_mean": round(float(s0.mean()), 2),
        "strokes_prefill_mean": round(float(s1.mean()), 2),
        "strokes_scratch_median": float(np.median(s0)),
        "strokes_prefill_median": float(np.median(s1)),
        "frames_fewer_with_prefill": int((s1 < s0).sum()),
        "frames_equal": int((s1 == s0).sum()),
        "frames_more_with_prefill": int((s1 > s0).sum()),
        "wrong_pixels_scratch_mean": round(float(np.mean([r["wrong_px_scratch"] for r in rows]))),
        "wrong_pixels_prefill_mean": round(float(np.mean([r["wrong_px_prefill"] for r in rows]))),
    }
    print(json.dumps(summary, indent=1))
    if a.json:
        a.json.write_text(json.dumps({"summary": summary, "frames": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
