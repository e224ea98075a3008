"""Compose masks, outlines, organ names and a heatmap into one RGB picture.

Pure NumPy/OpenCV on the CPU: a colour lookup table turns the label map into colours, one
``addWeighted`` blends them, a morphological gradient gives the outlines, and the name sits
at the point deepest inside each organ (the distance-transform maximum), which stays inside
curved or thin organs where a centroid would not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..models.card import ModelCard
from .text import can_draw, draw_text


@dataclass
class OverlayStyle:
    fill: bool = True
    outline: bool = True
    names: bool = True
    opacity: float = 0.45  # fill opacity 0..1
    outline_px: int = 2
    label_scale: float = 1.0  # 1.0 = text height about 3% of the picture height
    center_label_only: bool = False  # Bedside: one big name for the organ under the centre
    heat_opacity: float = 0.5


class NameHold:
    """Hysteresis on Bedside's one big name: it follows the organ under the centre, but a
    change waits until the new organ has held the centre for ``frames`` frames in a row, so
    a boundary crossing the centre does not make the name blink. A name appears at once when
    none is shown, and the old name goes at once when its organ has left the centre's
    neighbourhood."""

    def __init__(self, frames: int = 3) -> None:
        self.frames = frames
        self.shown = 0
        self._cand = 0
        self._count = 0

    def update(self, centre: int, window: np.ndarray) -> int:
        """``centre``: the class under the centre; ``window``: the labels around it."""
        if centre == self.shown:
            self._count = 0
            return self.shown
        if centre == self._cand:
            self._count += 1
        else:
            self._cand, self._count = centre, 1
        gone = self.shown == 0 or not bool((window == self.shown).any())
        if self._count >= self.frames or gone:
            self.shown, self._count = centre, 0
        return self.shown


def centre_window(labels: np.ndarray) -> np.ndarray:
    """The labels within a sixth of the picture's size around its centre."""
    h, w = labels.shape
    dy, dx = max(1, h // 12), max(1, w // 12)
    return labels[h // 2 - dy : h // 2 + dy + 1, w // 2 - dx : w // 2 + dx + 1]


@dataclass
class Label:
    name: str
    x: int
    y: int


@dataclass
class Composed:
    image: np.ndarray  # H x W x 3 uint8 RGB
    labels: list[Label] = field(default_factory=list)


def _jet_lut() -> np.ndarray:
    ramp = np.arange(256, dtype=np.uint8).reshape(256, 1)
    return cv2.applyColorMap(ramp, cv2.COLORMAP_JET)[:, 0, ::-1].copy()  # RGB


HEAT_LUT = _jet_lut()
#: heat (quantised 0-255) at or below this is not drawn, so the calm parts of the picture stay
#: untouched and the map reads as "where the network looked"
HEAT_FLOOR = 38
_HEAT_LUT3 = HEAT_LUT.reshape(1, 256, 3)


def _lut3(colours: np.ndarray) -> np.ndarray:
    """A 256-entry, 3-channel table for cv2.LUT; indices past the classes map to white."""
    t = np.full((256, 3), 255, np.uint8)
    t[: len(colours)] = colours
    return t.reshape(1, 256, 3)


class Overlay:
    """Draws one model's classes; reuse it across frames (it keeps its colour table)."""

    def __init__(self, card: ModelCard, style: OverlayStyle | None = None) -> None:
        self.card = card
        self.style = style or OverlayStyle()
        self.lut = np.array(card.color_table(), np.uint8)
        self._lut3 = _lut3(self.lut)
        #: the names drawn on the picture: the card's display names (translated in the app),
        #: or the class's own name where no font can show the display name
        self.display = [
            c.display if can_draw(c.display) else c.name.replace("_", " ").capitalize()
            for c in card.classes
        ]
        self._kernel: np.ndarray | None = None
        self.name_hold = NameHold()

    def label_positions(self, labels: np.ndarray) -> list[Label]:
        """One anchor per present class, deepest inside its largest region."""
        h, w = labels.shape
        scale = max(1, max(h, w) // 256)
        small = labels[::scale, ::scale]
        out = []
        for cls in np.unique(small):
            if cls == 0 or cls >= len(self.display):
                continue
            m = (small == cls).astype(np.uint8)
            if m.sum() < 12:
                continue
            dist = cv2.distanceTransform(m, cv2.DIST_L2, 3)
            y, x = np.unravel_index(int(dist.argmax()), dist.shape)
            out.append(Label(self.display[cls], int(x * scale), int(y * scale)))
        return out

    def compose(
        self,
        rgb: np.ndarray,
        labels: np.ndarray | None,
        heat: np.ndarray | None = None,
    ) -> Composed:
        """``labels`` is H x W class indices (None: no model); ``heat`` is H x W in 0..1."""
        st = self.style
        out = rgb.copy()
        # Everything per pixel goes through OpenCV (LUT, addWeighted, masked copyTo), which
        # is several times faster than NumPy fancy indexing on a 1080p picture.
        if heat is not None:
            h8 = np.clip(heat * 255, 0, 255).astype(np.uint8)
            hm = cv2.LUT(cv2.merge([h8, h8, h8]), _HEAT_LUT3)
            blended = cv2.addWeighted(out, 1 - st.heat_opacity, hm, st.heat_opacity, 0)
            cv2.copyTo(blended, _above(h8, HEAT_FLOOR), out)
        if labels is None:
            return Composed(out)
        if labels.shape != rgb.shape[:2]:
            raise ValueError(f"label map {labels.shape} does not match picture {rgb.shape[:2]}")
        labels = np.ascontiguousarray(labels, dtype=np.uint8)
        full_labels = labels
        # work only inside the organs' bounding box (plus the outline's reach)
        x, y, bw, bh = cv2.boundingRect(labels)
        if bw == 0 or bh == 0:
            labels = None
        else:
            m = st.outline_px + 1
            H, W = full_labels.shape
            x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(W, x + bw + m), min(H, y + bh + m)
            labels = full_labels[y0:y1, x0:x1]
            dst = out[y0:y1, x0:x1]
        if labels is not None:
            organ = _above(labels, 0)  # 255 where an organ is
            colour = None
            if st.fill and st.opacity > 0:
                colour = cv2.LUT(cv2.merge([labels, labels, labels]), self._lut3)
                blended = cv2.addWeighted(dst, 1 - st.opacity, colour, st.opacity, 0)
                cv2.copyTo(blended, organ, dst)
            if st.outline and st.outline_px > 0:
                k = 2 * st.outline_px + 1
                kernel = self._kernel
                if kernel is None or kernel.shape[0] != k:
                    kernel = self._kernel = np.asarray(
                        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
                    )
                grad = cv2.morphologyEx(labels, cv2.MORPH_GRADIENT, kernel)
                edge = cv2.bitwise_and(_above(grad, 0), organ)
                if colour is None:
                    colour = cv2.LUT(cv2.merge([labels, labels, labels]), self._lut3)
                cv2.copyTo(colour, edge, dst)
        labels = full_labels
        anchors: list[Label] = []
        if st.names:
            anchors = self.label_positions(labels)
            if st.center_label_only:
                h, w = labels.shape
                cls = self.name_hold.update(int(labels[h // 2, w // 2]), centre_window(labels))
                anchors = (
                    [Label(self.display[cls], w // 2, h // 2)]
                    if 0 < cls < len(self.display)
                    else []
                )
            for a in anchors:
                scale = 2.0 if st.center_label_only else 1.0
                draw_text(out, a.name, a.x, a.y, st.label_scale * scale)
        return Composed(out, anchors)


def _above(img: np.ndarray, value: int) -> np.ndarray:
    """255 where ``img`` > ``value``, else 0 (OpenCV's compare with a scalar, which its
    type stubs do not list)."""
    return cv2.compare(img, value, cv2.CMP_GT)  # type: ignore[call-overload]
