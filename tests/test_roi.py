"""Sector / ROI detection on synthetic 1080p scanner screens."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sonolive.capture.frame import Frame
from sonolive.capture.roi import TEXTURE, RoiDetector, crop, detect_roi
from sonolive.capture.roi_follow import RoiFollower

W, H = 1920, 1080
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / float(aw * ah + bw * bh - inter)


def _overlaps(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _text(img, txt, org, scale=0.8, color=(220, 220, 220), boxes=None, thick=2):
    (tw, th), base = cv2.getTextSize(txt, FONT, scale, thick)
    cv2.putText(img, txt, org, FONT, scale, color, thick, cv2.LINE_AA)
    if boxes is not None:
        boxes.append((org[0] - 2, org[1] - th - 2, tw + 4, th + base + 4))


def _image_mask(kind: str, x: int, y: int, w: int, h: int) -> np.ndarray:
    """The live-image area: a convex fan whose bounding box is (x, y, w, h), or a rectangle."""
    m = np.zeros((H, W), np.uint8)
    if kind == "linear":
        m[y : y + h, x : x + w] = 1
        return m
    # convex probe fan: apex above the image, inner radius r0 (the probe face), outer r1
    half = np.deg2rad(34)
    r1 = min(w / (2 * np.sin(half)), h / (1 - 0.25 * np.cos(half)))
    r0 = 0.25 * r1
    cx, ay = x + w / 2, y - r0 * np.cos(half)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r = np.hypot(xx - cx, yy - ay)
    ang = np.arctan2(xx - cx, yy - ay)
    m[(r >= r0) & (r <= r1) & (np.abs(ang) <= half) & (yy >= y)] = 1
    return m


def scanner_frames(kind: str, rect, n: int = 30, seed: int = 0):
    """``n`` frames of a scanner screen; returns (frames, true bbox, burned-in text boxes)."""
    rng = np.random.default_rng(seed)
    x, y, w, h = rect
    mask = _image_mask(kind, x, y, w, h)
    ys, xs = np.nonzero(mask)
    bx0, by0, bx1, by1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    truth = (int(bx0), int(by0), int(bx1 - bx0), int(by1 - by0))
    m = mask[by0:by1, bx0:bx1].astype(np.float32)
    depth = np.linspace(1.0, 0.45, by1 - by0, dtype=np.float32)[:, None]
    gain = m * depth
    # two anechoic (dark, still) blobs inside the image: fluid
    blobs = np.ones_like(gain)
    cv2.ellipse(
        blobs, (int(0.35 * (bx1 - bx0)), int(0.5 * (by1 - by0))), (60, 40), 0, 0, 360, 0.05, -1
    )
    cv2.ellipse(
        blobs, (int(0.65 * (bx1 - bx0)), int(0.75 * (by1 - by0))), (50, 70), 0, 0, 360, 0.05, -1
    )
    gain *= blobs

    base = np.full((H, W, 3), (18, 20, 26), np.uint8)
    boxes: list = []
    # menus left and right
    for i in range(8):
        cv2.rectangle(base, (20, 150 + 90 * i), (230, 220 + 90 * i), (60, 64, 80), -1)
        _text(base, f"MENU {i}", (40, 195 + 90 * i), 0.7)
        cv2.rectangle(base, (W - 230, 150 + 90 * i), (W - 20, 220 + 90 * i), (60, 64, 80), -1)
        _text(
            base,
            ["GAIN", "DEPTH", "FOCUS", "FREQ", "DR", "MAP", "ZOOM", "FRZ"][i],
            (W - 210, 195 + 90 * i),
            0.7,
        )
    # logo
    cv2.circle(base, (70, 60), 35, (40, 120, 220), -1)
    _text(base, "SONOX", (120, 75), 1.2, (40, 120, 220))
    # burned-in patient text (must stay outside the ROI)
    _text(base, "DOE^JANE", (400, 45), 0.9, boxes=boxes)
    _text(base, "ID 0012345678", (400, 85), 0.9, boxes=boxes)
    _text(base, "2024-05-01", (800, 45), 0.9, boxes=boxes)
    _text(base, "ABD  C5-1  MI 0.9 TIs 0.4", (800, 85), 0.7, boxes=boxes)
    # depth scale beside the image
    sx = min(bx1 + 25, W - 300)
    for d in range(0, by1 - by0, 60):
        cv2.line(base, (sx, by0 + d), (sx + 15, by0 + d), (200, 200, 200), 2)
        _text(base, str(d // 60), (sx + 22, by0 + d + 8), 0.6, boxes=boxes)
    cv2.line(base, (sx, by0), (sx, by1), (200, 200, 200), 2)

    frames = []
    for i in range(n):
        f = base.copy()
        speckle = rng.rayleigh(70.0, size=gain.shape).astype(np.float32)
        region = np.clip(speckle * gain, 0, 255).astype(np.uint8)
        roi_view = f[by0:by1, bx0:bx1]
        inside = m > 0
        for c in range(3):
            ch = roi_view[..., c]
            ch[inside] = region[inside]
        # a clock that ticks once a second, a 10 Hz stopwatch and a blinking cursor
        _text(f, f"12:34:{(i // 30) % 60:02d}", (1500, 45), 0.9, boxes=boxes if i == 0 else None)
        _text(f, f"T {i // 3 / 10:4.1f}s", (1500, 85), 0.7, boxes=boxes if i == 0 else None)
        if (i // 4) % 2 == 0:
            cv2.rectangle(f, (300, 1000), (316, 1030), (255, 255, 255), -1)
        frames.append(np.ascontiguousarray(f[..., ::-1]))  # RGB
    return frames, truth, boxes


CASES = [
    ("sector", (660, 180, 700, 620)),
    ("sector", (420, 220, 900, 780)),
    ("sector", (1000, 160, 520, 480)),
    ("linear", (700, 200, 560, 700)),
    ("linear", (350, 150, 1000, 820)),
    ("linear", (900, 300, 420, 420)),
]


@pytest.mark.parametrize("kind,rect", CASES)
def test_detects_image_region_and_excludes_burned_in_text(kind, rect):
    frames, truth, boxes = scanner_frames(kind, rect, seed=hash(rect) % 1000)
    roi = detect_roi(frames)
    assert _iou(roi, truth) >= 0.9, (roi, truth)
    for b in boxes:
        assert not _overlaps(roi, b), (roi, b)


def test_follower_follows_a_layout_change():
    fol = RoiFollower(fps=30)
    assert fol.update(np.zeros((H, W, 3), np.uint8)) is None
    fol = RoiFollower(fps=30)
    a, ta, _ = scanner_frames("sector", (660, 180, 700, 620), n=45, seed=1)
    for f in a:
        fol.update(f)
    assert _iou(fol.region, ta) >= 0.9
    b, tb, _ = scanner_frames("linear", (1000, 300, 400, 500), n=60, seed=2)
    for f in b:
        fol.update(f)
    assert _iou(fol.region, tb) >= 0.9


def test_a_frozen_picture_is_found_by_its_speckle_and_marked_uncertain():
    frames, truth, boxes = scanner_frames("linear", (700, 200, 560, 700), n=2)
    still = [frames[0]] * 10
    det = RoiDetector()
    for f in still:
        det.update(f)
    roi = det.roi()
    assert roi is not None and det.basis == TEXTURE  # nothing moved: found, but uncertain
    assert _iou(roi, truth) >= 0.9, (roi, truth)
    for b in boxes:
        assert not _overlaps(roi, b), (roi, b)


def test_a_still_screen_without_a_picture_has_no_roi():
    frames, _, _ = scanner_frames("linear", (700, 200, 560, 700), n=1)
    menu = frames[0].copy()
    menu[200:900, 700:1260] = (18, 20, 26)  # no picture: chrome only
    det = RoiDetector()
    for _ in range(10):
        det.update(menu)
    assert det.roi() is None and det.basis is None
    assert detect_roi([menu] * 10) == (0, 0, W, H)


def test_crop_keeps_source_coordinates():
    pix = np.zeros((100, 200, 3), np.uint8)
    pix[30:40, 50:70] = 255
    truth = np.zeros((100, 200), np.uint8)
    truth[30:40, 50:70] = 2
    f = Frame(pixels=pix, timestamp=1.0, index=3, truth=truth)
    c = crop(f, (50, 30, 20, 10))
    assert c.pixels.shape == (10, 20, 3) and c.pixels.min() == 255
    assert c.roi == (50, 30, 20, 10) and c.truth is not None and c.truth.min() == 2
    assert c.index == 3
    # cropping again composes offsets into source coordinates, and clips to the frame
    c2 = crop(c, (5, 2, 100, 100))
    assert c2.roi == (55, 32, 15, 8) and c2.pixels.shape == (8, 15, 3)
    with pytest.raises(ValueError):
        crop(f, (500, 500, 10, 10))
