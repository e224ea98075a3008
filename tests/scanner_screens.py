"""Synthetic 1920x1080 scanner screens for the ROI tests: a uniform background, menus,
burned-in patient text and a depth scale around a live image of moving speckle.

The image is Rayleigh speckle times a smooth tissue map that drifts frame by frame (probe
motion), darker with depth, with two dark anechoic blobs; it fills a rectangle (linear
probe) or a convex fan. ``boxes`` are the burned-in text boxes no ROI may overlap.
"""

from __future__ import annotations

import cv2
import numpy as np

W, H = 1920, 1080
FONT = cv2.FONT_HERSHEY_SIMPLEX
BACKGROUND = (26, 20, 18)  # RGB; the scanner's uniform screen colour


def overlaps(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def coverage(roi, truth) -> float:
    """Share of the true image area ``truth`` that ``roi`` covers."""
    ix = max(0, min(roi[0] + roi[2], truth[0] + truth[2]) - max(roi[0], truth[0]))
    iy = max(0, min(roi[1] + roi[3], truth[1] + truth[3]) - max(roi[1], truth[1]))
    return ix * iy / float(truth[2] * truth[3])


def _text(img, txt, org, scale, boxes=None, color=(220, 220, 220)):
    (tw, th), base = cv2.getTextSize(txt, FONT, scale, 2)
    cv2.putText(img, txt, org, FONT, scale, color, 2, cv2.LINE_AA)
    if boxes is not None:
        boxes.append((org[0] - 2, org[1] - th - 2, tw + 4, th + base + 4))


def image_mask(kind: str, rect) -> np.ndarray:
    """The live-image area: a rectangle, or a convex fan whose bounding box is ``rect``."""
    x, y, w, h = rect
    m = np.zeros((H, W), bool)
    if kind == "linear":
        m[y : y + h, x : x + w] = True
        return m
    half = np.deg2rad(34)
    r1 = min(w / (2 * np.sin(half)), h / (1 - 0.25 * np.cos(half)))
    r0 = 0.25 * r1
    cx, ay = x + w / 2, y - r0 * np.cos(half)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r = np.hypot(xx - cx, yy - ay)
    ang = np.arctan2(xx - cx, yy - ay)
    return (r >= r0) & (r <= r1) & (np.abs(ang) <= half) & (yy >= y)


class ScannerScreen:
    """One screen layout; :meth:`frame` renders frame ``i`` of it (RGB)."""

    def __init__(self, kind: str, rect, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.mask = image_mask(kind, rect)
        ys, xs = np.nonzero(self.mask)
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        self.truth = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
        self.box = (x0, y0, x1, y1)
        m = self.mask[y0:y1, x0:x1]
        self.inside = m
        h, w = m.shape
        self.depth = np.linspace(1.0, 0.3, h, dtype=np.float32)[:, None]
        blobs = np.ones((h, w), np.float32)
        cv2.ellipse(blobs, (int(0.35 * w), int(0.45 * h)), (60, 40), 0, 0, 360, 0.05, -1)
        cv2.ellipse(blobs, (int(0.65 * w), int(0.75 * h)), (50, 70), 0, 0, 360, 0.05, -1)
        self.blobs = blobs
        # a smooth tissue map, larger than the image so that it can drift (probe motion)
        t = self.rng.random((h // 16 + 8, w // 16 + 8)).astype(np.float32)
        self.tissue = cv2.resize(t, ((w // 16 + 8) * 16, (h // 16 + 8) * 16)) * 0.8 + 0.4
        base = np.full((H, W, 3), BACKGROUND, np.uint8)
        self.boxes: list = []
        for i in range(8):
            cv2.rectangle(base, (20, 150 + 90 * i), (230, 220 + 90 * i), (80, 64, 60), -1)
            _text(base, f"MENU {i}", (40, 195 + 90 * i), 0.7)
            cv2.rectangle(base, (W - 230, 150 + 90 * i), (W - 20, 220 + 90 * i), (80, 64, 60), -1)
            _text(
                base,
                ["GAIN", "DEPTH", "FOCUS", "FREQ", "DR", "MAP", "ZOOM", "FRZ"][i],
                (W - 210, 195 + 90 * i),
                0.7,
            )
        _text(base, "DOE^JANE", (400, 45), 0.9, self.boxes)
        _text(base, "ID 0012345678", (400, 85), 0.9, self.boxes)
        _text(base, "2024-05-01 12:34", (800, 45), 0.9, self.boxes)
        _text(base, "ABD  C5-1  MI 0.9 TIs 0.4", (800, 85), 0.7, self.boxes)
        sx = min(x1 + 25, W - 300)
        for d in range(0, y1 - y0, 60):
            cv2.line(base, (sx, y0 + d), (sx + 15, y0 + d), (200, 200, 200), 2)
            _text(base, str(d // 60), (sx + 22, y0 + d + 8), 0.6, self.boxes)
        cv2.line(base, (sx, y0), (sx, y1), (200, 200, 200), 2)
        self.base = base

    def frame(self, i: int, filled: float = 1.0) -> np.ndarray:
        """Frame ``i``; only the top ``filled`` share of the image rows carries echoes (the
        rest is image black: poor probe contact)."""
        x0, y0, x1, y1 = self.box
        h, w = self.inside.shape
        dx, dy = int(8 * np.sin(i / 7.0)) + 64, int(6 * np.cos(i / 9.0)) + 64
        tissue = self.tissue[dy : dy + h, dx : dx + w]
        speckle = self.rng.rayleigh(60.0, size=(h, w)).astype(np.float32)
        img = speckle * tissue * self.depth * self.blobs
        img[int(filled * h) :] = 2.0
        grey = np.clip(img, 0, 255).astype(np.uint8)
        f = self.base.copy()
        view = f[y0:y1, x0:x1]
        view[self.inside] = grey[self.inside][:, None]
        # a clock ticking once a second, a 10 Hz stopwatch and a blinking cursor
        _text(f, f"12:34:{(i // 30) % 60:02d}", (1500, 45), 0.9)
        _text(f, f"T {i // 3 / 10:4.1f}s", (1500, 85), 0.7)
        if (i // 4) % 2 == 0:
            cv2.rectangle(f, (300, 1000), (316, 1030), (255, 255, 255), -1)
        return f

    def clock_boxes(self) -> list:
        boxes: list = []
        scratch = np.zeros((H, W, 3), np.uint8)
        _text(scratch, "12:34:00", (1500, 45), 0.9, boxes)
        _text(scratch, "T  0.0s", (1500, 85), 0.7, boxes)
        return boxes
