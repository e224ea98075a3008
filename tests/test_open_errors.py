"""A source that cannot be opened says so, in the window and on the terminal, and the model
loading afterwards does not clear it (it showed a black window with no message)."""

from __future__ import annotations

import os

import pytest


def _window(qtbot, settings, source, model="fast-lite"):
    from sonolive.app.main_window import MainWindow

    win = MainWindow(
        source=source, model=model, settings=settings, device="cpu", mode="teaching",
        backend="torch",
    )  # fmt: skip
    qtbot.addWidget(win)
    win.show()
    return win


def _missing(tmp_path):
    return tmp_path / "missing.mp4", "File not found"


def _empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    return tmp_path / "empty", "a folder without images"


def _random_bytes(tmp_path):
    p = tmp_path / "noise.mp4"
    p.write_bytes(os.urandom(64 * 1024))
    return p, "noise.mp4"


@pytest.mark.parametrize("make", [_missing, _empty_folder, _random_bytes])
def test_source_error_stays_after_the_model_loads(qtbot, settings, tmp_path, capfd, make):
    path, words = make(tmp_path)
    win = _window(qtbot, settings, str(path))
    qtbot.waitUntil(lambda: win.card is not None, timeout=30000)  # the model is ready
    qtbot.waitUntil(lambda: words in win.banner.text(), timeout=10000)
    qtbot.waitUntil(lambda: win.isVisible() and win.banner.isVisible(), timeout=2000)
    line = win.messages["source"]
    assert words in line and "\n" not in line
    assert f"SonoLive: {line}" in capfd.readouterr().err  # the terminal gets the same line
    win.close()


def test_source_and_model_errors_are_both_shown(qtbot, settings, tmp_path):
    win = _window(qtbot, settings, str(tmp_path / "missing.mp4"), model="no-such-model")
    # both fail on worker threads, in either order: wait for both lines
    qtbot.waitUntil(lambda: {"model", "source"} <= set(win.messages), timeout=30000)
    text = win.banner.text()
    assert "File not found" in text and "no-such-model" in text
    win.set_source("phantom")  # a good source clears its own line only
    assert "source" not in win.messages and "no-such-model" in win.banner.text()
    win.close()
