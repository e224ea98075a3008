"""Traditional Chinese (zh_TW) loads from the shipped .qm and reaches the window's strings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication

TS = Path(__file__).resolve().parent.parent / "resources" / "translations" / "sonolive_zh_TW.ts"


def test_translation_file_is_complete():
    text = TS.read_text(encoding="utf-8")
    assert text.count("<message>") >= 90
    assert 'type="unfinished"' not in text


def test_window_speaks_traditional_chinese(qtbot, settings):
    from sonolive.app.gui import install_translator
    from sonolive.app.main_window import MainWindow

    app = QCoreApplication.instance()
    tr = install_translator(app, "zh_TW")
    assert tr is not None, "the compiled sonolive_zh_TW.qm should ship with the app"
    try:
        win = MainWindow(source=None, model=None, settings=settings, device="cpu", mode="bedside")
        qtbot.addWidget(win)
        assert "非診斷用途" in win.view.marks
        assert win.mode_actions["bedside"].text() == "床邊"
        assert win.status_line.diagnostic_label.text() == "非診斷用途"
        win.close()
    finally:
        app.removeTranslator(tr)
