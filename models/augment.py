"""Ultrasound-appropriate augmentation on grey images and their masks (NumPy/OpenCV).

Gain and time-gain compensation change brightness with depth, as knobs on a scanner do;
multiplicative speckle mimics a different transducer; a depth crop mimics a shallower depth
setting; a small rotation about the probe mimics a tilt. Left-right flips are off for the
FAST views (organ sides are anatomy) and may be switched on for symmetric anatomy.
"""

from __future__ import annotations

import cv2
import numpy as np


def augment(
    img: np.ndarray, mask: np.ndarray, rng: np.random.Generator, flip: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    h, w = img.shape
    x = img.astype(np.float32)
    # gain (overall) and TGC (a linear ramp over depth)
    gain = rng.uniform(0.7, 1.35)
    tgc = np.linspace(1.0, rng.uniform(0.7, 1.3), h, dtype=np.float32)[:, None]
    x *= gain * tgc
    # multiplicative speckle (Rayleigh-like) plus a little additive noise
    if rng.random() < 0.7:
        sp = rng.rayleigh(1.0, size=(h // 2 + 1, w // 2 + 1)).astype(np.float32)
        sp = cv2.resize(sp, (w, h), interpolation=cv2.INTER_LINEAR)
        mix = rng.uniform(0.0, 0.35)
        x *= (1 - mix) + mix * sp / 1.25
    x += rng.normal(0, rng.uniform(0, 6), size=x.shape).astype(np.float32)
    m = mask
    # depth crop: keep the top part of the picture, scaled back up
    if rng.random() < 0.3:
        keep = int(h * rng.uniform(0.75, 1.0))
        x = cv2.resize(x[:keep], (w, h), interpolation=cv2.INTER_LINEAR)
        m = cv2.resize(m[:keep], (w, h), interpolation=cv2.INTER_NEAREST)
    # rotation about the top centre (the probe)
    if rng.random() < 0.5:
        M = cv2.getRotationMatrix2D((w / 2, 0), rng.uniform(-12, 12), rng.uniform(0.9, 1.1))
        x = cv2.warpAffine(x, M, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
        m = cv2.warpAffine(m, M, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    if flip and rng.random() < 0.5:
        x, m = x[:, ::-1], m[:, ::-1]
    return np.clip(x, 0, 255).astype(np.uint8), np.ascontiguousarray(m)
