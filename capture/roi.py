"""Find the ultrasound picture (a fan or a rectangle) inside a scanner's video output.

A scanner's screen is mostly still chrome (menus, bars, a depth scale, burned-in patient
text, a clock or frame counter) around the picture. :class:`RoiDetector` finds the picture
by what it is (:mod:`.roi_map`), on a grey grid of about 320 samples across:

1. every frame updates, per sample, the running max and min of its *chunk* (half a second);
   the chunks of the window (``history`` frames) give the range of each sample over the
   whole window. One change anywhere in the window counts, so repeated frames (a 15 or 25
   fps picture shown at 30 or 60 Hz), frozen stretches and slow probe motion keep the
   picture; the faint noise of a dark deep region counts too;
2. the samples whose range exceeds ``noise`` are *live*; the picture is the convex hull of
   the large live parts (a fan or a rectangle is convex). A clock or a frame counter is a
   small changing blob, and still text does not change: both stay out;
3. when nothing large changed (a frozen screen), the picture is the large *speckle*-textured
   part instead (:attr:`RoiDetector.basis` is then ``"texture"``, an uncertain region);
4. the hull grows, sample by sample, into picture-like neighbours - changing a little, or
   neither background nor flat (a dim or still stretch of the picture), or image black on a
   screen that is not black - but never through a flat bar (light or dark) or a sharp edge
   (a text stroke, a bar's border); the region is the bounding box of what it reached;
5. when nothing outside the region is chrome (not background, flat around and by a sharp
   edge: a bar, a menu, text), the clip is already just the picture: the whole frame.

:meth:`RoiDetector.update` is a strided sample plus two element-wise operations on the grid
(tens of microseconds at 1080p); :meth:`RoiDetector.roi` runs once per chunk at most.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace

import cv2
import numpy as np

from .frame import Frame
from .roi_map import crisp, flat_share, keep_mask, picture, reach, speckle

Roi = tuple[int, int, int, int]
MOTION, TEXTURE = "motion", "texture"
_K3 = np.ones((3, 3), np.uint8)


def iou(a: Roi, b: Roi) -> float:
    """Intersection over union of two ``(x, y, w, h)`` rectangles."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / float(max(1, a[2] * a[3] + b[2] * b[3] - inter))


