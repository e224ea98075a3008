"""Ultrasound-appropriate augmentation on grey images and their masks (NumPy/OpenCV).

Gain and time-gain compensation change brightness with depth, as knobs on a scanner do;
multiplicative speckle mimics a different transducer; a depth crop mimics a shallower depth
setting; a small rotation about the probe mimics a tilt. Left-right flips are off for the
FAST views (organ sides are anatomy) and may be switched on for symmetric anatomy.

``strong=True`` (``sonolive train --aug strong``) adds, on top of those: a blur (a softer
focus or a lower-frequency probe), acoustic shadows (dark vertical bands below a random
depth, as under bone or gas), motion blur along a random direction (probe moving during
the frame), contrast and gamma changes (dynamic range and grey map settings), and an
elastic warp with a scale change (tissue compressed under the probe, another zoom).
"""

from __future__ import annotations

import cv2
import numpy as np


def augment(
    img: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    flip: bool = False,
    strong: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    h, w = img.shape
    x: np.ndarray = img.astype(np.float32)
    # gain (overall) and TGC (a linear ramp over depth)
    gain = rng.uniform(0.7, 1.35)
    tgc = np.linspace(1.0, rng.uniform(0.7, 1.3), h, dtype=np.float32)[:, None]
    x *= gain * tgc
    # multiplicative speckle (Rayleigh-like) plus a little additive noise
    if rng.random() < 0.7:
        sp: np.ndarray = rng.rayleigh(1.0, size=(h // 2 + 1, w // 2 + 1)).astype(np.float32)
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
    if strong:
        x, m = _strong(np.ascontiguousarray(x), np.ascontiguousarray(m), rng)
    return np.clip(x, 0, 255).astype(np.uint8), np.ascontiguousarray(m)


def _strong(
    x: np.ndarray, m: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The extra ``--aug strong`` transforms on a float picture (0-255) and its mask."""
    h, w = x.shape
    # elastic warp and scale (geometry first, so the picture and mask move together)
    if rng.random() < 0.4:
        s = rng.uniform(0.85, 1.2)
        alpha = rng.uniform(0.0, 0.03) * w  # displacement, pixels
        gh, gw = 5, 5
        dx = cv2.resize(rng.normal(0, 1, (gh, gw)).astype(np.float32), (w, h))
        dy = cv2.resize(rng.normal(0, 1, (gh, gw)).astype(np.float32), (w, h))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cx, cy = w / 2, h / 2
        mapx = (xx - cx) / s + cx + alpha * dx
        mapy = (yy - cy) / s + cy + alpha * dy
        x = cv2.remap(x, mapx, mapy, cv2.INTER_LINEAR, borderValue=0)
        m = cv2.remap(m, mapx, mapy, cv2.INTER_NEAREST, borderValue=0)
    # contrast about the mean, then gamma
    if rng.random() < 0.5:
        mu = float(x.mean())
        x = (x - mu) * rng.uniform(0.7, 1.4) + mu
    if rng.random() < 0.5:
        x = 255.0 * (np.clip(x, 0, 255) / 255.0) ** rng.uniform(0.65, 1.5)
    # acoustic shadow: a dark band from a random depth down, soft edges
    if rng.random() < 0.3:
        bw = int(w * rng.uniform(0.05, 0.25))
        x0 = int(rng.integers(0, max(1, w - bw)))
        y0 = int(h * rng.uniform(0.2, 0.8))
        band: np.ndarray = np.ones((h, w), np.float32)
        band[y0:, x0 : x0 + bw] = rng.uniform(0.15, 0.6)
        band = cv2.GaussianBlur(band, (0, 0), max(1.0, bw / 6))
        x = x * band
    # blur, or motion blur along a random direction
    r = rng.random()
    if r < 0.25:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.5, 1.6))
    elif r < 0.45:
        k = int(rng.integers(3, 8))
        ker: np.ndarray = np.zeros((k, k), np.float32)
        ker[k // 2, :] = 1.0 / k
        rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), rng.uniform(0, 180), 1.0)
        ker = cv2.warpAffine(ker, rot, (k, k))
        ker = np.asarray(ker / max(float(ker.sum()), 1e-6), np.float32)
        x = cv2.filter2D(x, -1, ker)
    return x, m
