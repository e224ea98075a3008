"""'Open model…' in the window: a hospital's TorchScript model joins the picker and runs."""

from __future__ import annotations

import json

import torch
from PySide6.QtCore import Qt
from sonolive.capture.replay import ReplaySource


def _torchscript_folder(tmp_path, lite_model, name="hospital-ts"):
    folder = tmp_path / name
    folder.mkdir()
    h, w = lite_model.card.input_size
    torch.jit.trace(lite_model.net.eval(), torch.zeros(1, 1, h, w)).save(str(folder / "model.pt"))
    card = lite_model.card.to_dict()
    card.update(name=name, format="torchscript", weights="model.pt", simulated=False)
    card.pop("arch")
    (folder / "model.json").write_text(json.dumps(card))
    return folder


def _window(qtbot, settings, phantom_frames):
    from sonolive.app.main_window import MainWindow

    frames, truths = phantom_frames
    win = MainWindow(
        ReplaySource(frames, fps=20, truths=truths), None, settings, "cpu", "review", "torch"
    )
    qtbot.addWidget(win)
    win.show()
    return win


def test_open_model_adds_it_to_the_picker_and_uses_it(
    qtbot, settings, tmp_path, lite_model, phantom_frames
):
    folder = _torchscript_folder(tmp_path, lite_model)
    win = _window(qtbot, settings, phantom_frames)
    win.model_importer.open_folder(folder, trust_code=True)
    qtbot.waitUntil(
        lambda: win.last_result is not None and win.last_result.seg is not None, timeout=20000
    )
    assert win.model_name == "hospital-ts"
    assert win.model_picker.currentText() == "hospital-ts"
    assert win.last_result.model_name == "hospital-ts"
    win.close()


def test_open_model_refuses_a_bad_folder_with_a_message(qtbot, settings, tmp_path, phantom_frames):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.json").write_text('{"name": "bad", "classes": ["background"]}')
    win = _window(qtbot, settings, phantom_frames)
    win.model_importer.open_folder(bad)
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=10000)
    assert "was not added" in win.banner.text() and "classes" in win.banner.text()
    n = win.view.frames_shown
    qtbot.waitUntil(lambda: win.view.frames_shown > n + 3, timeout=10000)  # still running
    win.close()


def test_open_model_on_a_folder_without_a_card_names_it_once(
    qtbot, settings, tmp_path, phantom_frames, monkeypatch
):
    from sonolive.app import model_import_action

    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "config.json").write_text('{"hello": 1}')  # a folder that is not a model
    monkeypatch.setattr(
        model_import_action.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder)
    )
    win = _window(qtbot, settings, phantom_frames)
    button = win.main_toolbar.widgetForAction(win.model_importer.action)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "was not added" in win.banner.text(), timeout=10000)
    line = next(ln for ln in win.banner.text().splitlines() if "was not added" in ln)
    assert line == (
        f"The model in {folder} was not added: no model.json or model.yaml in this folder"
    )
    n = win.view.frames_shown
    qtbot.waitUntil(lambda: win.view.frames_shown > n + 3, timeout=10000)  # still running
    win.close()


def test_open_model_never_replaces_an_installed_model(
    qtbot, settings, tmp_path, lite_model, phantom_frames
):
    from sonolive.models.importer import import_model

    first = (
        _torchscript_folder(tmp_path / "a", lite_model)
        if (tmp_path / "a").mkdir() is None
        else None
    )
    installed = import_model(first, trust_code=True)
    stamp = (installed / "model.pt").stat().st_mtime_ns
    second = (
        _torchscript_folder(tmp_path / "b", lite_model)
        if (tmp_path / "b").mkdir() is None
        else None
    )
    win = _window(qtbot, settings, phantom_frames)
    win.model_importer.open_folder(second, trust_code=True)
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=10000)
    assert "was not added" in win.banner.text()
    assert (installed / "model.pt").stat().st_mtime_ns == stamp
    win.close()
