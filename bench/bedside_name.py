"""How steady Bedside's big name is on the simulated scanner's steady views.

For each FAST view the simulated scanner holds that view (probe motion and breathing go on)
for ``--seconds`` of its own time at 30 fps. Every frame runs through the real model with
Bedside's temporal filter and the CPU overlay in Bedside's style, as the app does. Reported
per view: how often the name changes (changes per second, a change to or from no name
included), the share of frames with a name, the name most shown, and how many names were
drawn with their anchor off their organ or with their text box over another class.

python bench/bedside_name.py [--seconds 20] [--size 512] [--views ruq,luq] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np


def run_view(view: str, seconds: float, size: int, seed: int = 11) -> dict:
    from sonolive.app.modes import DEFAULTS
    from sonolive.capture.frame import Frame
    from sonolive.capture.phantom import PhantomScanner
    from sonolive.inference.overlay import Overlay
    from sonolive.inference.segmenter import Segmenter
    from sonolive.inference.temporal import TemporalFilter
    from sonolive.inference.text import text_box
    from sonolive.models.loader import load_model
    from sonolive.models.registry import find_model

    model = load_model(find_model("fast-lite"))
    seg = Segmenter(model, device="cpu")
    overlay = Overlay(model.card, DEFAULTS["bedside"].style())
    smoother = TemporalFilter()
    scanner = PhantomScanner(seed=seed, size=size)
    names: list[str | None] = []
    off_organ = over_other = 0
    n = int(seconds * 30)
    for i in range(n):
        t = i / 30.0
        img, _ = scanner.render(t, view=view)
        rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        s = seg.segment(Frame(rgb, t, i), smoother)
        comp = overlay.compose(rgb, s.labels, None, t)
        name = comp.labels[0].name if comp.labels else None
        names.append(name)
        for a in comp.labels:
            labels = s.labels
            off_organ += int(labels[a.y, a.x] != a.cls)
            tw, th = text_box(labels.shape[0], a.name, a.scale)
            box = labels[
                max(0, a.y - th // 2) : a.y + th // 2, max(0, a.x - tw // 2) : a.x + tw // 2
            ]
            over_other += int(bool(np.isin(box, [0, a.cls], invert=True).any()))
    changes = sum(1 for a, b in zip(names, names[1:], strict=False) if a != b)
    shown = [x for x in names if x]
    return {
        "view": view,
        "seconds": seconds,
        "frames": n,
        "changes": changes,
        "changes_per_s": round(changes / seconds, 3),
        "with_name": round(len(shown) / n, 3),
        "most_shown": Counter(shown).most_common(3),
        "anchor_off_organ": off_organ,
        "text_over_other_class": over_other,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--views", default=None, help="comma list (default: every FAST view)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    from sonolive.capture.phantom import VIEWS
    from sonolive.inference.torch_device import configure_cpu_threads

    configure_cpu_threads()
    views = args.views.split(",") if args.views else VIEWS
    rows = [run_view(v, args.seconds, args.size) for v in views]
    for r in rows:
        print(
            f"{r['view']:<11} changes {r['changes']:>3} in {r['seconds']:.0f} s "
            f"({r['changes_per_s']:.2f}/s)  named {r['with_name']:.0%}  "
            f"anchor off organ {r['anchor_off_organ']}  text over another class "
            f"{r['text_over_other_class']}  {r['most_shown']}"
        )
    total = sum(r["changes"] for r in rows) / sum(r["seconds"] for r in rows)
    print(f"all views: {total:.3f} changes per second")
    if args.json:
        Path(args.json).write_text(json.dumps({"views": rows, "changes_per_s": total}, indent=2))


if __name__ == "__main__":
    main()
