"""Traditional Chinese reaches the organ names drawn on the image and the source names, and
a machine without a CJK font is told which font to install instead of showing boxes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication


@pytest.fixture
def zh_tw():
    from sonolive.app.gui import install_translator

    app = QCoreApplication.instance()
    tr = install_translator(app, "zh_TW")
    assert tr is not None
    yield
    app.removeTranslator(tr)


def test_organ_and_source_names_are_translated(qtbot, settings, zh_tw):
    from sonolive.app.main_window import MainWindow

    win = MainWindow(
        source="phantom", model="fast-lite", settings=settings, device="cpu", mode="teaching",
        backend="torch",
    )  # fmt: skip
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.card is not None, timeout=30000)
    assert [c.display for c in win.card.classes][1:3] == ["肝臟", "腎臟"]
    assert "游離液體" in win.pipeline.overlay.display  # the names drawn on the image
    qtbot.waitUntil(lambda: win.last_result is not None, timeout=20000)
    assert win.status_line.source_label.text() == "模擬掃描器（FAST）"
    win.close()
    from sonolive.models.card import ModelCard
    from sonolive.models.registry import find_model

    assert ModelCard.load(find_model("fast-lite")).classes[1].display == "Liver"  # disk: as is


def test_clip_names_are_translated(zh_tw):
    from sonolive.app.localize import source_name

    assert source_name("Clip exam.mp4 (60 frames, 30 fps)") == "影片 exam.mp4（60 幀，30 fps）"
    assert source_name("USB Capture HDMI - 1920x1080") == "USB Capture HDMI - 1920x1080"


def test_text_no_font_covers_is_detected(qtbot):
    from sonolive.app.fonts import font_covers

    assert font_covers("Liver")
    assert not font_covers("\U0010fff0\U0010fff1")  # private-use: no font has these


def test_missing_cjk_font_names_the_package(qtbot):
    from sonolive.app.fonts import font_covers, missing_font_message

    msg = missing_font_message("zh_TW")
    assert (msg is None) == font_covers("床邊肝臟")  # this machine's fonts decide
    # as on a machine without a CJK font: text that no installed font can draw
    msg = missing_font_message("zh_TW", text="\U0010fff0\U0010fff1")
    assert msg is not None and "\n" not in msg
    assert "fonts-noto-cjk" in msg and "stays in English" in msg
    assert missing_font_message("en") is None


# ---- organ names drawn on the picture (OpenCV's own font has ASCII only) --------------------
def _zh_texts(context: str) -> dict[str, str]:
    """English source -> zh_TW translation of one context of the shipped translation."""
    import xml.etree.ElementTree as ET
    from pathlib import Path

    import sonolive.resources

    ts = Path(sonolive.resources.__file__).parent / "translations" / "sonolive_zh_TW.ts"
    for ctx in ET.parse(ts).getroot():
        if ctx.findtext("name") == context:
            return {m.findtext("source"): m.findtext("translation") for m in ctx.findall("message")}
    raise AssertionError(f"no {context} context in the translation")


def _zh_organ_names() -> list[str]:
    return [t for s, t in _zh_texts("LegendPanel").items() if s != "Legend"]


@pytest.fixture
def fonts(monkeypatch):
    """Choose the fonts the picture's text may use; the caches forget them afterwards."""
    from sonolive.inference import text

    def use(*paths: str) -> None:
        monkeypatch.setattr(text, "font_candidates", lambda: tuple(paths))
        text.font_for.cache_clear()

    yield use
    text.font_for.cache_clear()


def test_shipped_font_draws_every_translated_organ_name(fonts):
    """On a machine with no CJK font (CI), the shipped subset still draws each name: every
    character its own glyph, not the '?' OpenCV draws, nor one 'missing' box for all."""
    import numpy as np
    from sonolive.inference import text

    fonts(str(text.SHIPPED_FONT))
    names = _zh_organ_names()
    assert len(names) >= 8 and all(not n.isascii() for n in names)

    def drawn(s: str) -> np.ndarray:
        img = np.full((480, 640, 3), 60, np.uint8)
        text.draw_text(img, s, 320, 240, 1.0)
        return img

    pictures = {}
    for name in names:
        assert text.can_draw(name), f"the shipped font lacks a character of {name}"
        img = drawn(name)
        assert (img > 200).any(), f"{name} drew nothing"
        pictures[name] = img
    # OpenCV drew every one as "??", a font without the glyphs as one box each
    assert not np.array_equal(pictures["肝臟"], pictures["腎臟"]), "the same picture for two"
    assert not text.can_draw("肺臟\U0010fff0"), "a character no font has"
    assert not text.can_draw("L4 神經"), "the subset has no Latin letters: mixed text falls back"


