"""The one model-card type: what a network segments, how to feed it, and how well it did.

A card travels with every set of weights (``model.json`` or ``model.yaml`` beside them). Every
layer reads classes, colours and input size from here, never from constants of its own.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

WEIGHT_FORMATS = ("safetensors", "torchscript", "onnx")
OUTPUT_KINDS = ("logits", "probabilities")
MAX_CARD_BYTES = 64 * 1024  # a card is a few KiB; a bigger one is a mistake or an attack
MAX_CLASSES = 255  # labels are uint8 maps and the overlay's colour table has 256 entries
MAX_INPUT_SIDE = 1024  # pixels per side fed to the network; no scanner image needs more
MIN_STD = 1e-3  # pixels are 0-1; a smaller std blows the input up to nonsense
MIN_COLOR_DISTANCE = 40.0  # Euclidean RGB distance below which two overlay colours look alike


class CardError(ValueError):
    """A model card is missing something or contradicts itself; the message names the field."""


@dataclass(frozen=True)
class ClassInfo:
    name: str
    display: str
    color: tuple[int, int, int]


@dataclass(frozen=True)
class ModelCard:
    """A model's description, as loaded; never changed afterwards: a changed card is a new
    one (``dataclasses.replace``), as timm and torchvision hand out their configurations."""

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
    contains_code: bool = False  # TorchScript: installed after the user said they trust it
    #: a class covering less of the picture than this share is not drawn (a speck, not an
    #: organ); 0 keeps every pixel the network labels
    min_area_fraction: float = 0.0

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
        if len(raw_classes) > MAX_CLASSES:
            raise CardError(
                f"{where}: 'classes' lists {len(raw_classes)} classes; at most {MAX_CLASSES} "
                "are supported"
            )
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
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in size)
        ):
            raise CardError(
                f"{where}: 'input_size' must be [height, width] in pixels, got {size!r}"
            )
        if not all(16 <= v <= MAX_INPUT_SIDE for v in size):
            raise CardError(
                f"{where}: 'input_size' {list(size)} is outside 16-{MAX_INPUT_SIDE} pixels per "
                "side; no scanner image needs more"
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
        if not all(math.isfinite(v) for v in mean + std):
            raise CardError(f"{where}: 'mean' and 'std' must be finite numbers (no NaN or inf)")
        if any(s < MIN_STD for s in std):
            raise CardError(
                f"{where}: 'std' values must be at least {MIN_STD} (pixels are scaled to 0-1), "
                f"got {std}"
            )
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
        min_area = d.get("min_area_fraction", 0.0)
        if (
            isinstance(min_area, bool)
            or not isinstance(min_area, int | float)
            or not 0.0 <= min_area <= 0.2
        ):
            raise CardError(
                f"{where}: 'min_area_fraction' must be a number from 0 to 0.2, got {min_area!r}"
            )
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
            contains_code=d.get("contains_code") is True,
            min_area_fraction=float(min_area),
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
        text = read_card_text(path)
        try:
            if path.suffix in (".yaml", ".yml"):
                data = _load_yaml(text)
            else:
                data = json.loads(text)
        except CardError as e:
            raise CardError(f"{path.name}: {e}") from e
        except Exception as e:  # noqa: BLE001 - any parse error becomes a plain message
            raise CardError(f"{path.name}: not valid {path.suffix[1:].upper()} ({e})") from e
        return cls.from_dict(data, where=path.name)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")


def read_card_text(path: Path) -> str:
    """The card's text: a regular file (not a link), at most ``MAX_CARD_BYTES``."""
    if path.is_symlink():
        raise CardError(f"{path.name} is a symbolic link; copy the real card into the model folder")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CARD_BYTES + 1)
    except OSError as e:
        raise CardError(f"{path}: cannot read the model card ({e.strerror or e})") from e
    if len(raw) > MAX_CARD_BYTES:
        raise CardError(f"{path.name} is larger than {MAX_CARD_BYTES // 1024} KiB; not a card")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CardError(f"{path.name}: not UTF-8 text ({e.reason})") from e


def _load_yaml(text: str) -> Any:
    """``yaml.safe_load`` that refuses anchors and aliases.

    Aliases let a few hundred bytes expand to billions of nodes ("billion laughs"); a model
    card never needs them, so they are refused while parsing, before anything is built.
    """
    import yaml

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise CardError("YAML anchors and aliases (& and *) are not allowed in a card")
    return yaml.safe_load(text)


def check_colors(card: ModelCard) -> None:
    """Colours distinct enough to tell the classes apart on screen."""
    for a, b in itertools.combinations(card.classes, 2):
        d = math.dist(a.color, b.color)
        if d < MIN_COLOR_DISTANCE:
            raise CardError(
                f"{card.name}: classes '{a.name}' {list(a.color)} and '{b.name}' "
                f"{list(b.color)} have colours too close to tell apart; pick more distinct colours"
            )


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
