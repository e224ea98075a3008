"""The one frame-number barcode of the tests: black/white cells that survive lossy codecs.

A frame number is burned in as ``bits`` cells, white for a 1 bit, black for a 0, laid out
``cols`` to a row, least significant bit first. Reading samples the centre half of each
cell, so codec ringing at the cell edges never flips a bit. Where the cells sit is a
:class:`Layout`; two are used:

* :data:`BANNER` - 12 big cells (2 rows x 6) over the top half of the picture, scaled to
  the frame. The clip, DICOM, recorder and player tests use it: it survives even a tiny
  160 x 120 frame, grey conversion and heavy compression.
* :data:`CORNER` - 16 cells of 16 px in one row at the top left. The fake capture card uses
  it, so the rest of its scanner-like picture stays free for ROI detection. 16 px is a
  multiple of the codec's block size, so compression keeps each cell flat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layout:
    """Where the cells sit. A cell is ``cell`` pixels square, or, with ``cell=0``, the
    top ``height_share`` of the frame divided into ``rows x cols`` cells."""

    bits: int
    cols: int
    cell: int = 0
    height_share: float = 0.5

    @property
    def rows(self) -> int:
        return -(-self.bits // self.cols)

    def box(self, shape: tuple[int, ...], bit: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of the cell for ``bit`` in a frame of ``shape``."""
        r, c = divmod(bit, self.cols)
        if self.cell:
            cw = ch = self.cell
        else:
            cw, ch = shape[1] // self.cols, int(shape[0] * self.height_share) // self.rows
        return c * cw, r * ch, (c + 1) * cw, (r + 1) * ch


BANNER = Layout(bits=12, cols=6)
CORNER = Layout(bits=16, cols=16, cell=16)


def centre_half(box: tuple[int, int, int, int]) -> tuple[slice, slice]:
    """(rows, cols) slices of the middle half of ``box`` (x0, y0, x1, y1): away from the
    edges, where codec ringing and chroma bleed live."""
    x0, y0, x1, y1 = box
    mx, my = max(1, (x1 - x0) // 4), max(1, (y1 - y0) // 4)
    return slice(y0 + my, y1 - my), slice(x0 + mx, x1 - mx)


def write_barcode(img: np.ndarray, number: int, layout: Layout = BANNER) -> None:
    """Burn ``number`` into ``img`` (RGB, BGR or grey), in place."""
    if not 0 <= number < 2**layout.bits:
        raise ValueError(f"{number} does not fit in {layout.bits} bits")
    for bit in range(layout.bits):
        x0, y0, x1, y1 = layout.box(img.shape, bit)
        img[y0:y1, x0:x1] = 255 if (number >> bit) & 1 else 0


def read_bits(
    img: np.ndarray, layout: Layout = BANNER, keep: np.ndarray | None = None, min_pixels: int = 1
) -> dict[int, int]:
    """{bit: 0 or 1} from the centre half of each cell. With a boolean ``keep`` map, only
    its pixels count, and a cell with fewer than ``min_pixels`` of them is left out (an
    overlay drawn over part of the barcode hides those bits)."""
    bits = {}
    for bit in range(layout.bits):
        inner = centre_half(layout.box(img.shape, bit))
        cell = img[inner]
        if keep is not None:
            cell = cell[keep[inner]]
        if cell.size >= min_pixels * (img.shape[2] if img.ndim == 3 else 1):
            bits[bit] = int(float(cell.mean()) > 127)
    return bits


def read_barcode(img: np.ndarray, layout: Layout = BANNER) -> int:
    """The number :func:`write_barcode` burned in with the same layout."""
    return sum(v << bit for bit, v in read_bits(img, layout).items())
