"""The region on 1920x1080 scanner screens built around each of the 37 shared recordings.

Each pocus-ccby clip (its first 40 frames) is shown on a screen of
``tests/scanner_screens.RealScreen`` (menus, patient text on a light bar right above the
picture and on a dark bar below, a side panel 6 px beside it with a running clock and a
frame counter), at 15 or 25 fps content on 30 or 60 Hz, black or dark-grey background,
some with a freeze, for 1.5 s; with ``--h264`` through libx264 at 4-8 Mbit/s. The frames go
through the live :class:`RoiStage`. Printed per clip, for the first frame out and the last:
the share of the picture kept, and the pixels of burned-in text inside the region.

    python bench/bench_roi_screens.py [--h264]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from real_clips import decode, picture_mask, pocus_clips  # noqa: E402
from scanner_screens import RealScreen, text_pixels  # noqa: E402
from test_roi_screens import _h264, _run  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--h264", action="store_true", help="through libx264 at 4-8 Mbit/s")
    args = ap.parse_args()
    clips = pocus_clips()
    if not clips:
        print("pocus-ccby not found", file=sys.stderr)
        return 2
    bad = 0
    tmp = Path(tempfile.mkdtemp())
    for k, p in enumerate(clips):
        frames, _ = decode(p)
        clip = frames[:40]
        hz, fps = (60 if k % 3 == 0 else 30), (25 if k % 2 else 15)
        scr = RealScreen(
            clip,
            picture_mask(clip),
            content_fps=fps,
            display_hz=hz,
            lines=(640, 700, 760)[k % 3],
            background=(0, 0, 0) if k % 2 else (16, 18, 24),
            freeze=(5, 20) if k % 4 == 1 else None,
        )
        n = int(hz * 1.5)
        shown = [scr.frame(i) for i in range(n)]
        if args.h264:
            shown = _h264(tmp / "screen.mp4", shown, hz, 4 + k % 5)
        _, out = _run(shown, hz)
        first = next(i for i, f in enumerate(out) if f is not None)
        cols = []
        for i in (first, n - 1):
            x, y, w, h = out[i].roi
            truth = scr.truth(i)
            kept = float(truth[y : y + h, x : x + w].sum() / truth.sum())
            text = text_pixels(out[i].roi, scr.boxes(i))
            bad += kept < 0.95 or text > 0
            cols.append(f"frame {i:3d}: kept {100 * kept:5.1f}% text px {text}")
        print(f"{p.name[:40]:40s} {fps} fps@{hz} Hz  {'  '.join(cols)}", flush=True)
    print(f"{bad} frames below 95% or with text, of {2 * len(clips)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
