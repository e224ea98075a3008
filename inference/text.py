"""Text burned into the picture: organ names, in any script.

OpenCV's Hershey font has ASCII only: it draws every other character as "?", so a
Traditional Chinese organ name came out as "??". ASCII text keeps the Hershey font (fast, and
what every recording so far shows); other text is drawn with a TrueType font through Pillow:

1. ``SONOLIVE_LABEL_FONT`` (a font file), when set;
2. an installed CJK font (the usual places on Linux, Windows and macOS, then ``fc-match``);
3. the font that ships in ``resources/fonts`` (a subset of Droid Sans Fallback holding only
   the characters of the zh_TW organ names and training-data lines: no Latin letters, so a
   name mixing scripts needs an installed font).

A font is used only when it has every character of the text (compared with a code point no
font has). When none has, :func:`can_draw` says so and the overlay draws the class's English
name instead of boxes or question marks.

Each text is rendered once per size into a small RGBA sprite (white, with a dark halo) and
blended in afterwards: about 0.1 ms per name on a 1080p picture, not a font rasterisation.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np

SHIPPED_FONT = (
    Path(__file__).resolve().parent.parent / "resources" / "fonts" / "picture-text-cjk.ttf"
)
#: where CJK fonts usually are (Debian/Ubuntu, Fedora, Arch, Windows, macOS)
KNOWN_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKtc-Regular.otf",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "C:/Windows/Fonts/msjh.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
)
_NO_GLYPH = "\U0010fff0"  # private use: no font has it, so it draws as the font's "missing" box
HERSHEY = cv2.FONT_HERSHEY_DUPLEX


def _hershey_scale(height: int, scale: float) -> float:
    return max(0.4, height / 1000 * scale * 1.1)


def put_halo_text(img: np.ndarray, text: str, org: tuple[int, int], fs: float, th: int) -> None:
    """ASCII ``text`` with OpenCV's font at ``org`` (its baseline's left end): white over a
    dark halo, readable on any picture. The halo is the letters grown by a few pixels:
    putText's own thickness stops growing past a couple of pixels in some OpenCV builds,
    where a thick black pass left only a shadow on one side."""
    (tw, tht), base = cv2.getTextSize(text, HERSHEY, fs, th)
    ring = max(2, th)
    h, w = img.shape[:2]
    x0, y0 = max(0, org[0] - 2 * ring), max(0, org[1] - tht - 2 * ring)
    x1, y1 = min(w, org[0] + tw + 2 * ring), min(h, org[1] + base + 2 * ring)
    if x1 <= x0 or y1 <= y0:
        return
    box = img[y0:y1, x0:x1]
    letters = np.zeros(box.shape[:2], np.uint8)
    cv2.putText(letters, text, (org[0] - x0, org[1] - y0), HERSHEY, fs, 255, th, cv2.LINE_AA)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring + 1, 2 * ring + 1))
    halo = cv2.dilate(letters, k)
    a = halo.astype(np.float32) / 255.0
    b = letters.astype(np.float32) / 255.0
    if box.ndim == 3:
        a, b = a[..., None], b[..., None]
    box[:] = np.clip(box * (1.0 - a) * (1.0 - b) + 255.0 * b + 0.5, 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=1)
def font_candidates() -> tuple[str, ...]:
    """Font files to try for non-ASCII text, best first (found once per process)."""
    found: list[str] = []
    env = os.environ.get("SONOLIVE_LABEL_FONT")
    if env:
        found.append(env)
    found += [p for p in KNOWN_FONTS if Path(p).is_file()]
    fc = shutil.which("fc-match")
    if fc:
        try:
            out = subprocess.run(
                [fc, "-f", "%{file}", ":lang=zh-tw"], capture_output=True, text=True, timeout=3
            ).stdout.strip()
            if out and Path(out).is_file():
                found.append(out)
        except (OSError, subprocess.SubprocessError):
            pass
    if SHIPPED_FONT.is_file():
        found.append(str(SHIPPED_FONT))
    return tuple(dict.fromkeys(found))  # in order, each once


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int):  # noqa: ANN202 - a PIL FreeTypeFont
    from PIL import ImageFont

    # a Noto Sans CJK collection's first face is the Japanese one; the fourth is Traditional
    # Chinese, the language the app is translated into
    index = 3 if Path(path).name.startswith("NotoSansCJK-") and path.endswith(".ttc") else 0
    return ImageFont.truetype(path, size, index=index)


def _mask(font, text: str) -> bytes:  # noqa: ANN001
    return bytes(font.getmask(text))


def _has_glyphs(path: str, text: str) -> bool:
    """True when every character of ``text`` has its own glyph in the font at ``path``."""
    try:
        font = _font(path, 32)
        missing = _mask(font, _NO_GLYPH)
        return all(ch.isspace() or _mask(font, ch) != missing for ch in set(text))
    except Exception:  # noqa: BLE001 - an unreadable font file is just not a candidate
        return False


@functools.lru_cache(maxsize=256)
def font_for(text: str) -> str | None:
    """The first candidate font that has every character of ``text`` (None: no font has)."""
    return next((p for p in font_candidates() if _has_glyphs(p, text)), None)


def ascii_fold(text: str) -> str:
    """``text`` in ASCII for OpenCV's font: accents dropped (é → e), anything else "?"."""
    import unicodedata

    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return bare.encode("ascii", "replace").decode("ascii")


