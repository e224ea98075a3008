"""One entry point that turns a source spec (from the command line or the input picker) into
a :class:`FrameSource`.

Specs:
  ``phantom``                      the simulated scanner (:class:`PhantomSource`)
  ``device:<index or name>``       a capture card (:class:`DeviceSource`)
  ``rtsp://…``, ``http(s)://…``    a network stream, opened by PyAV (not seekable)
  a file path                      a video clip (by extension) or a DICOM cine (``.dcm`` or
                                   the ``DICM`` magic)

Keyword arguments go to the chosen class. The source is returned unopened: call ``open()``
(or use it as a context manager).
"""

from __future__ import annotations

from pathlib import Path

from .clip import LIVE_SCHEMES, VIDEO_EXTENSIONS, ClipSource, is_url
from .dicom_clip import DicomClipSource, is_dicom_file
from .source import FrameSource, SourceError

DICOM_EXTENSIONS = frozenset({".dcm", ".dicom", ".dic"})


def is_recording(spec: str) -> bool:
    """A recorded file or folder (clip, DICOM cine, image folder), not the simulated scanner,
    a capture card or a stream: what the window opens in Review, where it is seeked."""
    low = str(spec).strip().lower()
    return bool(low) and not (
        low == "phantom" or low.startswith(("phantom:", "device:")) or "://" in low
    )


def open_source(spec: str, **kw) -> FrameSource:
    """The :class:`FrameSource` for ``spec`` (see the module docstring); SourceError if none."""
    spec = str(spec).strip()
    if not spec:
        raise SourceError("No input given.")
    low = spec.lower()
    if low == "phantom" or low.startswith("phantom:"):
        from .phantom import PhantomSource  # written separately; imported only when used

        return PhantomSource(**kw)
    if low.startswith("device:"):
        from .capture_card import DeviceSource  # written separately; imported only when used

        target = spec.split(":", 1)[1].strip()
        if not target:
            raise SourceError("No capture device named: use device:<index> or device:<name>.")
        return DeviceSource(target, **kw)  # an index, "VID:PID", part of a name, or a path
    if is_url(spec):
        if low.startswith(LIVE_SCHEMES):
            kw.setdefault("paced", False)
        return ClipSource(spec, **kw)
    if "://" in spec:
        raise SourceError(f"Unsupported stream address: {spec}")
    path = Path(spec).expanduser()
    if not path.exists():
        raise SourceError(f"File not found: {spec}")
    if path.is_dir():
        from .image_folder import ImageFolderSource, image_files

        if image_files(path):
            return ImageFolderSource(path, **kw)
        raise SourceError(f"{spec} is a folder without images, not a video or DICOM file.")
    ext = path.suffix.lower()
    if ext in DICOM_EXTENSIONS or is_dicom_file(path):
        return DicomClipSource(path, **kw)
    if ext in VIDEO_EXTENSIONS:
        return ClipSource(path, **kw)
    raise SourceError(
        f"{path.name} is not a supported input: use a video (MP4, MOV, AVI, MKV), "
        "a DICOM cine, 'phantom', 'device:<index>' or an rtsp:// or http(s):// address."
    )
