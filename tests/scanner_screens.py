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
        self.draw_clock(f, i)
        return f

    @staticmethod
    def draw_clock(f: np.ndarray, i: int) -> None:
        """A clock ticking once a second, a 10 Hz stopwatch and a blinking cursor."""
        _text(f, f"12:34:{(i // 30) % 60:02d}", (1500, 45), 0.9)
        _text(f, f"T {i // 3 / 10:4.1f}s", (1500, 85), 0.7)
        if (i // 4) % 2 == 0:
            cv2.rectangle(f, (300, 1000), (316, 1030), (255, 255, 255), -1)

    def clock_boxes(self) -> list:
        boxes: list = []
        scratch = np.zeros((H, W, 3), np.uint8)
        _text(scratch, "12:34:00", (1500, 45), 0.9, boxes)
        _text(scratch, "T  0.0s", (1500, 85), 0.7, boxes)
        return boxes


class RealScreen:
    """A 1920x1080 scanner screen around a real recording (issue 26).

    ``clip``: the recording's RGB frames (a picture on black) at ``content_fps``, shown at
    ``display_hz`` (frames repeated, as a capture card sees a 15 or 25 fps picture at 30
    or 60 Hz). ``lines``: the picture's height on screen; ``depth``: ``(frame, lines)`` to
    switch to another height (a depth change) at that display frame; ``freeze``: display
    frames ``(start, stop)`` that hold one picture. Around it: menus, a *light* top bar with
    the patient's name right above the picture, a dark bottom bar with more text, and a side
    panel right beside the picture with a running clock and a frame counter.
    ``boxes``: every burned-in text box (screen pixels) of a frame; :meth:`truth` is the
    picture's area (bool mask) on a frame, :meth:`truth_box` its bounding box.
    """

    BAR = (168, 172, 176)  # the top bar: lighter than the background
    PANEL = (46, 50, 58)

    def __init__(
        self,
        clip: list[np.ndarray],
        picture: np.ndarray,
        *,
        content_fps: float = 25.0,
        display_hz: float = 30.0,
        lines: int = 760,
        depth: tuple[int, int] | None = None,
        freeze: tuple[int, int] | None = None,
        background: tuple[int, int, int] = (0, 0, 0),
    ) -> None:
        self.clip, self.picture = clip, picture
        self.content_fps, self.display_hz = content_fps, display_hz
        self.lines, self.depth, self.freeze = lines, depth, freeze
        self.background = background
        self._ground: np.ndarray | None = None

    def _lines(self, i: int) -> int:
        return self.depth[1] if self.depth and i >= self.depth[0] else self.lines

    def _rect(self, i: int) -> tuple[int, int, int, int]:
        h0, w0 = self.clip[0].shape[:2]
        h = self._lines(i)
        w = round(w0 * h / h0)
        return (W - w) // 2 - 80, 150, w, h

    def _content(self, i: int) -> int:
        if self.freeze and self.freeze[0] <= i < self.freeze[1]:
            i = self.freeze[0]
        return int(i * self.content_fps / self.display_hz) % len(self.clip)

    def truth(self, i: int) -> np.ndarray:
        x, y, w, h = self._rect(i)
        m = np.zeros((H, W), bool)
        pic = cv2.resize(self.picture.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        m[y : y + h, x : x + w] = pic > 0
        return m

    def truth_box(self, i: int) -> tuple[int, int, int, int]:
        ys, xs = np.nonzero(self.truth(i))
        return (
            int(xs.min()),
            int(ys.min()),
            int(xs.max() - xs.min() + 1),
            int(ys.max() - ys.min() + 1),
        )

    def boxes(self, i: int) -> list:
        return self._draw(np.zeros((H, W, 3), np.uint8), i)

    def _draw(self, f: np.ndarray, i: int) -> list:
        """Draw the chrome of frame ``i`` on ``f``; returns the text boxes."""
        x, y, w, h = self._rect(i)
        boxes: list = []
        for k in range(7):  # menus at the left
            cv2.rectangle(f, (20, 160 + 100 * k), (250, 230 + 100 * k), (64, 70, 92), -1)
            _text(
                f,
                ["B", "M", "PW", "CF", "PRESET", "PROBE", "END"][k],
                (40, 205 + 100 * k),
                0.8,
                boxes,
            )
        # the light top bar, its lower edge 4 px above the picture
        cv2.rectangle(f, (0, y - 60), (W - 1, y - 5), self.BAR, -1)
        dark = (20, 20, 20)
        _text(f, "PATIENT: DOE^JANE", (max(0, x - 340), y - 22), 1.0, boxes, dark)
        _text(f, "ID 0012345678  DOB 1961-02-03", (x + 60, y - 22), 1.0, boxes, dark)
        _text(f, "St. Elsewhere ED", (1500, y - 22), 0.9, boxes, dark)
        # the side panel, 6 px right of the picture: a running clock and a frame counter
        px = x + w + 6
        cv2.rectangle(f, (px, y), (min(W - 1, px + 330), y + 420), self.PANEL, -1)
        t = i / self.display_hz
        _text(f, f"12:{34 + int(t) // 60:02d}:{int(t) % 60:02d}", (px + 12, y + 40), 1.0, boxes)
        _text(f, f"FRAME {i:05d}", (px + 12, y + 90), 0.9, boxes)
        _text(f, f"DEPTH {self._lines(i) / 50:.1f} cm", (px + 12, y + 140), 0.9, boxes)
        _text(f, "GAIN 54  DR 60", (px + 12, y + 190), 0.9, boxes)
        # the dark bottom bar, 8 px below the picture
        cv2.rectangle(f, (0, y + h + 8), (W - 1, min(H - 1, y + h + 70)), (30, 30, 30), -1)
        _text(f, "MRN 0012345678  DOE^JANE  F 63", (x, y + h + 50), 0.9, boxes)
        return boxes

    def frame(self, i: int) -> np.ndarray:
        """Display frame ``i`` (RGB)."""
        if self._ground is None:  # filling a 1080p frame with a colour is slow: once
            self._ground = np.full((H, W, 3), self.background, np.uint8)
        f = self._ground.copy()
        x, y, w, h = self._rect(i)
        pic = cv2.resize(self.clip[self._content(i)], (w, h), interpolation=cv2.INTER_LINEAR)
        f[y : y + h, x : x + w] = pic
        self._draw(f, i)
        return f


def text_pixels(roi, boxes) -> int:
    """Pixels of the text boxes inside the rectangle ``roi``."""
    rx, ry, rw, rh = roi
    n = 0
    for bx, by, bw, bh in boxes:
        n += max(0, min(rx + rw, bx + bw) - max(rx, bx)) * max(
            0, min(ry + rh, by + bh) - max(ry, by)
        )
    return n
