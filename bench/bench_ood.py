"""How often each shipped model judges a picture "like its training data".

For each model: its own held-out data (phantom seed 9000 for ``fast-lite``, the usgra-seg
validation split for ``nerve-vessel``), **near-foreign** pictures (real scans of another body
part: the shared convex lung recordings, whole for ``fast-lite`` and cut to a rectangular,
linear-like window for the linear-probe ``nerve-vessel``) and clearly foreign pictures (real
linear-probe usgra-seg images or phantom FAST frames, made natural-like pictures, black and
menu-only scanner screens). Rows: the shipped ``reference.json`` (features + statistics), its
statistics part alone (today's score before the feature distance), its feature part alone,
and max-softmax alone (refit on the calibration frames).

    OMP_NUM_THREADS=1 python bench/bench_ood.py --json docs/bench/ood.json
    python bench/bench_ood.py --cards-from docs/bench/ood.json   # copy the figures into the cards
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from sonolive.inference.backends import make_segmenter
from sonolive.inference.gate.calibrate import deep_features_of, folder_pictures, phantom_pictures
from sonolive.inference.gate.ood import feature_names, fit_reference

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from real_data import linear_window, match_grey_levels, pocus_frames, shared_data  # noqa: E402

SHARED = shared_data() or Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
DATA = SHARED / "usgra-seg"


def natural_like(n: int, size: int = 512, seed: int = 7) -> list[np.ndarray]:
    """Pictures with natural-image statistics (1/f spectrum), colour, edges and objects."""
    rng = np.random.default_rng(seed)
    out = []
    fy, fx = np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size), indexing="ij")
    f = np.sqrt(fx**2 + fy**2)
    f[0, 0] = 1
    for _ in range(n):
        chans = []
        for _c in range(3):
            spec = (rng.normal(size=(size, size)) + 1j * rng.normal(size=(size, size))) / f
            img = np.real(np.fft.ifft2(spec))
            img = (img - img.min()) / (np.ptp(img) + 1e-9)
            chans.append(img)
        img = (np.stack(chans, -1) * 255).astype(np.uint8)
        for _k in range(int(rng.integers(2, 6))):  # a few solid objects
            c = tuple(int(v) for v in rng.integers(0, 256, 3))
            p = tuple(int(v) for v in rng.integers(0, size, 2))
            cv2.circle(img, p, int(rng.integers(20, 120)), c, -1)
        out.append(img)
    return out


def scanner_screens(n: int, size: int = 512, seed: int = 3) -> list[np.ndarray]:
    """Black screens and menu-only screens (text, boxes, no image)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        img = np.zeros((size, size, 3), np.uint8)
        if i % 2:
            for _k in range(int(rng.integers(4, 12))):
                y, x = int(rng.integers(10, size - 10)), int(rng.integers(0, size - 150))
                cv2.putText(img, "GAIN 52 DR 60 MI 1.1", (x, y), 0, 0.5, (220, 220, 220), 1)
            cv2.rectangle(img, (5, 5), (size - 5, 40), (90, 90, 90), 2)
        out.append(img)
    return out


def usgra(split: str) -> list[np.ndarray]:
    return [p for i, p in enumerate(folder_pictures(DATA, split)) if i % 2 == 0]  # no mirrors


def _matched(lungs: list[np.ndarray]) -> list[np.ndarray]:
    """Linear windows of the lung frames, each with the grey levels of a random usgra-seg
    training image (fixed seed)."""
    train = [p for i, p in enumerate(folder_pictures(DATA, "train")) if i % 2 == 0]
    rng = np.random.default_rng(0)
    return [
        match_grey_levels(linear_window(f), train[int(rng.integers(len(train)))]) for f in lungs
    ]


