"""The training-data gate's marks on the picture: the line that replaces the overlay on a
picture unlike the model's training data, and the mark on an overlay shown anyway.

The gate's statistics live in :mod:`.ood`; this module only words and draws (in the user's
language when a font can draw it, :mod:`.text`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ...models.card import ModelCard
from ..text import HERSHEY, ascii_fold, can_draw, draw_text_px, put_halo_text, text_width


@dataclass(frozen=True)
class GateWords:
    """The words of the lines drawn on the picture; English here, and the app gives the
    pipeline its translation (``app/localize.py``). ``%1`` is filled in."""

    hidden: str = "Picture unlike this model's training data - overlay hidden"
    trained_on: str = "(trained on %1)"
    shown_anyway: str = "Outside training data - shown anyway"
    simulated: str = "simulated images"
    real: str = "real images"
    real_of: str = "real images: %1"
    not_stated: str = "not stated"


ENGLISH = GateWords()


def training_words(card: ModelCard, words: GateWords = ENGLISH) -> str:
    """The model's training data in a few words, for the on-screen line."""
    text = (card.training_data or "").strip()
    if text.upper().startswith("SIMULATED"):
        return words.simulated
    if text.upper().startswith("REAL"):
        rest = text.split(":", 1)[1].strip() if ":" in text else ""
        first = rest.split("(")[0].split(";")[0].strip().rstrip(".")
        return words.real_of.replace("%1", first) if first else words.real
    return (text.split(".")[0][:60]) or words.not_stated


def _drawable(lines: list[str]) -> bool:
    return all(can_draw(t) for t in lines)


def gate_lines(card: ModelCard, words: GateWords = ENGLISH) -> list[str]:
    """What replaces the overlay on a picture unlike the training data; in English when no
    font can draw the translation."""
    lines = [words.hidden, words.trained_on.replace("%1", training_words(card, words))]
    return lines if words is ENGLISH or _drawable(lines) else gate_lines(card)


def mark_line(words: GateWords = ENGLISH) -> str:
    """The mark on an overlay shown anyway on a picture unlike the training data."""
    return words.shown_anyway if _drawable([words.shown_anyway]) else ENGLISH.shown_anyway


def draw_lines(image: np.ndarray, lines: list[str], y_frac: float = 0.86) -> np.ndarray:
    """Centred white lines with a dark halo, scaled to fit the picture's width (in place):
    OpenCV's font for ASCII, a TrueType font (:mod:`.text`) for other scripts."""
    if not all(t.isascii() for t in lines):
        if _drawable(lines):
            return _draw_font_lines(image, lines, y_frac)
        lines = [ascii_fold(t) for t in lines]  # no font has them: never a line left out
    h, w = image.shape[:2]
    font = HERSHEY
    widest = max(cv2.getTextSize(t, font, 1.0, 1)[0][0] for t in lines)
    fs = max(0.3, min(h / 900, 0.92 * w / max(widest, 1)))
    th = max(1, int(round(fs * 1.5)))
    step = int(cv2.getTextSize("Ag", font, fs, th)[0][1] * 1.8)
    y = int(min(h * y_frac, h - 6 - step * (len(lines) - 1)))
    for i, text in enumerate(lines):
        tw = cv2.getTextSize(text, font, fs, th)[0][0]
        put_halo_text(image, text, (max(2, (w - tw) // 2), y + i * step), fs, th)
    return image


def _draw_font_lines(image: np.ndarray, lines: list[str], y_frac: float) -> np.ndarray:
    h, w = image.shape[:2]
    probe = 40  # the size the widths are measured at; the lines are then scaled to fit
    widest = max(text_width(t, probe) for t in lines) or 1
    px = int(max(10, min(h / 900 * 34, probe * 0.92 * w / widest)))
    step = int(px * 1.5)
    y = int(min(h * y_frac, h - 6 - step * (len(lines) - 1))) - px // 3
    for i, text in enumerate(lines):
        draw_text_px(image, text, w // 2, y + i * step, px)
    return image


def draw_gate_line(rgb: np.ndarray, card: ModelCard, words: GateWords = ENGLISH) -> np.ndarray:
    """A copy of the plain picture with :func:`gate_lines` near its bottom edge."""
    return draw_lines(np.ascontiguousarray(rgb).copy(), gate_lines(card, words))


def draw_mark(image: np.ndarray, words: GateWords = ENGLISH) -> np.ndarray:
    """:func:`mark_line` near the bottom edge of an overlay shown anyway (in place)."""
    return draw_lines(image, [mark_line(words)], 0.95)
