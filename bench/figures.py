"""Render the README's figures: app screenshots (offscreen), CAM maps per layer.

QT_QPA_PLATFORM=offscreen python bench/figures.py --out docs
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def screenshots(out: Path, model: str) -> None:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication
    from sonolive.app.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(str(out / "figures-settings.ini"), QSettings.Format.IniFormat)
    settings.clear()

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    samples = Path(__file__).resolve().parents[1] / "resources" / "samples" / "usgra-seg-sample"
    for source, shot_model, mode, name, organ in (
        (frozen_ruq(), model, "teaching", "teaching_cam.png", None),
        ("phantom", model, "bedside", "bedside.png", None),
        (str(samples), "nerve-vessel", "teaching", "nerve_vessel.png", 1),  # CAM for the nerve
    ):
        win = MainWindow(source, shot_model, settings, "cpu", mode, "auto")
        win.resize(1400, 820)
        win.show()
        wait(8000)
        if organ is not None:  # a folder opens in Review, where CAM is off by default
            win.cam_panel.enabled.setChecked(True)
            win.cam_panel.organ.setCurrentIndex(organ)
        if win.cam_panel.enabled.isChecked():  # the shot shows a map of its own picture
            for _ in range(300):  # up to 60 s
                r = win.last_result
                if r is not None and r.cam_class and r.cam_age is not None and r.cam_age <= 2:
                    break
                wait(200)
            wait(600)  # the CAM panel's readout catches up
        win.grab().save(str(out / name))
        win.close()
        wait(300)
    (out / "figures-settings.ini").unlink(missing_ok=True)
    app.quit()


def frozen_ruq():
    """The simulated scanner frozen on a RUQ view with free fluid (a scanner's freeze
    button): every frame is the same picture, so the map drawn is the picture's own."""
    from sonolive.capture.phantom import PhantomScanner
    from sonolive.capture.replay import ReplaySource

    img, _ = PhantomScanner(seed=9100, size=512).render(3.0, view="ruq", fluid=True)
    rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    return ReplaySource([rgb], fps=30, name="Simulated scanner (frozen)", simulated=True)


def cam_layers(out: Path, model: str) -> None:
    from sonolive.capture.phantom import PhantomScanner
    from sonolive.inference.cam.engine import DEFAULT_METHOD, CamEngine, candidate_layers
    from sonolive.inference.overlay import HEAT_LUT
    from sonolive.models.loader import load_model
    from sonolive.models.registry import find_model

    m = load_model(find_model(model))
    sc = PhantomScanner(seed=9100, size=384)
    rows = []
    for view, cls in (("ruq", 6), ("ruq", 2), ("subxiphoid", 5), ("suprapubic", 4)):
        img, mask = sc.render(3.0, view=view, fluid=True)
        rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        tiles = [rgb.copy()]
        cv2.drawContours(
            tiles[0],
            cv2.findContours(
                (mask == cls).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
            )[0],
            -1,
            (0, 255, 0),
            2,
        )
        layers = [name for name in candidate_layers(m.net) if name != "inc"]
        for layer in layers:
            eng = CamEngine(m, DEFAULT_METHOD, layer, device="cpu")
            heat = eng.compute(rgb, cls)
            eng.close()
            hm = HEAT_LUT[(heat * 255).astype(np.uint8)]
            t = cv2.addWeighted(rgb, 0.5, hm, 0.5, 0)
            cv2.putText(
                t, layer, (8, 24), cv2.FONT_HERSHEY_DUPLEX, 0.7, (255, 255, 255), 2, cv2.LINE_AA
            )
            tiles.append(t)
        rows.append(np.hstack(tiles))
    grid = np.vstack(rows)
    grid = cv2.resize(grid, (grid.shape[1] // 2, grid.shape[0] // 2), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(out / "cam_layers.png"), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("docs"))
    ap.add_argument("--model", default="fast-lite")
    ap.add_argument("--only", choices=["screenshots", "cam"], default=None)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "cam"):
        cam_layers(args.out, args.model)
    if args.only in (None, "screenshots"):
        screenshots(args.out, args.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
