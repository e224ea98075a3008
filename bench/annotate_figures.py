"""Render the README's annotate and quiz screenshots offscreen from usgra-seg sample frames.

QT_QPA_PLATFORM=offscreen python bench/annotate_figures.py --out docs
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
SAMPLE = Path(__file__).resolve().parents[1] / "resources/samples/usgra-seg-sample"


def _settle(app, until) -> None:
    import time

    end = time.monotonic() + 20
    while not until() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(20):
        app.processEvents()


def _save(widget, path: Path, width: int = 900) -> None:
    img = widget.grab().toImage()
    img = img.scaledToWidth(width, mode=__import__("PySide6.QtCore").QtCore.Qt.SmoothTransformation)
    img.save(str(path), "PNG")
    print(f"{path}: {path.stat().st_size // 1024} KiB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("docs"))
    a = ap.parse_args()
    from PIL import Image
    from PySide6.QtWidgets import QApplication
    from sonolive.app.annotate.panel import FrameContext
    from sonolive.app.annotate.window import AnnotateWindow
    from sonolive.app.quiz.window import QuizWindow
    from sonolive.inference.backends import make_segmenter
    from sonolive.inference.tools.quiz import QuizItem, QuizSession
    from sonolive.models.dataset_store import DatasetStore, Sample
    from sonolive.models.datasets import read_mask

    app = QApplication.instance() or QApplication(sys.argv[:1])
    seg = make_segmenter("nerve-vessel", device="cpu", backend="torch")
    names = ["0000.png", "0007.png", "0029.png"]
    frames = [np.dstack([np.asarray(Image.open(SAMPLE / "images" / n).convert("L"))] * 3)
              for n in names]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        ds = Path(tmp) / "ward-3-nerve-block"
        store = DatasetStore(ds, seg.card.classes)
        for n, f in zip(names[1:], frames[1:], strict=True):
            store.save(Sample(f, read_mask(SAMPLE / "masks" / n), f"block-{n[:4]}.mp4", 40, 1.3))
        w = AnnotateWindow(seg.card.classes, "Dr Lin")
        w.resize(1180, 700)
        pred = seg.segment_pixels(frames[0]).labels
        w.panel.set_frame(
            frames[0],
            FrameContext(
                source="block-0000.mp4", index=12, prediction=pred, model_name="nerve-vessel"
            ),
        )
        w.panel.set_dataset(ds)
        w.panel.prefill()
        c = w.panel.canvas
        from sonolive.models.mask_edit import paint_segment

        c.history.checkpoint()
        paint_segment(c.mask, (300, 330), (340, 350), 8, 2)  # a correction stroke
        w.show()
        _settle(app, lambda: w.datasets.list.count() == 2)
        _save(w, a.out / "annotate.png")
        w.panel.close_io()
        w.close()

        labels = read_mask(SAMPLE / "masks" / names[2])
        ref = labels == 1
        item = QuizItem(frames[2], ref, "nerve", "Nerve", "dataset", "0029", labels)
        session = QuizSession([item])
        q = QuizWindow(session, seg.card.classes)
        q.resize(1100, 720)
        q.show()
        q.student.setText("Student A")
        # a student's tracing: the reference shifted and grown a little
        shifted = np.zeros_like(ref)
        shifted[6:, 10:] = ref[:-6, :-10]
        traced = cv2.dilate(shifted.astype(np.uint8), np.ones((7, 7), np.uint8))
        q.canvas.mask[traced > 0] = 1
        _settle(app, lambda: True)
        q.submit()
        _settle(app, lambda: True)
        _save(q, a.out / "quiz.png")
        q.close()


if __name__ == "__main__":
    main()