class RoiDetector:
    """Accumulates frames and reports the ROI ``(x, y, w, h)`` in full-frame pixels.

    ``history``: frames in the detection window; ``chunk``: frames per chunk (the follow
    check's unit); ``step``: sub-sampling stride (``None`` picks about 320 samples across the
    long side); ``noise``: the range over the window (grey levels) that makes a sample live;
    ``min_area``: the smallest picture, as a share of the frame; ``background_tol``: grey
    levels from the background colour still counted as background. ``min_share`` is
    accepted for compatibility and unused.
    """

    def __init__(
        self,
        history: int = 90,
        step: int | None = None,
        noise: int = 4,
        min_share: float = 0.5,
        min_area: float = 0.02,
        *,
        chunk: int = 15,
        background_tol: int = 10,
    ) -> None:
        if history < 2:
            raise ValueError("history must be at least 2 frames")
        self.history = int(history)
        self.chunk = max(1, min(int(chunk), self.history - 1))
        self.step = step
        self.noise = int(noise)
        self.min_area = float(min_area)
        self.background_tol = int(background_tol)
        self.reset()

    def reset(self) -> None:
        self._shape: tuple[int, int] | None = None
        self._step = 1
        self._prev: np.ndarray | None = None
        self._recent: deque[np.ndarray] = deque(maxlen=3)
        self._last: np.ndarray = np.zeros((1, 1), np.uint8)
        self._hi: np.ndarray | None = None  # the open chunk's running max and min
        self._lo: np.ndarray | None = None
        self._n = 0  # frames in the open chunk
        keep = max(1, -(-(self.history - 1) // self.chunk))
        self._chunks: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=keep)
        self.chunks_done = 0
        self._pairs = 0
        self._cached: dict[int | None, Roi | None] = {}
        #: how the last region was found: ``"motion"``, ``"texture"`` (uncertain) or None
        self.basis: str | None = None

    @property
    def pairs(self) -> int:
        """Frame pairs currently in the window."""
        return min(self._pairs, self.history - 1)

    @property
    def shape(self) -> tuple[int, int] | None:
        """``(height, width)`` of the frames seen."""
        return self._shape

    @property
    def grid_step(self) -> int:
        """Full-frame pixels between two grid samples."""
        return self._step

    def _small(self, rgb: np.ndarray) -> np.ndarray:
        s = self._step
        if rgb.ndim == 2:
            return np.ascontiguousarray(rgb[::s, ::s])
        # green is a fine grey proxy for scanner output (grey image, coloured chrome) and,
        # unlike the brightest channel, free of the chroma noise of compressed recordings
        return np.ascontiguousarray(rgb[::s, ::s, 1])

    def update(self, rgb: np.ndarray) -> None:
        """Add one frame (``H x W x 3`` or ``H x W``, ``uint8``)."""
        shape = (int(rgb.shape[0]), int(rgb.shape[1]))
        if shape != self._shape:  # a new resolution starts over
            self.reset()
            self._shape = shape
            self._step = self.step or max(1, round(max(shape) / 320))
        small = self._small(rgb)
        self._recent.append(small)
        self._last = rgb  # a reference, for the chrome check (no copy)
        if self._hi is None or self._lo is None:
            start = small if self._prev is None else self._prev
            self._hi, self._lo = start.copy(), start.copy()
        np.maximum(self._hi, small, out=self._hi)
        np.minimum(self._lo, small, out=self._lo)
        if self._prev is not None:
            self._n += 1
            self._pairs += 1
            if self._n >= self.chunk:
                self._chunks.append((self._hi, self._lo))
                self._hi = self._lo = None
                self._n = 0
                self.chunks_done += 1
            self._cached = {}
        self._prev = small

    def _window(self, last: int | None) -> tuple[np.ndarray, np.ndarray] | None:
        chunks = list(self._chunks)
        if last is not None:
            chunks = chunks[-last:] if last > 0 else []
        if self._hi is not None and self._lo is not None and self._n >= min(4, self.chunk):
            chunks.append((self._hi, self._lo))
        if not chunks:
            return None
        hi = np.maximum.reduce([c[0] for c in chunks])
        lo = np.minimum.reduce([c[1] for c in chunks])
        return hi, lo

    def range(self, last: int | None = None) -> np.ndarray | None:
        """Per grid sample, max minus min over the last ``last`` chunks (``uint8``)."""
        w = self._window(last)
        return None if w is None else cv2.subtract(w[0], w[1])

    def moving(self, last: int | None = None) -> np.ndarray | None:
        """Live samples (bool, on the grid): changed by more than ``noise`` in the window."""
        r = self.range(last)
        if r is None:
            return None
        # flat samples are chrome even when they changed (a bar re-encoded at another
        # quality, a panel that moved); an opening drops lone flickering samples
        # (compression noise at chrome edges) and one-sample bridges to a blob beside the
        # picture; the hull restores a fan's tips
        cur = self._recent[-1]
        share = flat_share(cur)
        # nor is chrome's sharp edge on a flat ground (text, a border) that compression
        # made flicker: bright speckle has sharp edges too, but no flat ground around
        live = (r > self.noise) & (share < 0.8) & ~(crisp(cur) & (share >= 0.4))
        return cv2.morphologyEx(live.astype(np.uint8), cv2.MORPH_OPEN, _K3) > 0

    def _texture(self) -> np.ndarray:
        """Speckle in every recent frame (a still text line is in none of them)."""
        tex = speckle(self._recent[-1])
        if len(self._recent) > 1:
            tex &= speckle(self._recent[0])
        return tex

    def mask(self, last: int | None = None) -> np.ndarray | None:
        """The picture on the grid (``uint8`` 0/255, before growing), or ``None``; sets
        :attr:`basis`."""
        live = self.moving(last)
        if live is None:
            return None
        self.basis = None
        m = picture(live, self.min_area)
        if m is not None:
            self.basis = MOTION
        else:
            m = picture(self._texture(), self.min_area)
            if m is None:
                return None
            self.basis = TEXTURE
        return m * 255

    def keep(self, last: int | None = None) -> np.ndarray | None:
        """Where a frame of an uncertain screen keeps its pixels (grid, ``uint8`` 0/1): the
        large changing or speckled parts; still chrome, text and small blobs are blanked."""
        live = self.moving(last)
        if live is None:
            return None
        return keep_mask(live, self._texture(), self.min_area)

    def roi(self, last: int | None = None) -> Roi | None:
        """The ROI in full-frame pixels from the last ``last`` chunks (the whole window when
        ``None``), or ``None`` when no picture is found (a blank or menu screen)."""
        if last in self._cached:
            return self._cached[last]
        out = self._roi(last)
        self._cached[last] = out
        return out

    def _roi(self, last: int | None) -> Roi | None:
        m = self.mask(last)
        if m is None or self._shape is None:
            return None
        rng = self.range(last)
        assert rng is not None
        cur = self._recent[-1]
        fg = self._foreground()
        share = flat_share(cur)
        flat = share >= 0.5  # for chrome: a bar, a menu, text on a flat ground
        hi = self._window(last)[0]  # type: ignore[index]
        # image black on a screen that is not black: a dark or empty stretch of the picture
        dark = (hi <= 12) & (np.abs(hi.astype(np.int16) - self._background()) > self.background_tol)
        # picture-like: changing a little, or neither background nor flat (a dim or still
        # stretch of the picture), and no sharp edge near (a text stroke, a bar's border)
        # (a smooth dim stretch of the picture is fairly flat too: only the flattest stop it)
        like = ((((rng > max(2, self.noise // 2)) | fg) & (share < 0.65)) | dark) & ~crisp(cur)
        grown = reach(m > 0, like)
        x, y, w, h = cv2.boundingRect(grown.astype(np.uint8))
        gx0, gy0, gx1, gy1 = x, y, x + w, y + h
        gy1 = self._deeper(hi, gx0, gy0, gx1, gy1)
        H, W = self._shape
        # chrome: not the background, flat around or still, and by a sharp edge (a bar, a
        # menu, text, a clock); a fragment of the picture beyond the hull, or a dim smooth
        # stretch of it, is not chrome
        bright = self._brightest()  # coloured text (magenta on grey) is dark in green alone
        chrome = fg & (flat | (rng <= self.noise)) & (crisp(cur) | crisp(bright))
        chrome &= ~self._large_live(last)
        chrome[gy0:gy1, gx0:gx1] = False
        if int(chrome.sum()) < max(8, 0.0005 * chrome.size):
            return (0, 0, W, H)  # no chrome around it: the clip is already just the picture
        s = self._step
        # samples sit at pixels i*s: an edge lies half a stride before the first sample in
        # and half a stride after the last sample in
        x0 = max(0, int(round(gx0 * s - s / 2)))
        y0 = max(0, int(round(gy0 * s - s / 2)))
        x1 = min(W, int(round(gx1 * s - s / 2)))
        y1 = min(H, int(round(gy1 * s - s / 2)))
        return (x0, y0, max(1, x1 - x0), max(1, y1 - y0))

    def _deeper(self, hi: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> int:
        """The region's new bottom: when the picture fades into the dark at its deep end (it
        may go on below, too dark to see yet), the region goes down over the empty rows under
        it - dark, with no sharp edge near (text, a bar's border) - to the next thing there.
        A black margin costs little; a lost part of the picture costs the finding."""
        if y1 - y0 < 4 or float(hi[y1 - 3 : y1, x0:x1].mean()) > 60:
            return y1  # a bright deep end: the picture ends there
        dark = hi[:, x0:x1] <= 40
        edge = np.asarray(crisp(hi)[:, x0:x1].any(axis=1))  # text or a border on the line
        while y1 < hi.shape[0] and not edge[y1] and dark[y1].mean() >= 0.85:
            y1 += 1
        return y1

    def _brightest(self) -> np.ndarray:
        """The latest frame's brightest channel on the grid."""
        px, s = self._last, self._step
        if px.ndim == 2:
            return self._recent[-1]
        v = px[::s, ::s]
        return np.maximum(np.maximum(v[..., 0], v[..., 1]), v[..., 2])

    def _background(self) -> int:
        """The screen's background grey: the most common sample of the latest frame."""
        return int(np.argmax(np.bincount(self._recent[-1].ravel(), minlength=256)))

    def _foreground(self) -> np.ndarray:
        """Samples that are not the screen's uniform background in a recent frame."""
        cur = self._recent[-1]
        bg = self._background()
        fg = np.zeros(cur.shape, bool)
        for s in self._recent:
            fg |= cv2.absdiff(s, np.full_like(s, bg)) > self.background_tol
        return fg

    def _large_live(self, last: int | None) -> np.ndarray:
        """Live samples in parts larger than a line of text (0.3% of the grid)."""
        live = self.moving(last)
        assert live is not None
        num, labels, stats, _ = cv2.connectedComponentsWithStats(
            live.astype(np.uint8), connectivity=8
        )
        big = np.zeros(num, bool)
        big[1:] = stats[1:, cv2.CC_STAT_AREA] >= 0.003 * live.size
        return big[labels]

    def moving_box(self, last: int = 2) -> Roi | None:
        """The box (full-frame pixels) of what changed in the last ``last`` chunks (about a
        second): the longest runs of rows and of columns with many changing samples, on a
        coarser grid, without hull or growing; ``None`` when too little changed. The cheap
        follow check (a few hundredths of a millisecond at 1080p): a clock or a counter
        changes in a few rows or columns only, apart from the picture's run."""
        if not self._chunks or self._shape is None:
            return None
        rng = self.range(last)
        assert rng is not None
        live = rng[::2, ::2] > self.noise  # a rough box is enough
        gh, gw = live.shape
        y0, y1 = _longest_run(live.sum(1) >= max(3, 0.05 * gw))
        x0, x1 = _longest_run(live.sum(0) >= max(3, 0.05 * gh))
        if (y1 - y0) * (x1 - x0) < self.min_area * live.size:
            return None
        s = 2 * self._step
        return (x0 * s, y0 * s, (x1 - x0) * s, (y1 - y0) * s)

    def still_share(self, roi: Roi, exclude: Roi | None = None, last: int | None = None) -> float:
        """Share of the grid samples in ``roi`` but not in ``exclude`` (full-frame pixels)
        that stayed the screen's background colour over the last ``last`` chunks (a dark
        stretch of the picture is a few grey levels off it, or flickers). 1.0 when no
        sample is left."""
        win = self._window(last)
        if win is None:
            return 0.0
        bg = self._background()
        hi, lo = win[0].astype(np.int16), win[1].astype(np.int16)
        sel = np.zeros(hi.shape, bool)
        sel[self._grid_slices(roi)] = True
        if exclude is not None:
            sel[self._grid_slices(exclude)] = False
        if not sel.any():
            return 1.0
        still = (hi <= bg + 3) & (lo >= bg - 3)
        return float(still[sel].mean())

    def _grid_slices(self, roi: Roi) -> tuple[slice, slice]:
        s = self._step
        x, y, w, h = (int(v) for v in roi)
        ys = slice(max(0, -(-y // s)), max(0, -(-(y + h) // s)))
        return ys, slice(max(0, -(-x // s)), max(0, -(-(x + w) // s)))


def _longest_run(flags: np.ndarray) -> tuple[int, int]:
    """``(start, stop)`` of the longest run of True in ``flags`` (``(0, 0)`` when none)."""
    f = np.concatenate(([False], flags.astype(bool), [False]))
    edges = np.flatnonzero(f[1:] != f[:-1])
    if edges.size == 0:
        return 0, 0
    starts, stops = edges[::2], edges[1::2]
    k = int(np.argmax(stops - starts))
    return int(starts[k]), int(stops[k])


def detect_roi(frames: list[np.ndarray], **kwargs: object) -> Roi:
    """One-shot ROI from a list of frames; the whole frame when no picture is found."""
    if not frames:
        raise ValueError("detect_roi needs at least one frame")
    det = RoiDetector(history=max(2, len(frames)), **kwargs)  # type: ignore[arg-type]
    for f in frames:
        det.update(f)
    r = det.roi()
    if r is None:
        h, w = frames[0].shape[:2]
        return (0, 0, int(w), int(h))
    return r


def crop(frame: Frame, roi: Roi | None) -> Frame:
    """A copy of ``frame`` cropped to ``roi`` (in ``frame.pixels`` coordinates, clipped to
    it); ``roi`` of the result is in *source* coordinates (composed with ``frame.roi``)."""
    if roi is None:
        return frame
    H, W = frame.pixels.shape[:2]
    x, y, w, h = (int(v) for v in roi)
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"ROI {roi} lies outside the {W}x{H} frame")
    ox, oy = (frame.roi or (0, 0, W, H))[:2]
    pixels = np.ascontiguousarray(frame.pixels[y0:y1, x0:x1])
    truth = None
    if frame.truth is not None:
        truth = np.ascontiguousarray(frame.truth[y0:y1, x0:x1])
    return replace(frame, pixels=pixels, truth=truth, roi=(ox + x0, oy + y0, x1 - x0, y1 - y0))


def full_mask(keep: np.ndarray, step: int, shape: tuple[int, int]) -> np.ndarray:
    """A grid mask (samples ``step`` pixels apart) as a full-frame ``uint8`` mask of
    ``shape`` (height, width): each sample covers the pixels nearest to it."""
    h, w = shape
    gh, gw = keep.shape
    full = cv2.resize(keep, (gw * step, gh * step), interpolation=cv2.INTER_NEAREST)
    half = step // 2  # sample i sits at pixel i*step: centre the cells on the samples
    full = np.pad(full, ((0, half), (0, half)), mode="edge")[half:, half:]
    out = np.zeros((h, w), np.uint8)
    hh, ww = min(h, full.shape[0]), min(w, full.shape[1])
    out[:hh, :ww] = full[:hh, :ww]
    return out


def blank(frame: Frame, mask: np.ndarray) -> Frame:
    """A copy of ``frame`` with the pixels outside ``mask`` (full-frame, 0/1, in
    ``frame.pixels`` coordinates) set to black: burned-in text outside the picture cannot be
    read from it."""
    pixels = cv2.bitwise_and(frame.pixels, frame.pixels, mask=mask)
    return replace(frame, pixels=pixels)


def fit(frame: Frame, size: tuple[int, int] | None) -> Frame:
    """``frame`` scaled to fit ``size`` (``(width, height)``), centred on black (letterbox).

    Keeps one output size within a clip when the ROI changes (a depth or preset change);
    ``frame.roi`` still names the source region the pixels came from."""
    if size is None:
        return frame
    tw, th = int(size[0]), int(size[1])
    h, w = frame.pixels.shape[:2]
    if (w, h) == (tw, th):
        return frame
    scale = min(tw / w, th / h)
    nw, nh = max(1, min(tw, round(w * scale))), max(1, min(th, round(h * scale)))
    x0, y0 = (tw - nw) // 2, (th - nh) // 2
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    pixels = np.zeros((th, tw, 3), np.uint8)
    pixels[y0 : y0 + nh, x0 : x0 + nw] = cv2.resize(frame.pixels, (nw, nh), interpolation=interp)
    truth = None
    if frame.truth is not None:
        truth = np.zeros((th, tw), frame.truth.dtype)
        truth[y0 : y0 + nh, x0 : x0 + nw] = cv2.resize(
            frame.truth, (nw, nh), interpolation=cv2.INTER_NEAREST
        )
    return replace(frame, pixels=pixels, truth=truth)


__all__ = [
    "MOTION",
    "TEXTURE",
    "RoiDetector",
    "blank",
    "crop",
    "detect_roi",
    "fit",
    "full_mask",
    "iou",
]