def can_draw(text: str) -> bool:
    """Whether :func:`draw_text` can show ``text`` as it is (ASCII, or a font has it)."""
    return text.isascii() or font_for(text) is not None


@functools.lru_cache(maxsize=256)
def _sprite(text: str, px: int, path: str) -> np.ndarray:
    """``text`` in white with a dark halo, as an RGBA array just large enough."""
    from PIL import Image, ImageDraw

    font = _font(path, px)
    halo = max(2, px // 10)
    x0, y0, x1, y1 = font.getbbox(text, stroke_width=halo)
    img = Image.new("RGBA", (x1 - x0 + 2, y1 - y0 + 2), (0, 0, 0, 0))
    ImageDraw.Draw(img).text(
        (1 - x0, 1 - y0),
        text,
        font=font,
        fill=(255, 255, 255, 255),
        stroke_width=halo,
        stroke_fill=(0, 0, 0, 255),
    )
    return np.asarray(img)


def text_width(text: str, px: int) -> int:
    """Width in pixels of ``text`` drawn with a TrueType font at ``px`` (its sprite's width;
    0 when no font has it)."""
    path = font_for(text)
    return 0 if path is None else int(_sprite(text, max(6, px), path).shape[1])


def draw_text_px(img: np.ndarray, text: str, x: int, y: int, px: int) -> None:
    """``text`` with a TrueType font at ``px`` pixels, centred on (``x``, ``y``), kept inside
    the picture; nothing when no font has it (check :func:`can_draw` first)."""
    path = font_for(text)
    if path is None:
        return
    h, w = img.shape[:2]
    sprite = _sprite(text, max(6, int(px)), path)
    sh, sw = sprite.shape[:2]
    left = int(np.clip(x - sw // 2, 0, max(0, w - sw)))
    top = int(np.clip(y - sh // 2, 0, max(0, h - sh)))
    sh, sw = min(sh, h - top), min(sw, w - left)
    if sh <= 0 or sw <= 0:
        return
    part = sprite[:sh, :sw]
    alpha = part[..., 3:4].astype(np.float32) / 255.0
    dst = img[top : top + sh, left : left + sw]
    dst[:] = (dst * (1.0 - alpha) + part[..., :3] * alpha + 0.5).astype(np.uint8)


def text_box(img_h: int, text: str, scale: float = 1.0) -> tuple[int, int]:
    """(width, height) in pixels that :func:`draw_text` covers with ``text`` on a picture
    ``img_h`` pixels high, halo included."""
    fs = _hershey_scale(img_h, scale)
    path = None if text.isascii() else font_for(text)
    if path is None:
        th = max(1, int(round(fs * 1.6)))
        (tw, tht), base = cv2.getTextSize(text, HERSHEY, fs, th)
        ring = max(2, th)  # put_halo_text's halo
        return tw + 2 * ring, tht + base + 2 * ring
    sprite = _sprite(text, max(6, max(10, int(round(fs * 30)))), path)
    return int(sprite.shape[1]), int(sprite.shape[0])


def draw_text(img: np.ndarray, text: str, x: int, y: int, scale: float = 1.0) -> None:
    """Centred white text with a dark halo at (``x``, ``y``), sized relative to the
    picture's height; ASCII with the Hershey font, other scripts with a TrueType font."""
    h, w = img.shape[:2]
    fs = _hershey_scale(h, scale)
    path = None if text.isascii() else font_for(text)
    if path is None:
        th = max(1, int(round(fs * 1.6)))
        (tw, tht), _ = cv2.getTextSize(text, HERSHEY, fs, th)
        org = (
            int(np.clip(x - tw // 2, 2, w - tw - 2)),
            int(np.clip(y + tht // 2, tht + 2, h - 4)),
        )
        put_halo_text(img, text, org, fs, th)
        return
    draw_text_px(img, text, x, y, max(10, int(round(fs * 30))))