def _fractions(ref, feats: dict, part: str) -> dict[str, float]:
    """Share judged in-distribution per set, by the whole score or one part of it."""
    out = {}
    for k, (stats, deep) in feats.items():
        ok = []
        for i, f in enumerate(stats):
            d = deep[i] if deep is not None else None
            if part == "statistics":
                s = ref.score(f, None) <= ref.threshold
            elif part == "features":
                s = float(ref.deep.distances(d)[0]) <= ref.deep.threshold
            else:
                s = ref.in_distribution(ref.score(f, d))
            ok.append(s)
        out[k] = float(np.mean(ok))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=300, help="held-out phantom frames")
    ap.add_argument("--calib-frames", type=int, default=1200)
    ap.add_argument("--every", type=int, default=10, help="every Nth frame of a lung clip")
    ap.add_argument("--per-clip", type=int, default=15, help="at most this many per clip")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--models", default="fast-lite,nerve-vessel", help="comma list")
    ap.add_argument("--cards-from", type=Path, default=None, help="only update the cards")
    args = ap.parse_args()
    if args.cards_from:
        update_cards(json.loads(args.cards_from.read_text()))
        return
    foreign_common = {
        "natural-like pictures": natural_like(30),
        "black / menu-only screens": scanner_screens(30),
    }
    lungs = pocus_frames(SHARED, args.every, args.per_clip)
    results: dict = {}
    if args.json and args.json.is_file():  # a run on some models keeps the others' figures
        results = json.loads(args.json.read_text())
    for name in args.models.split(","):
        seg = make_segmenter(name, device="cpu", backend="torch")
        ref = seg.reference
        if name == "nerve-vessel":
            calib = deep_features_of(seg, folder_pictures(DATA, "train"))[0]
            sets = {
                "own held-out (usgra-seg val)": usgra("val"),
                "near-foreign: real lung, linear window": [linear_window(f) for f in lungs],
                "near-foreign, grey levels matched to training images": _matched(lungs),
                "phantom FAST frames": list(phantom_pictures(9000, 100)),
            }
        else:
            calib = deep_features_of(seg, phantom_pictures(0, args.calib_frames))[0]
            sets = {
                f"own held-out (phantom seed 9000, {args.frames})": list(
                    phantom_pictures(9000, args.frames)
                ),
                "near-foreign: real lung recordings": lungs,
                "real usgra-seg (linear probe)": usgra("all"),
            }
        sets.update(foreign_common)
        feats = {k: deep_features_of(seg, v) for k, v in sets.items()}
        rows: dict = {"reference (features + statistics, shipped)": _fractions(ref, feats, "")}
        rows["statistics part alone"] = _fractions(ref, feats, "statistics")
        if ref.deep is not None:
            rows["feature part alone"] = _fractions(ref, feats, "features")
        idx = [feature_names(seg.card.num_classes).index("max_prob")]
        r = fit_reference(
            calib[:, idx], model=name, num_classes=0, weights_sha256="", names=["max_prob"]
        )
        rows["max-softmax alone"] = {
            k: float(np.mean([r.in_distribution(r.score(f[idx])) for f in st]))
            for k, (st, _d) in feats.items()
        }
        results[name] = {
            "sets": {k: len(v) for k, v in sets.items()},
            "in_distribution": rows,
            "score": ref.kind,
        }
        print(f"\n{name} (fraction judged in-distribution)")
        heads = list(sets)
        print("| score | " + " | ".join(heads) + " |")
        print("|---" * (len(heads) + 1) + "|")
        for g, vals in rows.items():
            print(f"| {g} | " + " | ".join(f"{vals[h]:.3f}" for h in heads) + " |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n")


COMMAND = "OMP_NUM_THREADS=1 python bench/bench_ood.py --json docs/bench/ood.json"


def update_cards(results: dict) -> None:
    """The shipped statistics' row, into each model card's ``accuracy``."""
    from sonolive.models.card import ModelCard
    from sonolive.models.registry import find_model

    for name, res in results.items():
        folder = find_model(name)
        card = ModelCard.load(folder)
        rows = res["in_distribution"]
        key = next(k for k in rows if k.startswith("reference"))
        row = {
            "fraction_judged_in_distribution": {k: round(v, 3) for k, v in rows[key].items()},
            "frames": res["sets"],
            "score": res.get("score", "statistics"),
            "command": COMMAND,
        }
        card = dataclasses.replace(card, accuracy={**card.accuracy, "in_distribution": row})
        card.save(folder / "model.json")
        print(f"{name}: card updated")


if __name__ == "__main__":
    main()
