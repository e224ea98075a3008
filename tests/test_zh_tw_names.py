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
