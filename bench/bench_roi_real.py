"""How much of the picture the ROI keeps on the 37 shared real recordings (pocus-ccby).

For every clip, at its own size and scaled up to 600, 720 and 1080 lines (so that the
small-picture exemption is not what makes it pass): the region ``sonolive process`` uses
(the same :class:`~sonolive.capture.roi_follow.RoiFollower`, read ahead as ``process`` does)
on every frame, against the picture computed from the clip itself
(:func:`tests.real_clips.picture_mask`). Prints the lowest coverage over the frames, per
clip and size, and how many clips reach 95% and 98%.

    python bench/bench_roi_real.py [--lines 0 600 720 1080] [--limit FRAMES]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from real_clips import covered, decode, picture_mask, pocus_clips, scaled  # noqa: E402
from sonolive.capture.roi_follow import RoiFollower  # noqa: E402


def regions(frames, fps: float) -> list:
    """The region of every frame, as ``process`` gets it (the first second read ahead, then
    followed: :func:`sonolive.inference.batch.roi_stage_for`)."""
    scout = RoiFollower(fps)
    for f in frames[: scout.detect_frames]:
        scout.update(f)
    fol = RoiFollower(fps, initial=scout.finish())
    out = []
    for f in frames:
        r = fol.update(f)
        out.append(r if r is not None else (0, 0, f.shape[1], f.shape[0]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, nargs="+", default=[0, 600, 720, 1080])
    ap.add_argument("--limit", type=int, default=None, help="frames per clip (default: all)")
    args = ap.parse_args()
    clips = pocus_clips()
    if not clips:
        print("pocus-ccby not found", file=sys.stderr)
        return 2
    worst: dict[int, list[float]] = {n: [] for n in args.lines}
    t0 = time.perf_counter()
    for p in clips:
        frames, fps = decode(p, args.limit)
        cols = []
        for n in args.lines:
            fr = frames if n == 0 else scaled(frames, n)
            truth = picture_mask(fr)
            cov = min(covered(r, truth) for r in regions(fr, fps))
            worst[n].append(cov)
            cols.append(f"{n or fr[0].shape[0]:>5}:{100 * cov:6.1f}%")
        print(f"{p.name[:44]:44s} {' '.join(cols)}", flush=True)
    for n, v in worst.items():
        name = "own size" if n == 0 else f"{n} lines"
        a95 = sum(c >= 0.95 for c in v)
        a98 = sum(c >= 0.98 for c in v)
        print(f"{name:>9}: >=95% {a95}/{len(v)}, >=98% {a98}/{len(v)}, lowest {100 * min(v):.1f}%")
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
