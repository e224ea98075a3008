"""Traditional Chinese (zh_TW) loads from the shipped .qm and reaches the window's strings."""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import PropertyMock, patch

from PySide6.QtCore import QCoreApplication, QTranslator

APP = Path(__file__).resolve().parent.parent / "app"
TS = Path(__file__).resolve().parent.parent / "resources" / "translations" / "sonolive_zh_TW.ts"
QM = TS.with_suffix(".qm")

# What may stay as written in zh_TW: units, abbreviations and names (after "&" is dropped)
KEEP = re.compile(r"A–B|\b(?:fps|ms|px|s|p50|p95|CAM|ROI|REC|DICOM|SonoLive|A|B)\b")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _helper_context(tree: ast.Module) -> str | None:
    """The context a module's ``_tr(text)`` helper passes to ``QCoreApplication.translate``."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "_tr":
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call) and getattr(sub.func, "attr", "") == "translate":
                    return _literal(sub.args[0])
    return None


def marked_strings(app: Path = APP) -> list[tuple[str, str, str]]:
    """``(context, source, "file:line")`` of every string app/ marks for translation:
    ``self.tr("…")`` and ``QT_TR_NOOP("…")`` (the class's context),
    ``QCoreApplication.translate("Context", "…")`` and ``QT_TRANSLATE_NOOP`` (also through a
    local ``tr = QCoreApplication.translate``), and a module's ``_tr("…")`` helper."""
    found: list[tuple[str, str, str]] = []

    def visit(node: ast.AST, cls: str | None, helper: str | None, where: str) -> None:
        for ch in ast.iter_child_nodes(node):
            if isinstance(ch, ast.Call) and ch.args:
                f = ch.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
                on_self = isinstance(f, ast.Attribute) and getattr(f.value, "id", "") == "self"
                first = _literal(ch.args[0])
                second = _literal(ch.args[1]) if len(ch.args) > 1 else None
                at = f"{where}:{ch.lineno}"
                if ((name == "tr" and on_self) or name == "QT_TR_NOOP") and first is not None:
                    found.append((cls or "", first, at))
                elif name in ("translate", "tr", "QT_TRANSLATE_NOOP") and None not in (
                    first,
                    second,
                ):
                    found.append((first, second, at))
                elif name == "_tr" and helper is not None and first is not None:
                    found.append((helper, first, at))
            visit(ch, ch.name if isinstance(ch, ast.ClassDef) else cls, helper, where)

    for f in sorted(app.rglob("*.py")):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        visit(tree, None, _helper_context(tree), str(f.relative_to(app.parent)))
    return found


def _ts_messages() -> dict[tuple[str, str], str]:
    out = {}
    for ctx in ET.parse(TS).getroot().iter("context"):
        name = ctx.findtext("name")
        for m in ctx.iter("message"):
            out[(name, m.findtext("source"))] = m.findtext("translation") or ""
    return out


def test_translation_file_is_complete():
    text = TS.read_text(encoding="utf-8")
    assert text.count("<message>") >= 90
    assert 'type="unfinished"' not in text


def test_every_marked_string_has_a_zh_tw_translation():
    """Each string app/ marks for translation is in the .ts, translated, and in the .qm."""
    qm = QTranslator()
    assert qm.load(str(QM))
    ts = _ts_messages()
    strings = marked_strings()
    assert len(strings) > 150  # the walk found the app's strings
    missing = sorted(
        {
            f"{at} [{c}] {s!r}"
            for c, s, at in strings
            if not ts.get((c, s)) or not qm.translate(c, s)
        }
    )
    assert not missing, "no zh_TW translation:\n" + "\n".join(missing)


def test_compiled_qm_matches_the_ts():
    """sonolive_zh_TW.qm was compiled (pyside6-lrelease) from the .ts as it is now."""
    qm = QTranslator()
    assert qm.load(str(QM))
    stale = [(c, s) for (c, s), t in _ts_messages().items() if qm.translate(c, s) != t]
    assert not stale, stale


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


def _shown_texts(win) -> list[tuple[str, str]]:
    """``(where, text)`` of what the window shows in zh_TW: menus and their actions, the
    toolbars, the docks (Review panel, overlay, legend, CAM), the status line, the
    training-data gauges in each state and the pickers' own entries."""
    from PySide6.QtWidgets import (
        QAbstractButton,
        QDockWidget,
        QLabel,
        QMenu,
        QProgressBar,
        QToolBar,
    )
    from sonolive.app.review.controller import format_position

    out: list[tuple[str, str]] = [("window title", win.windowTitle())]

    def action(where: str, a) -> None:
        if a.isSeparator():
            return
        out.extend([(where, a.text()), (f"{where} tooltip", a.toolTip())])
        if a.menu() is not None:
            menu(f"{where} →", a.menu())

    def menu(where: str, m: QMenu) -> None:
        out.append((f"{where} menu", m.title()))
        for a in m.actions():
            action(f"{where} {m.title()}", a)

    def widgets(where: str, parent) -> None:
        for w in parent.findChildren(QLabel):
            out.extend([(f"{where} label", w.text()), (f"{where} label tooltip", w.toolTip())])
        for w in parent.findChildren(QAbstractButton):
            if not w.objectName().startswith("qt_"):  # Qt's own dock and toolbar buttons
                out.extend([(f"{where} button", w.text()), (f"{where} tooltip", w.toolTip())])
        for w in parent.findChildren(QProgressBar):
            out.extend([(f"{where} gauge", w.format()), (f"{where} gauge tooltip", w.toolTip())])

    for a in win.menuBar().actions():
        action("menu bar", a)
    for tb in win.findChildren(QToolBar):
        out.append(("toolbar", tb.windowTitle()))
        for a in tb.actions():
            action(f"toolbar {tb.objectName()}", a)
        widgets(f"toolbar {tb.objectName()}", tb)
    for d in win.findChildren(QDockWidget):
        out.append(("dock", d.windowTitle()))
        widgets(f"dock {d.objectName()}", d)
    widgets("status line", win.status_line)
    out.append(("model picker", win.model_picker.itemText(0)))  # the rest are model names
    for data in ("phantom", "__open_file__", "__open_url__"):
        out.append(("input picker", win.source_picker.itemText(win.source_picker.findData(data))))
    win.cam_panel.set_card(None, [])  # as after a model change
    out.append(("CAM organ", win.cam_panel.organ.itemText(0)))
    out.append(("review position", format_position(0, 0, 0.0)))
    out.append(("review position", format_position(4, 120, 75.5)))

    # the training-data check: the gauges and their tooltips, as a frame shows them
    # (a model with the feature distance, and one whose check uses the statistics only)
    # the pipeline's segmenter is read-only: stand the model in for it while the gauges show
    cases = ((0.4, False, False), (2.0, True, False), (2.0, True, True))
    with patch.object(type(win.pipeline), "segmenter", new_callable=PropertyMock) as seg:
        for deep in (object(), None):
            ref = SimpleNamespace(threshold=1.0, deep=deep)
            seg.return_value = SimpleNamespace(
                reference=ref, reference_note=None, ood_features=SimpleNamespace(visible=True)
            )
            for score, hidden, anyway in cases:
                s = SimpleNamespace(ood_score=score, in_distribution=score < 1.0)
                win.ood.show(SimpleNamespace(seg=s, ood_hidden=hidden, ood_shown_anyway=anyway))
                for g in (win.ood.gauge, win.ood.legend_gauge):
                    out.extend([("gauge", g.format()), ("gauge tooltip", g.toolTip())])
    out.append(("legend", win.ood.legend_label.text()))
    return [(where, text) for where, text in out if text.strip()]


def test_no_window_text_is_left_in_english(qtbot, settings):
    """Every text of the window, in zh_TW, is in Chinese, but for units and names (KEEP)."""
    from sonolive.app.gui import install_translator
    from sonolive.app.main_window import MainWindow

    app = QCoreApplication.instance()
    tr = install_translator(app, "zh_TW")
    assert tr is not None
    try:
        win = MainWindow(source=None, model=None, settings=settings, device="cpu", mode="teaching")
        qtbot.addWidget(win)
        shown = _shown_texts(win)
        win.close()
    finally:
        app.removeTranslator(tr)
    assert len(shown) > 60
    english = [
        f"{where}: {text!r}"
        for where, text in shown
        if not CJK.search(text) and re.search("[A-Za-z]", KEEP.sub("", text.replace("&", "")))
    ]
    assert not english, "left in English:\n" + "\n".join(english)


def test_qts_own_buttons_follow_the_language(qtbot):
    """OK/Cancel and Yes/No (the ROI dialog, the TorchScript question) come from Qt's own
    translation, which PySide6 ships; the app loads it beside its own."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QDialogButtonBox
    from sonolive.app.gui import install_qt_translator

    app = QCoreApplication.instance()
    tr = install_qt_translator(app, "zh_TW")
    assert tr is not None, "PySide6 ships qtbase_zh_TW.qm"
    try:
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        qtbot.addWidget(buttons)
        assert sorted(b.text() for b in buttons.buttons()) == sorted(["確定", "取消"])
    finally:
        app.removeTranslator(tr)
    assert install_qt_translator(app, "xx") is None
