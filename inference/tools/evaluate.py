"""``sonolive eval``: per-class Dice and IoU on held-out data, as the model card reports them.

Each frame gives a Dice and an IoU per class (skipped when the class is in neither the truth
nor the prediction; a false detection counts as 0). The table shows the mean over frames
with a 95% confidence interval; ``n`` is the number of frames behind each figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import cv2
import numpy as np

from ...models.metrics import dice_per_class, iou_per_class, mean_ci95
from ..gate.ood import fraction_in_distribution
from ..segmenter import Segmenter


def evaluate(
    seg: Segmenter,
    samples: Iterable[tuple[np.ndarray, np.ndarray]],
    cam=None,
) -> dict[str, Any]:
    """``samples`` yields (grey or RGB uint8 image, class-index mask) pairs."""
    names = seg.card.class_names
    n = len(names)
    dices: list[np.ndarray] = []
    ious: list[np.ndarray] = []
    hits: dict[str, list[float]] = {c: [] for c in names[1:]}
    energy: dict[str, list[float]] = {c: [] for c in names[1:]}  # heat inside the mask
    share: dict[str, list[float]] = {c: [] for c in names[1:]}  # the mask's share of the frame
    frames = 0
    familiar: list[bool | None] = []  # the training-data check, frame by frame
    for img, mask in samples:
        rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB) if img.ndim == 2 else img
        s = seg.segment_pixels(rgb)
        pred = s.labels
        familiar.append(s.in_distribution)
        dices.append(dice_per_class(pred, mask, n))
        ious.append(iou_per_class(pred, mask, n))
        if cam is not None:
            for cls_idx in np.unique(mask):
                if cls_idx == 0 or cls_idx >= n:
                    continue
                heat = cam.compute(rgb, int(cls_idx))
                if heat is None:
                    continue
                y, x = np.unravel_index(int(np.argmax(heat)), heat.shape)
                hits[names[cls_idx]].append(1.0 if mask[y, x] == cls_idx else 0.0)
                total = float(heat.sum())
                inside = float(heat[mask == cls_idx].sum())
                energy[names[cls_idx]].append(inside / total if total > 0 else 0.0)
                share[names[cls_idx]].append(float(np.mean(mask == cls_idx)))
        frames += 1
    out: dict[str, Any] = {
        "model": seg.card.name,
        "version": seg.card.version,
        "frames": frames,
        "per_class": _per_class(names, dices, ious),
        "in_distribution_fraction": fraction_in_distribution(familiar),
    }
    if cam is not None:
        out["pointing_game"] = _means(hits)
        out["pointing_game_n"] = {k: len(v) for k, v in hits.items()}
        # the share of the heatmap's energy inside the true mask (fairer than the peak for
        # thin structures), beside the share of the frame the mask covers (what a flat map
        # would score)
        out["cam_energy_inside"] = _means(energy)
        out["cam_mask_share"] = _means(share)
        out["cam"] = {"method": cam.method, "layer": cam.layer}
    return out


def _per_class(
    names: list[str], dices: list[np.ndarray], ious: list[np.ndarray] | None = None
) -> dict[str, dict[str, Any]]:
    """Mean Dice (and IoU) per foreground class over frames, its 95% interval and the number
    of frames behind it."""
    D = np.array(dices) if dices else np.zeros((0, len(names)))
    J = np.array(ious) if ious else None
    out = {}
    for c in range(1, len(names)):
        m, lo, hi = mean_ci95(D[:, c]) if len(D) else (float("nan"),) * 3
        row: dict[str, Any] = {"dice": _r(m), "dice_ci95": [_r(lo), _r(hi)]}
        if ious is not None:
            row["iou"] = _r(mean_ci95(J[:, c])[0]) if J is not None else None
        row["n"] = int(np.sum(~np.isnan(D[:, c]))) if len(D) else 0
        out[names[c]] = row
    return out


def _means(values: dict[str, list[float]]) -> dict[str, float | None]:
    return {k: (_r(float(np.mean(v))) if v else None) for k, v in values.items()}


def _r(x: float) -> float | None:
    return None if x != x else round(float(x), 4)  # NaN -> None (JSON has no NaN)


def format_table(res: dict[str, Any]) -> str:
    lines = [
        f"{res['model']} {res['version']}: {res['frames']} frames",
        f"{'class':<14}{'Dice':>8}{'95% CI':>18}{'IoU':>8}{'n':>7}",
    ]
    pg = res.get("pointing_game", {})
    en = res.get("cam_energy_inside", {})
    if pg:
        lines[1] += f"{'CAM pointing':>14}{'CAM energy in':>15}"
    for name, r in res["per_class"].items():
        ci = r["dice_ci95"]
        dice = "-" if r["dice"] is None else f"{r['dice']:.3f}"
        iou = "-" if r["iou"] is None else f"{r['iou']:.3f}"
        ci_s = "-" if ci[0] is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"
        line = f"{name:<14}{dice:>8}{ci_s:>18}{iou:>8}{r['n']:>7}"
        if pg:
            v = pg.get(name)
            e = en.get(name)
            line += f"{('-' if v is None else f'{v:.3f}'):>14}"
            line += f"{('-' if e is None else f'{e:.3f}'):>15}"
        lines.append(line)
    f = res.get("in_distribution_fraction")
    lines.append(
        "judged like the training data: "
        + ("not checked (no reference statistics)" if f is None else f"{f:.3f} of frames")
    )
    return "\n".join(lines)


def evaluate_clip(
    seg: Segmenter,
    samples: Iterable[tuple[np.ndarray, np.ndarray, str]],
    smoother=None,
    presence_class: str = "fluid",
) -> dict[str, Any]:
    """A clip, frame after frame: Dice per class, the flicker ratio per class and presence
    sensitivity/specificity (overall and per view) for ``presence_class``.

    ``samples`` yields (image, class mask, view) in clip order; ``smoother`` is the live
    pipeline's :class:`~.temporal.TemporalFilter` (None: the raw output)."""
    from ..temporal import FlickerMeter, PresenceMeter, present

    names = seg.card.class_names
    n = len(names)
    pc = names.index(presence_class) if presence_class in names else None
    flicker = FlickerMeter(names)
    presence = PresenceMeter()
    dices: list[np.ndarray] = []
    for img, mask, view in samples:
        rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB) if img.ndim == 2 else img
        pred = seg.segment_pixels(rgb, smoother=smoother).labels
        dices.append(dice_per_class(pred, mask, n))
        flicker.add(pred, mask)
        if pc is not None:
            total = mask.size
            presence.add(
                present(int(np.count_nonzero(pred == pc)), total),
                present(int(np.count_nonzero(mask == pc)), total),
                view,
            )
    out: dict[str, Any] = {
        "model": seg.card.name,
        "version": seg.card.version,
        "frames": len(dices),
        "temporal_filter": smoother is not None,
        "per_class": _per_class(names, dices),
        "flicker": flicker.result(),
    }
    if pc is not None:
        out["presence"] = {"class": presence_class, **presence.result()}
    return out


def format_clip_table(res: dict[str, Any]) -> str:
    filt = "on" if res["temporal_filter"] else "off"
    lines = [
        f"{res['model']} {res['version']}: {res['frames']} clip frames, temporal filter {filt}",
        f"{'class':<14}{'Dice':>8}{'flicker':>10}{'n':>7}",
    ]
    for name, r in res["per_class"].items():
        d = "-" if r["dice"] is None else f"{r['dice']:.3f}"
        f = res["flicker"][name]["flicker_ratio"]
        lines.append(f"{name:<14}{d:>8}{('-' if f is None else f'{f:.3f}'):>10}{r['n']:>7}")
    p = res.get("presence")
    if p:

        def fmt(v: float | None) -> str:
            return "-" if v is None else f"{v:.3f}"

        o = p["overall"]
        lines.append(
            f"{p['class']} presence: sensitivity {fmt(o['sensitivity'])}"
            f" ({o['positive_frames']} frames), specificity {fmt(o['specificity'])}"
            f" ({o['negative_frames']} frames)"
        )
        for v, r in p["per_view"].items():
            lines.append(
                f"  {v:<12} sensitivity {fmt(r['sensitivity'])}"
                f"  specificity {fmt(r['specificity'])}"
            )
    return "\n".join(lines)
