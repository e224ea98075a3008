"""Compose the overlay on the model's device: fill, outlines and CAM heat in torch.

The CPU :class:`~.overlay.Overlay` is the reference; this module reproduces it with tensor
operations so that, on a GPU, the picture never makes a round trip through host memory
between the network and the view:

* **fill**: the card's colour table is a ``256 x 3`` device tensor indexed by the label map,
  blended like ``cv2.addWeighted`` (float arithmetic, rounded half-to-even, as OpenCV does);
* **outlines**: a morphological gradient of the label map (``dilate != erode``). OpenCV's
  elliptical structuring element is a union of centred rectangles, and a dilation by a union
  is the maximum of the dilations by each part, so a handful of ``max_pool2d`` calls give
  exactly the CPU outline (erosion is ``-max_pool2d(-labels)``);
* **heat**: the 256-entry JET table from :data:`~.overlay.HEAT_LUT`, indexed by the heat map
  quantised to ``uint8`` the same way as on the CPU.

Organ names stay on the CPU (OpenCV text), drawn after the single download with
:func:`.text.draw_text` where :meth:`Overlay.names_for` puts them, which needs only a subsampled
label map: the compositor packs that small map into the same download as the picture.

``TorchCompositor`` runs unchanged on the CPU (``device="cpu"``, float32); that is how the
tests check it against the CPU overlay on a machine without a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from ..models.card import ModelCard
from .overlay import (
    FLUID_OPACITY,
    FLUID_RIM_PX,
    HEAT_FLOOR,
    HEAT_LUT,
    Label,
    Overlay,
    OverlayStyle,
    label_stride,
    prominent_classes,
)
from .text import draw_text


def ellipse_rects(outline_px: int) -> list[tuple[int, int]]:
    """OpenCV's elliptical kernel of side ``2*outline_px+1`` as centred ``(kh, kw)`` boxes.

    Every row of ``cv2.getStructuringElement(MORPH_ELLIPSE)`` is a centred run of ones and the
    runs shrink away from the middle row, so the kernel is the union, over the distinct run
    widths ``w``, of a centred ``rows_with_width>=w x w`` rectangle.
    """
    k = 2 * outline_px + 1
    kern = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    widths = kern.sum(1).astype(int)
    rects = []
    for w in sorted(set(widths.tolist())):
        if w <= 0:
            continue
        rects.append((int((widths >= w).sum()), int(w)))
    return rects


@dataclass
class DeviceComposite:
    """What :meth:`TorchCompositor.compose` leaves on the device for the single download."""

    image: torch.Tensor  # H x W x 3 uint8
    small_labels: torch.Tensor  # (H/s) x (W/s) uint8, s = label_stride(H, W)
    centre: torch.Tensor  # 1 uint8: the class under the picture's centre


class TorchCompositor:
    """Fill, outline and heat on ``device``; names on the host after the download.

    ``dtype`` is the network's dtype; the pooling of the label map runs in it (class indices
    are exact in fp16), the colour arithmetic always runs in float32 so that rounding matches
    OpenCV's to the level.
    """

    def __init__(
        self,
        card: ModelCard,
        style: OverlayStyle | None = None,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.card = card
        self.style = style or OverlayStyle()
        self.device = torch.device(device)
        self.dtype = dtype
        lut = np.full((256, 3), 255, np.uint8)  # like Overlay: unknown classes are white
        table = np.array(card.color_table(), np.uint8)[:256]
        lut[: len(table)] = table
        self.lut = torch.from_numpy(lut).to(self.device, torch.float32)
        self.heat_lut = torch.from_numpy(HEAT_LUT.copy()).to(self.device, torch.float32)
        self.overlay = Overlay(card, self.style)  # label positions and text on the host
        self.prominent = prominent_classes(card)
        self._rects: dict[int, list[tuple[int, int]]] = {}
        self._heat_src: np.ndarray | None = None  # the host heat map last uploaded
        self._heat_dev: torch.Tensor | None = None  # ... and its quantised copy on the device
        self.last_anchors: list[Label] = []  # the names drawn on the last picture

    # ---- device side ---------------------------------------------------------------
    def heat_on_device(self, heat: np.ndarray) -> torch.Tensor:
        """Quantised ``uint8`` heat on the device; re-uploaded only when the map changes.

        The CAM worker hands out the same array until it has a new map (a few per second),
        so most frames reuse the upload.
        """
        if heat is not self._heat_src or self._heat_dev is None:
            q = np.clip(heat * 255, 0, 255).astype(np.uint8)
            t = torch.from_numpy(q)
            self._heat_dev = (
                t.to(self.device, non_blocking=False) if self.device.type != "cpu" else t
            )
            self._heat_src = heat
        return self._heat_dev

    def _edges(self, labels: torch.Tensor, outline_px: int) -> torch.Tensor:
        rects = self._rects.get(outline_px)
        if rects is None:
            rects = self._rects[outline_px] = ellipse_rects(outline_px)
        lab = labels[None, None].to(self.dtype)
        neg = -lab
        dil: torch.Tensor | None = None
        ero: torch.Tensor | None = None
        for kh, kw in rects:
            d = F.max_pool2d(lab, (kh, kw), stride=1, padding=(kh // 2, kw // 2))
            e = F.max_pool2d(neg, (kh, kw), stride=1, padding=(kh // 2, kw // 2))
            dil = d if dil is None else torch.maximum(dil, d)
            ero = e if ero is None else torch.maximum(ero, e)  # max of -x = -(min of x)
        assert dil is not None and ero is not None  # ellipse_rects gives at least one
        return (dil != -ero)[0, 0]

    def compose(
        self,
        frame: torch.Tensor,
        labels: torch.Tensor,
        heat: torch.Tensor | None = None,
        style: OverlayStyle | None = None,
    ) -> DeviceComposite:
        """``frame`` H x W x 3 uint8, ``labels`` H x W uint8, ``heat`` H x W uint8 (quantised),
        all on the device. Nothing here waits for the device."""
        st = style or self.style
        img = frame.to(torch.float32)
        if heat is not None:
            a = float(st.heat_opacity)
            hm = self.heat_lut[heat.long()]
            hot = (heat > HEAT_FLOOR)[..., None]  # low activation leaves the picture as it is
            img = torch.where(hot, torch.round(img * (1 - a) + hm * a).clamp_(0, 255), img)
        idx = labels.long()
        colour = self.lut[idx]
        organ = (labels > 0)[..., None]
        if st.fill and st.opacity > 0:
            o = float(st.opacity)
            blended = torch.round(img * (1 - o) + colour * o).clamp_(0, 255)
            img = torch.where(organ, blended, img)
        if st.outline and st.outline_px > 0:
            edge = self._edges(labels, int(st.outline_px))[..., None] & organ
            img = torch.where(edge, colour, img)
        for k in self.prominent:  # free fluid: filled and rimmed in every mode
            fl = labels == k
            a = FLUID_OPACITY
            img = torch.where(fl[..., None], torch.round(img * (1 - a) + self.lut[k] * a), img)
            rim = self._edges(fl.to(torch.uint8), FLUID_RIM_PX) & fl
            img = torch.where(rim[..., None], self.lut[k], img)
        h, w = labels.shape
        s = label_stride(h, w)
        return DeviceComposite(
            image=img.to(torch.uint8),
            small_labels=labels[::s, ::s],
            centre=labels[h // 2, w // 2].reshape(1),
        )

    # ---- host side -----------------------------------------------------------------
    def draw_names(
        self,
        image: np.ndarray,
        small: np.ndarray,
        centre: int,
        style: OverlayStyle | None = None,
        pixels: np.ndarray | None = None,
        t: float | None = None,
    ) -> list[Label]:
        """Organ names on the downloaded picture, exactly where the CPU overlay puts them
        (:meth:`Overlay.names_for`; ``pixels`` is the frame, for the sector's centre)."""
        st = style or self.style
        ov = self.overlay
        ov.style = st
        h, w = image.shape[:2]
        anchors = ov.names_for(
            pixels if pixels is not None else image, small, label_stride(h, w), t
        )
        for a in anchors:
            draw_text(image, a.name, a.x, a.y, a.scale)
        self.last_anchors = anchors
        return anchors
