"""Compose masks, outlines, organ names and a heatmap into one RGB picture.

Pure NumPy/OpenCV on the CPU: a colour lookup table turns the label map into colours, one
``addWeighted`` blends them, a morphological gradient gives the outlines, and the name sits
at the point deepest inside each organ (the distance-transform maximum), which stays inside
curved or thin organs where a centroid would not.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..models.card import ModelCard
from .cv_compare import compare_scalar
from .names import Label, NameHold, centre_organ, place_names, sector_centre
from .text import can_draw, draw_text

__all__ = ["HEAT_FLOOR", "HEAT_LUT", "Composed", "Label", "Overlay", "OverlayStyle", "heat_layers"]


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


@dataclass
class Composed:
    image: np.ndarray  # H x W x 3 uint8 RGB
    labels: list[Label] = field(default_factory=list)


#: classes drawn prominently in every mode whenever present (the FAST exam's finding):
#: filled at FLUID_OPACITY over whatever the mode draws, with a FLUID_RIM_PX rim
PROMINENT_NAMES = ("fluid", "free_fluid")
FLUID_OPACITY = 0.6
FLUID_RIM_PX = 3


def prominent_classes(card: ModelCard) -> list[int]:
    """The card's class indices drawn prominently (free fluid)."""
    return [i for i, c in enumerate(card.classes) if i and c.name.lower() in PROMINENT_NAMES]


def label_stride(h: int, w: int) -> int:
    """The subsampling the names are placed on (about 256 pixels on the long side)."""
    return max(1, max(h, w) // 256)


def _jet_lut() -> np.ndarray:
    ramp = np.arange(256, dtype=np.uint8).reshape(256, 1)
    return cv2.applyColorMap(ramp, cv2.COLORMAP_JET)[:, 0, ::-1].copy()  # RGB


HEAT_LUT = _jet_lut()
#: heat (quantised 0-255) at or below this is not drawn, so the calm parts of the picture stay
#: untouched and the map reads as "where the network looked"
HEAT_FLOOR = 38
_HEAT_LUT3 = HEAT_LUT.reshape(1, 256, 3)


_heat_lock = threading.Lock()
_heat_made: list[tuple[np.ndarray, tuple]] = []  # the last few maps and their layers


def heat_layers(heat: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple | None]:
    """A map's colours, its hot mask (above :data:`HEAT_FLOOR`) and their bounding box.

    Made once per map and kept for the last few: the CAM worker calls this as soon as a map
    is done (on its own thread) and then hands out the same array until it has a newer one,
    so composing a displayed frame only blends."""
    with _heat_lock:
        for arr, layers in _heat_made:
            if arr is heat:
                return layers
    h8 = np.clip(heat * 255, 0, 255).astype(np.uint8)
    hm = cv2.LUT(cv2.merge([h8, h8, h8]), _HEAT_LUT3)
    hot = compare_scalar(h8, HEAT_FLOOR, cv2.CMP_GT)
    x, y, bw, bh = cv2.boundingRect(hot)
    layers = (hm, hot, (x, y, bw, bh) if bw and bh else None)
    with _heat_lock:
        _heat_made.append((heat, layers))
        del _heat_made[:-3]
    return layers


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
        self._tick = 0
        self.prominent = prominent_classes(card)
        self._rim_kernel = cv2.getStructuringElement(
            cv2.MORPH_ELLIPSE, (2 * FLUID_RIM_PX + 1, 2 * FLUID_RIM_PX + 1)
        )

    def names_for(
        self, pixels: np.ndarray, small: np.ndarray, stride: int, t: float | None = None
    ) -> list[Label]:
        """The names to draw (anchors in full-size pixels) for a ``stride``-subsampled label
        map: every organ's on itself, or Bedside's one name (:mod:`.names`). ``t`` is the
        frame's time in the source (None: frames are taken as 1/30 s apart)."""
        st = self.style
        if not st.names:
            return []
        h = pixels.shape[0]
        if not st.center_label_only:
            return place_names(small, stride, h, self.display, st.label_scale)
        if t is None:
            self._tick += 1
            t = self._tick / 30.0
        cx, cy = sector_centre(pixels, stride)
        hold = self.name_hold
        present = hold.shown != 0 and bool((small == hold.shown).any())
        cls = hold.update(centre_organ(small, cx, cy, hold.shown), t, present)
        if cls <= 0:
            return []
        scale = st.label_scale * 2.0
        return place_names(small, stride, h, self.display, scale, only=cls, near=(cx, cy))

    def compose(
        self,
        rgb: np.ndarray,
        labels: np.ndarray | None,
        heat: np.ndarray | None = None,
        t: float | None = None,
    ) -> Composed:
        """``labels`` is H x W class indices (None: no model); ``heat`` is H x W in 0..1;
        ``t`` the frame's time in its source (Bedside's name hold)."""
        st = self.style
        out = rgb.copy()
        # Everything per pixel goes through OpenCV (LUT, addWeighted, masked copyTo), which
        # is several times faster than NumPy fancy indexing on a 1080p picture.
        if heat is not None:
            hm, hot, box = heat_layers(heat)
            if box is not None:  # blend only where the map is hot (its bounding box)
                x, y, bw, bh = box
                dst = out[y : y + bh, x : x + bw]
                part = hm[y : y + bh, x : x + bw]
                blended = cv2.addWeighted(dst, 1 - st.heat_opacity, part, st.heat_opacity, 0)
                cv2.copyTo(blended, hot[y : y + bh, x : x + bw], dst)
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
            m = max(st.outline_px, FLUID_RIM_PX if self.prominent else 0) + 1
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
            for k in self.prominent:  # free fluid: filled and rimmed in every mode
                fl = compare_scalar(labels, k, cv2.CMP_EQ)
                if not cv2.countNonZero(fl):
                    continue
                solid = np.empty_like(dst)
                solid[:] = self.lut[k]
                blended = cv2.addWeighted(dst, 1 - FLUID_OPACITY, solid, FLUID_OPACITY, 0)
                cv2.copyTo(blended, fl, dst)
                rim = cv2.bitwise_and(
                    cv2.morphologyEx(fl, cv2.MORPH_GRADIENT, self._rim_kernel), fl
                )
                cv2.copyTo(solid, rim, dst)
        labels = full_labels
        anchors: list[Label] = []
        if st.names:
            s = label_stride(*labels.shape)
            anchors = self.names_for(rgb, labels[::s, ::s], s, t)
            for a in anchors:
                draw_text(out, a.name, a.x, a.y, a.scale)
        return Composed(out, anchors)


def _above(img: np.ndarray, value: int) -> np.ndarray:
    """255 where ``img`` > ``value``, else 0."""
    return compare_scalar(img, value, cv2.CMP_GT)
