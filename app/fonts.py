"""Is there a font for the chosen language? Without one, Qt draws every character as a box."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontMetrics

# text of each translation that only a font of its script can show, and where to get one
SAMPLES = {"zh_TW": "床邊教學回顧非診斷用途肝臟腎臟"}
FONT_PACKAGES = (
    "fonts-noto-cjk on Debian or Ubuntu, google-noto-sans-cjk-tc-fonts on Fedora, "
    "noto-fonts-cjk on Arch; Windows and macOS have one built in"
)


def font_covers(text: str) -> bool:
    """True when Qt can draw every character of ``text`` with some installed font.

    ``QFontMetrics.inFontUcs4`` asks the font engine for the character's script, which
    includes Qt's fallback fonts: exactly what the window would draw with."""
    metrics = QFontMetrics(QFont())
    return all(metrics.inFontUcs4(ord(ch)) for ch in text if not ch.isspace())


def missing_font_message(lang: str | None, text: str | None = None) -> str | None:
    """A plain message when no installed font can show ``lang`` (its sample ``text``);
    None when one can, or for a language that needs no special font."""
    if not lang or lang not in SAMPLES:
        return None
    if font_covers(text if text is not None else SAMPLES[lang]):
        return None
    return (
        f"No installed font can show {lang} text, so the window stays in English. "
        f"Install a CJK font ({FONT_PACKAGES}) and start SonoLive again."
    )
