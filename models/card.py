"""The one model-card type: what a network segments, how to feed it, and how well it did.

A card travels with every set of weights (``model.json`` or ``model.yaml`` beside them). Every
layer reads classes, colours and input size from here, never from constants of its own.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

WEIGHT_FORMATS = ("safetensors", "torchscript", "onnx")
OUTPUT_KINDS = ("logits", "probabilities")


class CardError(ValueError):
    """A model card is missing something or contradicts itself; the message names the field."""


@dataclass(frozen=True)
class ClassInfo:
    name: str
    display: str
    color: tuple[int, int, int]


@dataclass
class ModelCard:
    name: str
    version: str
    classes: list[ClassInfo]
    input_size: tuple[int, int] = (256, 256)  # (height, width) fed to the network
    channels: int = 1
    mean: list[float] = field(default_factory=lambda: [0.0])
    std: list[float] = field(default_factory=lambda: [1.0])
    arch: dict[str, Any] = field(
        default_factory=dict
    )  # e.g. {"type": "unet", "width": 8, "depth": 4}
    format: str = "safetensors"
    weights: str = "model.safetensors"
    output: str = "logits"
    description: str = ""
    training_data: str = ""
    simulated: bool = False  # trained on simulated images only
    license: str = ""
    attribution: str = ""
    accuracy: dict[str, Any] = field(default_factory=dict)  # exactly what `sonolive eval` wrote

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    def color_table(self) -> list[tuple[int, int, int]]:
        return [c.color for c in self.classes]

    # ---- (de)serialisation -------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "model card") -> ModelCard:
        if not isinstance(d, dict):
            raise CardError(f"{where}: expected a mapping at the top level")
        for key in ("name", "classes"):
            if key not in d:
                raise CardError(f"{where}: missing required field '{key}'")
        raw_classes = d["classes"]
        if not isinstance(raw_classes, list) or len(raw_classes) < 2:
            raise CardError(f"{where}: 'classes' must list at least two classes (background first)")
        classes = []
        for i, c in enumerate(raw_classes):
            if isinstance(c, str):
                c = {"name": c}
            if not isinstance(c, dict) or "name" not in c:
                raise CardError(f"{where}: classes[{i}] needs a 'name'")
            color = c.get("color", default_color(i))
            if (
                not isinstance(color, (list, tuple))
                or len(color) != 3
                or not all(isinstance(v, int) and 0 <= v <= 255 for v in color)
            ):
                raise CardError(
                    f"{where}: classes[{i}] ('{c['name']}') colour must be three integers 0-255, "
                    f"got {color!r}"
                )
            classes.append(
                ClassInfo(str(c["name"]), str(c.get("display", c["name"])), tuple(color))
            )
        names = [c.name for c in classes]
        if len(set(names)) != len(names):
            raise CardError(f"{where}: class names must be unique, got {names}")
        size = d.get("input_size", [256, 256])
        if isinstance(size, int):
            size = [size, size]
        if (
            not isinstance(size, (list, tuple))
            or len(size) != 2
            or not all(isinstance(v, int) and 16 <= v <= 4096 for v in size)
        ):
            raise CardError(
                f"{where}: 'input_size' must be [height, width] in pixels, got {size!r}"
            )
        channels = d.get("channels", 1)
        if channels not in (1, 3):
            raise CardError(f"{where}: 'channels' must be 1 (grey) or 3 (RGB), got {channels!r}")
        try:
            mean = _as_list(d.get("mean", [0.0] * channels))
            std = _as_list(d.get("std", [1.0] * channels))
        except (TypeError, ValueError) as e:
            raise CardError(f"{where}: 'mean' and 'std' must be numbers or lists of numbers") from e
        if len(mean) not in (1, channels) or len(std) not in (1, channels):
            raise CardError(f"{where}: 'mean' and 'std' need 1 or {channels} values")
        if any(s <= 0 for s in std):
            raise CardError(f"{where}: 'std' values must be positive")
        fmt = d.get("format", "safetensors")
        if fmt not in WEIGHT_FORMATS:
            raise CardError(f"{where}: 'format' must be one of {WEIGHT_FORMATS}, got {fmt!r}")
        output = d.get("output", "logits")
        if output not in OUTPUT_KINDS:
            raise CardError(f"{where}: 'output' must be one of {OUTPUT_KINDS}, got {output!r}")
        arch = d.get("arch", {})
        if not isinstance(arch, dict):
            raise CardError(
                f'{where}: \'arch\' must be a mapping like {{"type": "unet", "width": 16}}'
            )
        if not isinstance(d.get("accuracy", {}), dict):
            raise CardError(f"{where}: 'accuracy' must be a mapping (what `sonolive eval` wrote)")
        if fmt == "safetensors" and not arch:
            arch = {"type": "unet", "width": 16, "depth": 4}
        return cls(
            name=str(d["name"]),
            version=str(d.get("version", "0")),
            classes=classes,
            input_size=(int(size[0]), int(size[1])),
            channels=int(channels),
            mean=mean,
            std=std,
            arch=dict(arch),
            format=fmt,
            weights=str(d.get("weights", _default_weights(fmt))),
            output=output,
            description=str(d.get("description", "")),
            training_data=str(d.get("training_data", "")),
            simulated=bool(d.get("simulated", False)),
            license=str(d.get("license", "")),
            attribution=str(d.get("attribution", "")),
            accuracy=dict(d.get("accuracy", {})),
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["classes"] = [
            {"name": c.name, "display": c.display, "color": list(c.color)} for c in self.classes
        ]
        d["input_size"] = list(self.input_size)
        return d

    @classmethod
    def load(cls, path: str | Path) -> ModelCard:
        """Read ``model.json``/``model.yaml`` (or the card inside a model folder)."""
        path = Path(path)
        if path.is_dir():
            for cand in ("model.json", "model.yaml", "model.yml"):
                if (path / cand).exists():
                    path = path / cand
                    break
            else:
                raise CardError(f"{path}: no model.json or model.yaml in this folder")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise CardError(f"{path}: cannot read the model card ({e.strerror or e})") from e
        try:
            if path.suffix in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(text)
            else:
                data = json.loads(text)
        except Exception as e:  # noqa: BLE001 - any parse error becomes a plain message
            raise CardError(f"{path.name}: not valid {path.suffix[1:].upper()} ({e})") from e
        return cls.from_dict(data, where=path.name)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")


def _as_list(v: Any) -> list[float]:
    if isinstance(v, (int, float)):
        return [float(v)]
    return [float(x) for x in v]


def _default_weights(fmt: str) -> str:
    return {"safetensors": "model.safetensors", "torchscript": "model.pt", "onnx": "model.onnx"}[
        fmt
    ]


_PALETTE = [
    (0, 0, 0),
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
]


def default_color(i: int) -> list[int]:
    return list(_PALETTE[i % len(_PALETTE)])
