"""The annotate tool driven like a user: paint, erase, undo, lasso, model pre-fill, save,
then the PNGs on disk are compared pixel by pixel; reopen and edit again."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

SAMPLE = Path(__file__).resolve().parents[1] / "resources/samples/usgra-seg-sample"
SIZE = 160  # image pixels; the canvas is exactly twice that, so the mapping is exact


@pytest.fixture(scope="module")
def nerve_model():
    from sonolive.inference.backends import make_segmenter

    return make_segmenter("nerve-vessel", device="cpu", backend="torch")


@pytest.fixture(scope="module")
def frame_image():
    grey = np.asarray(Image.open(SAMPLE / "images/0000.png").convert("L"))
    grey = cv2.resize(grey, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return np.dstack([grey] * 3)


def _panel(qtbot, model, image, prediction=None):
    from sonolive.app.annotate.panel import AnnotatePanel, FrameContext

    panel = AnnotatePanel(model.card.classes, annotator="Dr Test")
    qtbot.addWidget(panel)
    panel.canvas.setFixedSize(2 * SIZE, 2 * SIZE)
    panel.show()
    qtbot.waitExposed(panel)
    ctx = FrameContext(
        source="/secret/patient/exam 7.mp4",
        index=12,
        timestamp=0.4,
        roi=(10, 20, SIZE, SIZE),
        prediction=prediction,
        model_name="nerve-vessel",
    )
    panel.set_frame(image, ctx)
    return panel


def _drag(qtbot, canvas, points):
    pos = [canvas.to_widget(x, y).toPoint() for x, y in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=pos[0])
    for p in pos[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=pos[-1])


def _wheel(canvas, clicks):
    centre = QPointF(canvas.width() / 2, canvas.height() / 2)
    ev = QWheelEvent(
        centre,
        canvas.mapToGlobal(centre),
        QPoint(0, 0),
        QPoint(0, 120 * clicks),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas, ev)


def _stroke(mask, points, r, value):
    """What a brush stroke should paint, computed with plain OpenCV calls."""
    cv2.circle(mask, points[0], r, value, -1)
    for a, b in zip(points, points[1:], strict=False):
        cv2.line(mask, a, b, value, 2 * r + 1)
        cv2.circle(mask, b, r, value, -1)


def test_annotate_paint_erase_undo_prefill_save_reopen(qtbot, tmp_path, nerve_model, frame_image):
    pred = nerve_model.segment_pixels(frame_image).labels  # the real forward pass
    assert pred.shape == (SIZE, SIZE) and pred.max() > 0, "the model should find something"
    panel = _panel(qtbot, nerve_model, frame_image, prediction=pred)
    canvas = panel.canvas
    canvas.setFocus()
    assert canvas.to_image(canvas.to_widget(37, 91)) == (37, 91)

    # brush size on the wheel: 6 -> 4
    _wheel(canvas, -2)
    assert canvas.radius == 4
    assert "9 px" in panel.size_label.text()
    expected = np.zeros((SIZE, SIZE), np.uint8)

    # paint class 1 (key 1), a horizontal stroke
    qtbot.keyClick(canvas, Qt.Key.Key_1)
    line = [(20, 30), (50, 30), (80, 30)]
    _drag(qtbot, canvas, line)
    _stroke(expected, line, 4, 1)
    np.testing.assert_array_equal(canvas.mask, expected)
    painted = expected.copy()

    # erase across the middle
    qtbot.keyClick(canvas, Qt.Key.Key_E)
    assert panel.tool_buttons["eraser"].isChecked()
    erase = [(50, 10), (50, 50)]
    _drag(qtbot, canvas, erase)
    _stroke(expected, erase, 4, 0)
    np.testing.assert_array_equal(canvas.mask, expected)
    assert (expected != painted).any()

    # undo brings the stroke back; redo erases again; undo once more
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(canvas.mask, painted)
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(canvas, Qt.Key.Key_Z, mods)
    np.testing.assert_array_equal(canvas.mask, expected)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(canvas.mask, painted)

    # a lasso of class 2 (key 2) filled on release
    qtbot.keyClick(canvas, Qt.Key.Key_2)
    qtbot.keyClick(canvas, Qt.Key.Key_L)
    tri = [(100, 100), (140, 100), (120, 140)]
    _drag(qtbot, canvas, tri)
    lasso = painted.copy()
    cv2.fillPoly(lasso, [np.array(tri, np.int32).reshape(-1, 1, 2)], 2)
    np.testing.assert_array_equal(canvas.mask, lasso)

    # hide labels, opacity: the picture changes, the mask does not
    qtbot.keyClick(canvas, Qt.Key.Key_H)
    assert panel.hide_labels.isChecked() is False or canvas.labels_hidden
    assert canvas.labels_hidden
    qtbot.keyClick(canvas, Qt.Key.Key_H)
    panel.opacity.setValue(80)
    assert canvas.overlay_rgba()[120, 120, 3] == round(0.8 * 255)
    np.testing.assert_array_equal(canvas.mask, lasso)

    # pre-fill from the model (key P), then correct it with one brush stroke of class 1
    qtbot.keyClick(canvas, Qt.Key.Key_P)
    np.testing.assert_array_equal(canvas.mask, pred)
    assert panel.prefilled
    qtbot.keyClick(canvas, Qt.Key.Key_B)
    qtbot.keyClick(canvas, Qt.Key.Key_1)
    fix = [(10, 150), (60, 150)]
    _drag(qtbot, canvas, fix)
    final = pred.copy()
    _stroke(final, fix, 4, 1)
    np.testing.assert_array_equal(canvas.mask, final)

    # save into a new dataset folder
    ds = tmp_path / "ds"
    with qtbot.waitSignal(panel.datasetChanged, timeout=10000):
        panel.set_dataset(ds)
    with qtbot.waitSignal(panel.saved, timeout=10000) as blocker:
        qtbot.keyClick(canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    name = blocker.args[0]
    assert name == "exam_7_f000012.png"
    img_disk = np.asarray(Image.open(ds / "images" / name).convert("RGB"))
    np.testing.assert_array_equal(img_disk, frame_image)
    with Image.open(ds / "masks" / name) as im:
        assert im.mode == "P"  # class indices, shown in the card's colours
        assert im.getpalette()[3:6] == list(nerve_model.card.classes[1].color)
        np.testing.assert_array_equal(np.asarray(im), final)
    edits = np.asarray(Image.open(ds / "edits" / name)) > 0
    np.testing.assert_array_equal(edits, final != pred)
    assert list(ds.glob("**/*.tmp")) == []
    man = json.loads((ds / "dataset.json").read_text())
    assert [c["name"] for c in man["classes"]] == nerve_model.card.class_names
    assert man["classes"][1]["color"] == list(nerve_model.card.classes[1].color)
    rec = man["images"][name]
    assert rec["source"] == "exam 7.mp4"  # the file name, never the full path
    assert "secret" not in (ds / "dataset.json").read_text()
    assert rec["frame_index"] == 12 and rec["timestamp"] == 0.4
    assert rec["roi"] == [10, 20, SIZE, SIZE]
    assert rec["annotator"] == "Dr Test"
    assert rec["prefilled"] is True and rec["prefill_model"] == "nerve-vessel"
    assert rec["changed_pixels"] == int((final != pred).sum())

    # the saved folder is what `sonolive train/eval --data` read
    from sonolive.models.datasets import folder_pairs, load_pairs, read_class_list

    imgs, masks = load_pairs(folder_pairs(ds))
    np.testing.assert_array_equal(masks[0], final)
    assert read_class_list(ds) == nerve_model.card.class_names

    # reopen on a fresh canvas, erase a stroke, save again
    panel.set_frame(np.zeros_like(frame_image), panel.context)
    panel.reopen(name)
    qtbot.waitUntil(lambda: np.array_equal(canvas.mask, final), timeout=10000)
    np.testing.assert_array_equal(canvas.image, frame_image)
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_E)
    wipe = [(10, 150), (30, 150)]
    _drag(qtbot, canvas, wipe)
    _stroke(final, wipe, 4, 0)
    np.testing.assert_array_equal(canvas.mask, final)
    with qtbot.waitSignal(panel.saved, timeout=10000):
        panel.save_button.click()
    np.testing.assert_array_equal(np.asarray(Image.open(ds / "masks" / name)), final)
    man = json.loads((ds / "dataset.json").read_text())
    assert len(man["images"]) == 1
    # still pre-filled: the changed pixels are counted against the model's mask, not the reopen
    assert man["images"][name]["prefilled"] is True
    np.testing.assert_array_equal(np.asarray(Image.open(ds / "prefill" / name)), pred)
    edits = np.asarray(Image.open(ds / "edits" / name)) > 0
    np.testing.assert_array_equal(edits, final != pred)
    panel.close_io()


def test_annotate_from_review_window_dataset_panel(qtbot, tmp_path, settings):
    """Review an image folder in the real window, press A, pre-fill from the model's mask of
    that very frame, save; the dataset panel lists it, jumps back to it and deletes it."""
    from sonolive.app.main_window import MainWindow
    from sonolive.capture.replay import ReplaySource

    ds = tmp_path / "hospital-set"
    settings.setValue("annotate/dataset", str(ds))
    settings.setValue("annotate/annotator", "Student A")
    blank = np.zeros((64, 64, 3), np.uint8)
    win = MainWindow(
        source=ReplaySource([blank], fps=30, name="live"),
        model="nerve-vessel",
        settings=settings,
        device="cpu",
        mode="review",
        backend="torch",
    )
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.pipeline.segmenter is not None, timeout=20000)
    with qtbot.waitSignal(win.review.opened, timeout=20000):
        win.open_clip(str(SAMPLE / "images"))
    win.review.seek(2)
    qtbot.waitUntil(
        lambda: (
            win.last_result is not None
            and win.last_result.frame.index == 2
            and win.last_result.seg is not None
        ),
        timeout=20000,
    )
    result = win.last_result
    win.activateWindow()
    qtbot.keyClick(win, Qt.Key.Key_A)
    qtbot.waitUntil(
        lambda: (
            win.annotate.annotate_window is not None and win.annotate.annotate_window.isVisible()
        )
    )
    aw = win.annotate.annotate_window
    canvas = aw.panel.canvas
    np.testing.assert_array_equal(canvas.image, result.frame.pixels)
    assert canvas.mask.max() == 0
    qtbot.keyClick(canvas, Qt.Key.Key_P)
    np.testing.assert_array_equal(canvas.mask, result.seg.labels)
    assert aw.panel.annotator.text() == "Student A"
    qtbot.waitUntil(lambda: aw.panel.store is not None, timeout=10000)
    assert aw.panel.store.folder == ds
    errors = []
    aw.panel.error.connect(errors.append)
    with qtbot.waitSignal(aw.datasets.listed, timeout=10000, check_params_cb=lambda n: n == 1):
        qtbot.keyClick(canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert errors == []
    item = aw.datasets.list.item(0)
    assert not item.icon().isNull()
    n_nerve = int((result.seg.labels == 1).sum())
    assert f"nerve {n_nerve}" in item.text()
    rec = json.loads((ds / "dataset.json").read_text())["images"]["0029_f000002.png"]
    assert rec["source"] == result.frame.source == "0029.png"
    assert rec["opened"] == "images" and rec["prefilled"] is True

    # jump back to the source frame from elsewhere
    win.review.seek(0)
    qtbot.waitUntil(lambda: win.review.index == 0, timeout=10000)
    aw.datasets.list.setCurrentRow(0)
    aw.datasets.jump_button.click()
    qtbot.waitUntil(lambda: win.review.index == 2, timeout=10000)

    # delete
    with qtbot.waitSignal(aw.datasets.listed, timeout=10000, check_params_cb=lambda n: n == 0):
        aw.datasets.delete_button.click()
    assert not (ds / "masks" / "0029_f000002.png").exists()

    # the same frame as a quiz, the model's mask as its reference (Teaching mode)
    win.review.seek(2)
    qtbot.waitUntil(lambda: win.last_result.frame.index == 2, timeout=10000)
    win.quiz.from_frame()
    quiz = win.quiz.quiz_window
    assert quiz is not None and win.mode == "teaching"
    item = quiz.session.items[0]
    assert item.reference_kind == "model" and "MODEL" in quiz.reference_note.text()
    k = [c.name for c in win.card.classes].index(item.organ)
    np.testing.assert_array_equal(item.reference, win.last_result.seg.labels == k)
    # a quiz from the dataset folder, read off the GUI thread; a broken folder is named
    with qtbot.waitSignal(win.quiz.loader.done, timeout=10000) as got:
        win.quiz.loader.load(tmp_path / "nowhere")
    assert (
        got.args[1]
        == f"{tmp_path / 'nowhere' / 'dataset.json'}: missing (not a SonoLive dataset folder)"
    )
    quiz.close()
    aw.panel.close_io()
    win.close()


def test_annotate_bad_dataset_folder_named(qtbot, tmp_path, nerve_model, frame_image):
    """A dataset of other classes, or unreadable dataset.json: one line naming the file."""
    from sonolive.models.card import ModelCard
    from sonolive.models.dataset_store import DatasetStore
    from sonolive.models.registry import find_model

    other = tmp_path / "fast-set"
    DatasetStore(other, ModelCard.load(find_model("fast-lite")).classes)
    panel = _panel(qtbot, nerve_model, frame_image)
    with qtbot.waitSignal(panel.error, timeout=10000) as err:
        panel.set_dataset(other)
    assert str(other / "dataset.json") in err.args[0] and "classes" in err.args[0]
    assert panel.store is None
    (other / "dataset.json").write_text("{not json")
    with qtbot.waitSignal(panel.error, timeout=10000) as err:
        panel.set_dataset(other)
    assert err.args[0].startswith(f"{other / 'dataset.json'}: not readable JSON")
    with qtbot.waitSignal(panel.folderNeeded, timeout=10000):  # the window opens the picker
        panel.save_button.click()
    assert "Choose a dataset folder" in panel.status.text()
    panel.close_io()
