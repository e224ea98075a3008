"""The one way SonoLive reads a dataset picture or mask (train, eval, dataset info, annotate,
quiz, calibrate).

Before anything is decoded the file must be a regular file (not a link, a FIFO or a device,
so nothing hangs or leads out of the folder) and its header must declare at most
:data:`MAX_PIXELS` pixels (a decompression bomb is refused from its header). Pillow's own
errors (not an image, truncated, damaged) become one :class:`DataError` line naming the file.
Mask values are never wrapped: a 16-bit mask holding 257 is refused, not read as class 1.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np

from .data_error import DataError

#: the largest picture accepted: 4096 x 4096, as ``process`` (far above any scanner image,
#: far below a decompression bomb)
MAX_PIXELS = 4096 * 4096
_MASK_MODES = ("1", "L", "P", "I", "I;16", "I;16B", "I;16L")


def _open(path: Path):  # noqa: ANN202 - a PIL image, loaded
    from PIL import Image, UnidentifiedImageError

    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except FileNotFoundError as e:
        raise DataError(f"{path}: missing") from e
    except OSError as e:
        if os.path.islink(path):
            raise DataError(f"{path}: is a link; only plain files are read") from e
        raise DataError(f"{path}: cannot be opened ({e.strerror or e})") from e
    f = os.fdopen(fd, "rb")
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DataError(f"{path}: not a plain file (a folder, FIFO or device)")
        try:
            im = Image.open(f)
            w, h = im.size
            if w * h > MAX_PIXELS or w <= 0 or h <= 0:
                raise DataError(
                    f"{path}: {w}x{h} pixels is too large to read (at most {MAX_PIXELS:,})"
                )
            im.load()
        except DataError:
            raise
        except UnidentifiedImageError as e:
            raise DataError(f"{path}: not an image Pillow can read") from e
        except Image.DecompressionBombError as e:
            raise DataError(f"{path}: too large to read (a decompression bomb?)") from e
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as e:
            raise DataError(f"{path}: damaged or truncated image ({e})") from e
        return im
    finally:
        f.close()


def read_mask(path: str | Path, n_classes: int | None = None) -> np.ndarray:
    """Class indices (``uint8``) from a grey, 1-bit, 16-bit or palette PNG (a palette PNG
    keeps its indices). ``n_classes``: every value must be below it; without it, below 256.
    Raises :class:`DataError` naming the file."""
    path = Path(path)
    im = _open(path)
    if im.mode not in _MASK_MODES:
        raise DataError(
            f"{path}: a mask must be a grey or palette PNG holding class indices, not {im.mode}"
        )
    arr = np.asarray(im)
    if arr.ndim != 2:
        raise DataError(f"{path}: a mask must have one channel, this one has {arr.shape[2]}")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    limit = 256 if n_classes is None else min(int(n_classes), 256)
    top = int(arr.max()) if arr.size else 0
    low = int(arr.min()) if arr.size else 0
    if top >= limit or low < 0:
        bad = top if top >= limit else low
        what = f"{n_classes} classes" if n_classes is not None else "256 a mask can name"
        raise DataError(f"{path}: unknown class index {bad} (there are only {what})")
    return arr.astype(np.uint8, copy=True)


def read_grey(path: str | Path) -> np.ndarray:
    """An 8-bit grey picture (16-bit pictures keep their top 8 bits)."""
    path = Path(path)
    im = _open(path)
    if im.mode in ("I;16", "I;16B", "I;16L"):
        return (np.asarray(im).astype(np.uint16) >> 8).astype(np.uint8)
    if im.mode in ("I", "F"):
        return np.clip(np.asarray(im), 0, 255).astype(np.uint8)
    if im.mode != "L":
        im = im.convert("RGB").convert("L")
    return np.asarray(im, dtype=np.uint8).copy()


def read_rgb(path: str | Path) -> np.ndarray:
    """An ``H x W x 3`` RGB ``uint8`` picture."""
    path = Path(path)
    im = _open(path)
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        grey = read_grey(path)
        return np.dstack([grey] * 3)
    return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
