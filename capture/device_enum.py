"""Capture-card enumeration: which video devices are plugged in, and which one is ours.

Device indices move when a card is replugged (or another camera appears), so a device is
remembered by USB ``VID:PID`` first, then by its name, and by index only as a last resort.
:func:`find_device` enumerates afresh on every call.
"""

from __future__ import annotations

import logging
import platform
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

_VIDPID = re.compile(r"^\s*([0-9a-fA-F]{4})\s*:\s*([0-9a-fA-F]{4})\s*$")


@dataclass(frozen=True)
class DeviceInfo:
    """One video-capture device as the OS reports it."""

    index: int
    name: str
    path: str | None
    vid: int | None
    pid: int | None
    backend: int

    @property
    def vid_pid(self) -> str | None:
        """``"534d:2109"`` style id, or ``None`` when the OS does not report one."""
        if self.vid is None or self.pid is None:
            return None
        return f"{self.vid:04x}:{self.pid:04x}"

    @property
    def label(self) -> str:
        """Text for the input picker."""
        vp = self.vid_pid
        return f"{self.name} ({vp})" if vp else self.name


def backends_for_os(system: str | None = None) -> list[int]:
    """The OpenCV capture backends to use on this OS, in order of preference."""
    import cv2

    system = system or platform.system()
    if system == "Linux":
        return [cv2.CAP_V4L2]
    if system == "Windows":
        return [cv2.CAP_MSMF, cv2.CAP_DSHOW]
    if system == "Darwin":
        return [cv2.CAP_AVFOUNDATION]
    return [cv2.CAP_ANY]


def _default_enumerate(backend: int) -> list:
    from cv2_enumerate_cameras import enumerate_cameras

    return list(enumerate_cameras(backend))


def list_devices(
    enumerate_fn: Callable[[int], Iterable] | None = None,
    backends: list[int] | None = None,
) -> list[DeviceInfo]:
    """All capture devices, using the first backend (in OS preference order) that finds any.

    Never raises: a missing library, a backend that is not supported here or a driver error
    just gives an empty list. ``enumerate_fn(backend)`` is injectable for tests.
    """
    enumerate_fn = enumerate_fn or _default_enumerate
    try:
        backends = backends if backends is not None else backends_for_os()
    except Exception as exc:  # cv2 missing or broken
        log.warning("cannot enumerate capture devices: %s", exc)
        return []
    for backend in backends:
        try:
            found = [
                DeviceInfo(
                    index=int(c.index),
                    name=str(c.name or f"Video device {c.index}"),
                    path=c.path or None,
                    vid=c.vid,
                    pid=c.pid,
                    backend=int(getattr(c, "backend", backend) or backend),
                )
                for c in enumerate_fn(backend)
            ]
        except Exception as exc:
            log.info("capture enumeration with backend %s failed: %s", backend, exc)
            continue
        if found:
            return found
    return []


def _pick(cands: list[DeviceInfo], want: DeviceInfo) -> DeviceInfo:
    """Among equally matching devices prefer the same path, then the same index."""
    for c in cands:
        if want.path and c.path == want.path:
            return c
    for c in cands:
        if c.index == want.index:
            return c
    return cands[0]


def match_device(match: str | DeviceInfo, devices: list[DeviceInfo]) -> DeviceInfo | None:
    """Pure matching logic of :func:`find_device` over an explicit device list."""
    if not devices:
        return None
    if isinstance(match, DeviceInfo):
        if match.vid_pid is not None:
            same = [d for d in devices if d.vid_pid == match.vid_pid]
            if same:
                return _pick(same, match)
        same = [d for d in devices if d.name.lower() == match.name.lower()]
        if same:
            return _pick(same, match)
        same = [d for d in devices if d.index == match.index]
        return same[0] if same else None

    text = str(match).strip()
    if not text:
        return None
    m = _VIDPID.match(text)
    if m:
        vp = f"{m.group(1).lower()}:{m.group(2).lower()}"
        for d in devices:
            if d.vid_pid == vp:
                return d
        return None  # an explicit VID:PID that is absent must not fall through to another card
    low = text.lower()
    for d in devices:
        if d.path and d.path == text:
            return d
    for d in devices:
        if low in d.name.lower():
            return d
    if text.isdigit():
        for d in devices:
            if d.index == int(text):
                return d
    return None


def find_device(
    match: str | DeviceInfo,
    enumerate_fn: Callable[[int], Iterable] | None = None,
) -> DeviceInfo | None:
    """Re-enumerate and return the device that ``match`` names, or ``None``.

    ``match`` is ``"VID:PID"`` in hex (``"534d:2109"``), a case-insensitive part of the
    device name, a device path, a bare index (last resort), or a :class:`DeviceInfo` seen
    before (matched by VID:PID, then name, then index).
    """
    return match_device(match, list_devices(enumerate_fn))


__all__ = ["DeviceInfo", "backends_for_os", "find_device", "list_devices", "match_device"]