def test_without_a_font_the_overlay_draws_the_english_name(fonts):
    import dataclasses

    from sonolive.inference.overlay import Overlay
    from sonolive.models.card import ModelCard
    from sonolive.models.registry import find_model

    card = ModelCard.load(find_model("fast-lite"))
    zh = dict(zip(["Liver", "Kidney"], ["肝臟", "腎臟"], strict=True))
    card = dataclasses.replace(
        card,
        classes=[
            dataclasses.replace(c, display=zh.get(c.display, c.display)) for c in card.classes
        ],
    )
    fonts()  # no font at all
    assert Overlay(card).display[1:3] == ["Liver", "Kidney"]
    from sonolive.inference import text

    fonts(str(text.SHIPPED_FONT))
    assert Overlay(card).display[1:3] == ["肝臟", "腎臟"]


def test_training_data_lines_on_the_picture_are_in_the_users_language(fonts, zh_tw):
    """The safety line that replaces the overlay is drawn in zh_TW with the shipped font (as
    on CI), and in English where no font can draw it: never as '?' marks."""
    import dataclasses

    import numpy as np
    from sonolive.app.localize import translated_gate_words
    from sonolive.inference import text
    from sonolive.inference.gate.marks import ENGLISH, draw_gate_line, gate_lines, mark_line
    from sonolive.models.card import ModelCard
    from sonolive.models.registry import find_model

    card = ModelCard.load(find_model("fast-lite"))  # trained on simulated images
    words = translated_gate_words()
    zh = _zh_texts("GateLines")
    assert set(zh) == {f.default for f in dataclasses.fields(type(ENGLISH))}
    fonts(str(text.SHIPPED_FONT))
    for line in zh.values():
        assert text.can_draw(line.replace("%1", "")), f"the shipped font lacks part of {line}"
    lines = gate_lines(card, words)
    assert lines == [zh[ENGLISH.hidden], "（訓練資料：模擬影像）"]
    assert mark_line(words) == zh[ENGLISH.shown_anyway]
    picture = np.full((540, 960, 3), 40, np.uint8)
    drawn = draw_gate_line(picture, card, words)
    assert (drawn > 200).sum() > 500, "the lines drew nothing"
    assert not np.array_equal(drawn, draw_gate_line(picture, card)), "drawn in English"
    fonts()  # no font can draw Chinese: the same lines in English
    assert gate_lines(card, words) == gate_lines(card) and mark_line(words) == ENGLISH.shown_anyway


def test_training_data_lines_never_vanish_for_want_of_a_font(fonts):
    """A card whose training data has an accent ("Hôpital") makes the line non-ASCII; with no
    font for it (here none at all, or the shipped CJK subset without Latin letters) the lines
    are still drawn, folded to ASCII, and never left out."""
    import dataclasses

    import numpy as np
    from sonolive.inference import text
    from sonolive.inference.gate.marks import draw_gate_line, draw_mark, gate_lines
    from sonolive.models.card import ModelCard
    from sonolive.models.registry import find_model

    card = dataclasses.replace(
        ModelCard.load(find_model("fast-lite")), training_data="REAL: Hôpital Necker (Paris)"
    )
    assert gate_lines(card)[1] == "(trained on real images: Hôpital Necker)"
    picture = np.full((540, 960, 3), 40, np.uint8)
    for chosen in ((), (str(text.SHIPPED_FONT),)):
        fonts(*chosen)
        drawn = draw_gate_line(picture, card)
        assert (drawn[270:] > 200).sum() > 2000, f"the lines vanished with fonts {chosen}"
        assert (draw_mark(picture.copy()) > 200).sum() > 500
    assert text.ascii_fold("Hôpital Zürich 肝") == "Hopital Zurich ?"
