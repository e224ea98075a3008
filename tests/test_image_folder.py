"""A folder of still images as a seekable source, e.g. a labelled data folder in review."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sonolive.capture.open_source import open_source
from sonolive.capture.source import EndOfStream, SourceError


@pytest.fixture
def stills(tmp_path):
    d = tmp_path / "set" / "images"
    d.mkdir(parents=True)
    for i in range(5):
        img = np.full((60, 80), 40 * i, np.uint8)
        cv2.imwrite(str(d / f"{i:04d}.png"), img)
    return tmp_path / "set"


def test_folder_plays_its_images_in_order_and_seeks(stills):
    src = open_source(str(stills), paced=False)
    src.open()
    seen = []
    with pytest.raises(EndOfStream):
        while True:
            seen.append(int(src.read().pixels[0, 0, 0]))
    assert seen == [0, 40, 80, 120, 160]
    f = src.seek(3)
    assert f.index == 3 and f.pixels.shape == (60, 80, 3) and f.pixels[0, 0, 0] == 120
    assert int(src.read().pixels[0, 0, 0]) == 160
    assert src.frame_count == 5 and src.describe().startswith("set")


def test_empty_folder_and_unreadable_image_give_plain_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="without images"):
        open_source(str(tmp_path / "empty"))
    d = tmp_path / "bad"
    d.mkdir()
    (d / "x.png").write_bytes(b"not a png")
    src = open_source(str(d), paced=False)
    with pytest.raises(SourceError, match="not a readable image"):
        src.read()


def test_review_opens_a_folder_of_stills(qtbot, settings, stills):
    from sonolive.app.main_window import MainWindow

    win = MainWindow(None, "fast-lite", settings, "cpu", "review", "torch")
    qtbot.addWidget(win)
    win.show()
    win.review.open(str(stills))
    qtbot.waitUntil(
        lambda: win.last_result is not None and win.last_result.frame.index == 0, timeout=15000
    )
    win.review.seek(2)
    qtbot.waitUntil(lambda: win.last_result.frame.index == 2, timeout=10000)
    assert int(win.last_result.frame.pixels[0, 0, 0]) == 80
    win.close()
