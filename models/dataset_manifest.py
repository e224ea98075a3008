"""``dataset.json`` read as untrusted input: every field's type is checked, every frame name
is one plain file name (no folder, no traversal), text is made printable.

A file that fails is refused with one :class:`DataError` line naming it and the field; nothing
here raises anything else, whatever the file holds (deep nesting, huge numbers, lone
surrogates, wrong types).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from .data_error import DataError

FORMAT = "sonolive-dataset/1"
MANIFEST = "dataset.json"
#: dataset.json is text describing frames: 60,000 frames are about 25 MB
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
_NAME = re.compile(r"^[^/\\\x00-\x1f\x7f]{1,200}\.png$")


def clean_text(value: str) -> str:
    """``value`` with lone surrogates (from a file name that is not UTF-8, or a ``\\ud800``
    escape in JSON) replaced by U+FFFD, so it can be printed and written as UTF-8."""
    if value.isascii():
        return value
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def check_name(name: object, where: str = MANIFEST) -> str:
    """``name`` if it is one plain PNG file name (``clip_f000012.png``); DataError if not."""
    if (
        not isinstance(name, str)
        or not _NAME.match(name)
        or name.startswith(".")
        or name != clean_text(name)
    ):  # the pattern has no separator, so a name is one path component
        shown = clean_text(name) if isinstance(name, str) else repr(name)
        raise DataError(
            f"{where}: frame name {shown!r} is not a plain file name "
            "(one PNG name, no folder, not hidden)"
        )
    return name


def _text(value: object, field: str, where: str, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise DataError(f"{where}: {field} must be text, not {type(value).__name__}")
    return clean_text(value)


def _number(value: object, field: str, where: str, default: float = 0.0) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataError(f"{where}: {field} must be a number, not {type(value).__name__}")
    if not math.isfinite(float(value)) or abs(value) > 1e15:
        raise DataError(f"{where}: {field} is out of range ({value!r})")
    return value


def _color(value: object, field: str, where: str) -> list[int]:
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value)
    ):
        raise DataError(f"{where}: {field} must be three numbers 0-255")
    return list(value)


def check_classes(classes: object, where: str) -> list[dict[str, Any]]:
    """The class list: objects with a unique text ``name``, a ``display`` and a ``color``."""
    from .card import default_color

    if not isinstance(classes, list) or not classes:
        raise DataError(f"{where}: 'classes' must be a non-empty list")
    if len(classes) > 256:
        raise DataError(f"{where}: {len(classes)} classes; a mask can name at most 256")
    out = []
    for i, c in enumerate(classes):
        if not isinstance(c, dict):
            raise DataError(f"{where}: classes[{i}] must be an object with a 'name'")
        name = _text(c.get("name"), f"classes[{i}].name", where)
        if not name.strip():
            raise DataError(f"{where}: classes[{i}] has no 'name'")
        display = _text(c.get("display"), f"classes[{i}].display", where, name)
        color = c.get("color")
        color = default_color(i) if color is None else _color(color, f"classes[{i}].color", where)
        out.append({**c, "name": name, "display": display, "color": color})
    names = [c["name"] for c in out]
    if len(set(names)) != len(names):
        raise DataError(f"{where}: class names must be unique")
    return out


def check_record(rec: object, name: str, where: str) -> dict[str, Any]:
    """One frame's record with its fields' types checked (missing fields get defaults)."""
    at = f"{where}: images[{name!r}]"
    if not isinstance(rec, dict):
        raise DataError(f"{at} must be an object")
    out = dict(rec)
    for field in ("source", "opened", "annotator", "prefill_model", "time"):
        out[field] = _text(rec.get(field), field, at)
    out["frame_index"] = int(_number(rec.get("frame_index"), "frame_index", at))
    out["timestamp"] = float(_number(rec.get("timestamp"), "timestamp", at))
    roi = rec.get("roi")
    if roi is not None and (
        not isinstance(roi, list) or len(roi) != 4 or not all(type(v) is int for v in roi)
    ):
        raise DataError(f"{at}: roi must be four whole numbers or null")
    if not isinstance(rec.get("prefilled", False), bool):
        raise DataError(f"{at}: prefilled must be true or false")
    return out


def parse_manifest(data: object, where: str) -> dict[str, Any]:
    """A checked copy of a decoded ``dataset.json``."""
    if not isinstance(data, dict):
        raise DataError(f"{where}: must hold an object with 'classes' and 'images'")
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        raise DataError(f"{where}: format {clean_text(str(fmt))!r} is not {FORMAT}")
    classes = check_classes(data.get("classes"), where)
    images = data.get("images", {})
    if not isinstance(images, dict):
        raise DataError(f"{where}: 'images' must be an object of frame name -> record")
    checked = {check_name(n, where): check_record(r, n, where) for n, r in images.items()}
    return {**data, "format": FORMAT, "classes": classes, "images": checked}


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The checked ``dataset.json`` of ``folder``; :class:`DataError` (one line) otherwise."""
    path = Path(folder) / MANIFEST
    try:
        if path.is_symlink():
            raise DataError(f"{path}: is a link; a dataset's files must be plain files")
        if not path.exists():
            raise DataError(f"{path}: missing (not a SonoLive dataset folder)")
        if not path.is_file():
            raise DataError(f"{path}: not a plain file")
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise DataError(f"{path}: larger than {MAX_MANIFEST_BYTES // 2**20} MB")
        data = json.loads(path.read_bytes().decode("utf-8"))
    except DataError:
        raise
    except RecursionError as e:
        raise DataError(f"{path}: nested too deeply to be a dataset") from e
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text") from e
    except (OSError, ValueError, MemoryError) as e:
        raise DataError(f"{path}: not readable JSON ({str(e).splitlines()[0]})") from e
    return parse_manifest(data, str(path))


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The manifest as written: UTF-8 JSON, finite numbers only, one line per frame (readable,
    and encoded by the C encoder: a 60,000-frame manifest takes a fraction of a second,
    where an indented dump takes seconds)."""
    return json_lines(manifest, "images")


def json_lines(doc: dict[str, Any], big: str | None = None) -> bytes:
    """``doc`` as JSON with one line per top-level field and, for the mapping ``big``, one
    line per entry."""

    def enc(v: object) -> str:
        return json.dumps(v, allow_nan=False, ensure_ascii=False)

    parts = []
    for k, v in doc.items():
        if k == big and isinstance(v, dict) and v:
            inner = ",\n".join(f"  {enc(n)}: {enc(r)}" for n, r in v.items())
            parts.append(f" {enc(k)}: {{\n{inner}\n }}")
        else:
            parts.append(f" {enc(k)}: {enc(v)}")
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode("utf-8")
