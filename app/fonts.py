"""Is there a font for the chosen language? Without one, Qt draws every character as a box."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics

# text of each translation that only a font of its script can show, and where to get one
SAMPLES = {"zh_TW": "床邊教學回顧非診斷用途肝臟腎臟"}
WRITING_SYSTEMS = {"zh_TW": QFontDatabase.WritingSystem.TraditionalChinese}
FONT_PACKAGES = (
    "fonts-noto-cjk on Debian or Ubuntu, google-noto-sans-cjk-tc-fonts on Fedora, "
    "noto-fonts-cjk on Arch; Windows and macOS have one built in"
)


def font_covers(text: str, candidates: list[str] | None = None) -> bool:
    """True when one installed font family has a glyph for every character of ``text``.

    ``candidates`` are the families to try (default: all); a family's claim to a writing
    system is not trusted, each glyph is checked."""
    families = candidates if candidates is not None else QFontDatabase.families()
    for family in families:
        metrics = QFontMetrics(QFont(family))
        if all(metrics.inFontUcs4(ord(ch)) for ch in text if not ch.isspace()):
            return True
    return False


def missing_font_message(lang: str | None) -> str | None:
    """A plain message when no installed font can show ``lang``; None when one can."""
    if not lang or lang not in SAMPLES:
        return None
    families = QFontDatabase.families(WRITING_SYSTEMS[lang])
    if families and font_covers(SAMPLES[lang], families):
        return None
    return (
        f"No installed font can show {lang} text, so the window stays in English. "
        f"Install a CJK font ({FONT_PACKAGES}) and start SonoLive again."
    )
