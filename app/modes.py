"""The three working modes and what each one shows by default.

Bedside: a calm picture for a glance while holding the probe; thin outlines, a light fill and
one large name for the organ under the centre of the sector, and the temporal filter on (a
steady overlay; :mod:`sonolive.inference.temporal`). Teaching: filled masks, names
at every organ, the legend with confidences, the CAM heatmap and a raw | overlay view.
Review: the clip tools plus everything from Teaching. Each mode keeps its own settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

from ..inference.overlay import OverlayStyle

if TYPE_CHECKING:  # the settings object is passed in: the command line reads MODES Qt-free
    from PySide6.QtCore import QSettings

MODES = ("bedside", "teaching", "review")


@dataclass
class ModeSettings:
    fill: bool
    outline: bool
    names: bool
    opacity: float
    center_label_only: bool
    legend: bool
    cam: bool
    side_by_side: bool
    chrome: bool  # side panels and the full toolbar
    cam_method: str = "layercam"  # inference.cam.DEFAULT_METHOD
    cam_class: str = "auto"
    temporal: bool = False  # smooth the overlay over frames (inference.temporal)

    def style(self, base: OverlayStyle | None = None) -> OverlayStyle:
        s = base or OverlayStyle()
        return OverlayStyle(
            fill=self.fill,
            outline=self.outline,
            names=self.names,
            opacity=self.opacity,
            outline_px=2 if self.center_label_only else s.outline_px,
            label_scale=1.6 if self.center_label_only else 1.0,
            center_label_only=self.center_label_only,
            heat_opacity=s.heat_opacity,
        )


DEFAULTS = {
    "bedside": ModeSettings(
        True, True, True, 0.18, True, False, False, False, False, temporal=True
    ),
    "teaching": ModeSettings(True, True, True, 0.45, False, True, True, True, True),
    "review": ModeSettings(True, True, True, 0.45, False, True, False, False, True),
}


def load_mode(settings: QSettings, mode: str) -> ModeSettings:
    d = asdict(DEFAULTS[mode])
    for f in fields(ModeSettings):
        v = settings.value(f"mode/{mode}/{f.name}")
        if v is None:
            continue
        if f.type in ("bool", bool):
            d[f.name] = v in (True, "true", "1", 1)
        elif f.type in ("float", float):
            d[f.name] = float(v)
        else:
            d[f.name] = str(v)
    return ModeSettings(**d)


def save_mode(settings: QSettings, mode: str, ms: ModeSettings) -> None:
    for k, v in asdict(ms).items():
        settings.setValue(f"mode/{mode}/{k}", v)
