"""Small, never-raising helpers around an OpenCV ``VideoCapture`` (a driver may throw from any
property call) and FourCC codes."""

from __future__ import annotations

from typing import Any


def fourcc_to_int(code: str) -> int:
    return sum(ord(ch) << (8 * i) for i, ch in enumerate(code[:4].ljust(4)))


def fourcc_to_str(value: float) -> str:
    v = int(value)
    s = "".join(chr((v >> (8 * i)) & 0xFF) for i in range(4))
    return s if v and s.isprintable() else ""


def try_set(cap: Any, prop: int, value: float) -> bool:
    try:
        return bool(cap.set(prop, value))
    except Exception:
        return False


def try_get(cap: Any, prop: int) -> float:
    try:
        return float(cap.get(prop) or 0.0)
    except Exception:
        return 0.0


def release(cap: Any) -> None:
    try:
        if cap is not None:
            cap.release()
    except Exception:
        pass
