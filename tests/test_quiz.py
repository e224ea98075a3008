"""The tracing quiz driven like a student: lasso a known square over a known reference; the
Dice is checked against a value computed by hand; the session is saved as CSV and JSON."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from test_annotate import _drag


@pytest.fixture
def classes():
    from sonolive.models.card import ModelCard
    from sonolive.models.registry import find_model

    return ModelCard.load(find_model("nerve-vessel")).classes


def _item(kind="dataset"):
    from sonolive.inference.tools.quiz import QuizItem

    img = np.full((100, 100, 3), 90, np.uint8)
    ref = np.zeros((100, 100), bool)
    ref[20:60, 20:60] = True  # 40 x 40 = 1600 pixels
    return QuizItem(img, ref, "nerve", "Nerve", kind, "clip.mp4 #3")


def test_quiz_session_dice_hand_computed(qtbot, tmp_path, classes):
    from sonolive.app.quiz.window import QuizWindow
    from sonolive.inference.tools.quiz import AGREED, EXTRA, MISSED, QuizSession

    session = QuizSession([_item("dataset"), _item("model")])
    win = QuizWindow(session, classes)
    qtbot.addWidget(win)
    win.canvas.setFixedSize(300, 300)  # 3 widget pixels per image pixel
    win.show()
    qtbot.waitExposed(win)
    assert "Nerve" in win.task.text() and "dataset" in win.reference_note.text()
    qtbot.keyClicks(win.student, "Ann")
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key.Key_L)
    # a lasso square with corners (30,30) and (69,69): fillPoly fills 40 x 40 = 1600 pixels,
    # 30 x 30 = 900 of them inside the reference. Dice = 2 * 900 / (1600 + 1600) = 0.5625.
    _drag(qtbot, win.canvas, [(30, 30), (69, 30), (69, 69), (30, 69)])
    assert int(win.traced().sum()) == 1600
    with qtbot.waitSignal(win.submitted) as sub:
        win.submit_button.click()
    rec = sub.args[0]
    assert rec.dice == pytest.approx(0.5625)
    assert (rec.traced_pixels, rec.reference_pixels, rec.agreed_pixels) == (1600, 1600, 900)
    assert win.score.text() == "Dice 0.56"
    pic = win.last_overlap
    assert pic[45, 45, 1] > max(pic[45, 45, 0], pic[45, 45, 2])  # agreed: green
    assert pic[25, 25, 2] > max(pic[25, 25, 0], pic[25, 25, 1])  # missed: blue
    assert pic[65, 65, 0] > pic[65, 65, 2]  # extra: red
    assert tuple(pic[20, 40]) == (255, 255, 255)  # the reference outline
    assert AGREED != MISSED != EXTRA
    assert not win.overlap.pixmap().isNull()

    # frame 2: reference is the model's mask, and it says so; the student brushes nothing
    win.next_button.click()
    assert "MODEL" in win.reference_note.text()
    win.submit_button.click()
    assert session.records[-1].dice == 0.0
    # a second student, one perfect lasso on frame 1
    win.show_item(0)
    win.student.clear()
    qtbot.keyClicks(win.student, "Ben")
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key.Key_L)
    _drag(qtbot, win.canvas, [(20, 20), (59, 20), (59, 59), (20, 59)])
    win.submit_button.click()
    assert session.records[-1].dice == 1.0
    table = session.table()
    assert table["Ann"]["mean"] == pytest.approx((0.5625 + 0.0) / 2, abs=1e-4)
    assert table["Ben"]["n"] == 1
    assert win.table.rowCount() == 2

    win.show_presenter()
    assert win.presenter.isVisible() and win.presenter.item(0, 2).text() == "0.28"
    csv_path, json_path = win.save(tmp_path / "quiz")
    rows = list(csv.DictReader(csv_path.open()))
    assert [(r["student"], r["item"], r["dice"]) for r in rows] == [
        ("Ann", "1", "0.5625"),
        ("Ann", "2", "0.0"),
        ("Ben", "1", "1.0"),
    ]
    doc = json.loads(json_path.read_text())
    assert doc["items"][1]["reference"] == "model"
    assert doc["table"]["Ben"]["mean"] == 1.0
    win.close()


def test_quiz_items_from_a_dataset_folder(tmp_path):
    from sonolive.inference.tools.quiz import items_from_dataset
    from sonolive.models.datasets import DataError, read_mask
    from test_annotate_dataset import _make

    _make(tmp_path / "ds", {"a.mp4": 2, "b.mp4": 1})
    items = items_from_dataset(tmp_path / "ds", organ="vessel")
    assert len(items) == 3 and all(it.reference_kind == "dataset" for it in items)
    first = sorted((tmp_path / "ds" / "masks").glob("*.png"))[0]
    np.testing.assert_array_equal(items[0].reference, read_mask(first) == 2)
    with pytest.raises(DataError, match="no class called 'liver'"):
        items_from_dataset(tmp_path / "ds", organ="liver")


def test_quiz_organ_chosen_from_a_dataset_frame(qtbot, tmp_path, classes):
    from sonolive.app.quiz.window import QuizWindow
    from sonolive.inference.tools.quiz import QuizSession, items_from_dataset
    from sonolive.models.datasets import read_mask
    from test_annotate_dataset import _make

    _make(tmp_path / "ds", {"a.mp4": 1})
    items = items_from_dataset(tmp_path / "ds")  # the app names each frame's largest organ
    mask = read_mask(next((tmp_path / "ds" / "masks").glob("*.png")))
    win = QuizWindow(QuizSession(items), classes)
    qtbot.addWidget(win)
    win.show()
    other = "vessel" if items[0].organ == "nerve" else "nerve"
    key = Qt.Key.Key_Down if win.organ.findData(other) > win.organ.currentIndex() else Qt.Key.Key_Up
    qtbot.keyClick(win.organ, key)  # the teacher picks the other organ with the keyboard
    assert win.organ.currentData() == other
    assert items[0].organ == other and other.capitalize() in win.task.text()
    k = [c.name for c in classes].index(other)
    np.testing.assert_array_equal(items[0].reference, mask == k)
    assert win.canvas.current_class == k


def test_quiz_two_students_by_clicks_each_gets_only_their_own_trace(qtbot, tmp_path, classes):
    """Alice and Bob take turns at one frame, with the mouse: the tool buttons, a click into
    the canvas that only focuses it (no dot), a lasso, Submit; Bob's new name clears Alice's
    trace. Each row of the saved CSV is that student's own tracing; the projector's results
    window shows every column, Mean too."""
    from PySide6.QtWidgets import QAbstractItemView
    from sonolive.app.quiz.window import QuizWindow
    from sonolive.inference.tools.quiz import QuizSession

    session = QuizSession([_item("dataset")])
    win = QuizWindow(session, classes)
    qtbot.addWidget(win)
    win.canvas.setFixedSize(300, 300)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    canvas = win.canvas

    qtbot.mouseClick(win.student, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(win.student, "Alice")
    assert win.student.hasFocus()
    qtbot.mouseClick(win.tool_buttons["lasso"], Qt.MouseButton.LeftButton)
    assert canvas.tool == "lasso" and win.student.hasFocus()  # the buttons take no focus
    qtbot.mouseClick(win.tool_buttons["brush"], Qt.MouseButton.LeftButton)
    assert canvas.tool == "brush"
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.to_widget(50, 50).toPoint())
    assert canvas.hasFocus()
    assert not canvas.mask.any() and canvas.strokes == 0  # the focus click painted no dot
    qtbot.mouseClick(win.tool_buttons["lasso"], Qt.MouseButton.LeftButton)
    _drag(qtbot, canvas, [(20, 20), (59, 20), (59, 59), (20, 59)])  # exactly the reference
    with qtbot.waitSignal(win.submitted) as sub:
        qtbot.mouseClick(win.submit_button, Qt.MouseButton.LeftButton)
    assert sub.args[0].student == "Alice" and sub.args[0].dice == 1.0

    # Bob takes the seat: a new name, a clean canvas; the eraser button does nothing on it
    qtbot.mouseClick(win.student, Qt.MouseButton.LeftButton)
    qtbot.keyClick(win.student, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(win.student, "Bob")
    assert not canvas.mask.any() and canvas.strokes == 0
    assert "New student" in win.score.text()
    qtbot.mouseClick(win.tool_buttons["lasso"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.to_widget(80, 80).toPoint())
    assert not canvas.mask.any()  # the focus click again: nothing
    _drag(qtbot, canvas, [(30, 30), (69, 30), (69, 69), (30, 69)])
    with qtbot.waitSignal(win.submitted) as sub:
        qtbot.mouseClick(win.submit_button, Qt.MouseButton.LeftButton)
    bob = sub.args[0]
    assert bob.student == "Bob" and bob.dice == pytest.approx(0.5625)
    assert bob.traced_pixels == 1600 and bob.strokes == 1

    csv_path, _json = win.save(tmp_path / "quiz")
    rows = {r["student"]: r for r in csv.DictReader(csv_path.open(encoding="utf-8"))}
    assert set(rows) == {"Alice", "Bob"}
    assert (rows["Alice"]["dice"], rows["Bob"]["dice"]) == ("1.0", "0.5625")
    assert rows["Alice"]["traced_pixels"] == rows["Bob"]["traced_pixels"] == "1600"
    assert rows["Alice"]["agreed_pixels"] != rows["Bob"]["agreed_pixels"]

    qtbot.mouseClick(win.presenter_button, Qt.MouseButton.LeftButton)
    table = win.presenter
    qtbot.waitExposed(table)
    assert table.columnCount() == 2 and table.horizontalHeaderItem(1).text() == "Mean Dice"
    assert table.horizontalScrollBar().maximum() == 0 and table.verticalScrollBar().maximum() == 0
    for c in range(table.columnCount()):
        right = table.columnViewportPosition(c) + table.columnWidth(c)
        assert right <= table.viewport().width(), (c, right, table.viewport().width())
    assert table.item(1, 1).text() == "0.56"
    assert table.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    win.close()
