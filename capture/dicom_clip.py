"""Multi-frame ultrasound DICOM (cine loops) as a frame source, via pydicom.

Supported pixel data: RGB, YBR_FULL and YBR_FULL_422 (converted to RGB), MONOCHROME1/2
(grey to RGB), PALETTE COLOR; uncompressed (native) or any compressed transfer syntax that
pydicom can decode here. JPEG Baseline is decoded by pydicom's Pillow plugin; when Pillow is
missing, OpenCV (already a SonoLive dependency) decodes the JPEG frames instead.

Frames are decoded one at a time on demand, so a long cine never sits decoded in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .frame import Frame
from .source import EndOfStream, SeekableSource, SourceError

DEFAULT_FPS = 30.0
_JPEG_BASELINE = ("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51")


def is_dicom_file(path: str | Path) -> bool:
    """True when the file has the DICOM Part 10 preamble magic ``DICM`` at offset 128."""
    try:
        with open(path, "rb") as f:
            f.seek(128)
            return f.read(4) == b"DICM"
    except OSError:
        return False


def _frame_rate(ds) -> tuple[float, list[float] | None]:
    """(fps, per-frame times in seconds or None) from the timing attributes of ``ds``."""
    n = int(getattr(ds, "NumberOfFrames", 1) or 1)
    vec = getattr(ds, "FrameTimeVector", None)
    if vec is not None:
        try:
            inc = [float(v) for v in (vec if hasattr(vec, "__iter__") else [vec])]
        except (TypeError, ValueError):
            inc = []
        if len(inc) == n and n > 1 and all(v >= 0 for v in inc) and sum(inc) > 0:
            times = list(np.cumsum(inc) / 1000.0)
            times = [t - times[0] for t in times]
            return (n - 1) / times[-1], times
    for keyword, to_fps in (
        ("FrameTime", lambda v: 1000.0 / v),
        ("CineRate", lambda v: v),
        ("RecommendedDisplayFrameRate", lambda v: v),
    ):
        value = getattr(ds, keyword, None)
        try:
            value = float(value) if value is not None and value != "" else None
        except (TypeError, ValueError):
            value = None
        if value and value > 0:
            fps = to_fps(value)
            if 0 < fps <= 1000:
                return float(fps), None
    return DEFAULT_FPS, None


def to_rgb8(arr: np.ndarray, ds) -> np.ndarray:
    """Decoded DICOM pixels of one frame (already colour-converted to RGB) as HxWx3 uint8."""
    pi = str(getattr(ds, "PhotometricInterpretation", "")).upper()
    if pi == "PALETTE COLOR" and arr.ndim == 2:
        from pydicom.pixels import apply_color_lut

        arr = apply_color_lut(arr, ds)
        arr = (arr >> 8) if arr.dtype.itemsize > 1 else arr
    if arr.dtype != np.uint8:
        bits = int(getattr(ds, "BitsStored", 8) or 8)
        a = arr.astype(np.float32)
        if getattr(ds, "PixelRepresentation", 0):
            a -= a.min()
            top = max(float(a.max()), 1.0)
        else:
            top = float(2**bits - 1)
        arr = np.clip(a * (255.0 / top), 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        if pi == "MONOCHROME1":
            arr = 255 - arr
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 4:
        arr = arr[:, :, :3]
    return np.ascontiguousarray(arr)


class DicomClipSource(SeekableSource):
    """A multi-frame DICOM cine, with the same reading API as :class:`ClipSource`.

    ``read()`` returns the next frame (paced to the cine's frame rate x ``speed`` when
    ``paced``), ``seek(i)`` returns frame ``i`` exactly. The frame rate comes from
    FrameTimeVector, FrameTime (0018,1063), CineRate (0018,0040) or
    RecommendedDisplayFrameRate (0008,2144), else 30 fps.

    Not thread-safe: use it from one worker thread at a time.
    """

    def __init__(self, path: str | Path, paced: bool = True, loop: bool = False) -> None:
        super().__init__(paced=paced, loop=loop, fps=DEFAULT_FPS)
        self.path = str(path)
        self.name = Path(self.path).name
        #: what decodes the pixel data: "pydicom" or "opencv" (JPEG without Pillow)
        self.decoder_name = ""
        self._ds: Any = None  # the pydicom dataset once open
        self._decoder: Any = None  # pydicom's decoder for its transfer syntax
        self._jpeg_frames: list[bytes] | None = None
        self._n = 0
        self._times: list[float] | None = None

    # -- properties ------------------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        return self._n

    @property
    def location(self) -> str:
        return self.path

    def _time_of(self, index: int) -> float:
        return float(self._times[index]) if self._times is not None else index / self._fps

    def describe(self) -> str:
        if self._n:
            return f"DICOM {self.name} ({self._n} frames, {self._fps:.3g} fps)"
        return f"DICOM {self.name}"

    # -- open / close ----------------------------------------------------------------------

    def _bad(self, detail: object) -> SourceError:
        return SourceError(f"{self.name} is not a readable DICOM cine: {detail}")

    def open(self) -> None:
        if self._ds is not None:
            return
        import pydicom
        from pydicom.errors import InvalidDicomError

        p = Path(self.path)
        if not p.exists():
            raise SourceError(f"File not found: {self.path}")
        try:
            ds = pydicom.dcmread(self.path)
        except InvalidDicomError as e:
            raise self._bad(f"not a DICOM file ({e})") from None
        except OSError as e:
            raise SourceError(f"Cannot read {self.name}: {e.strerror or e}") from None
        except Exception as e:  # noqa: BLE001 - pydicom raises many types on damaged files
            raise self._bad(e) from None
        if "PixelData" not in ds:
            raise self._bad("it contains no image (no Pixel Data)")
        from .frame_size import check_frame_size

        check_frame_size(getattr(ds, "Columns", 0), getattr(ds, "Rows", 0), self.name)
        try:
            self._n = int(getattr(ds, "NumberOfFrames", 1) or 1)
            ts = ds.file_meta.TransferSyntaxUID
        except Exception as e:  # noqa: BLE001
            raise self._bad(e) from None
        self._ds = ds
        try:
            self._setup_decoder(ts)
            self._fps, self._times = _frame_rate(ds)
            self._decode(0)  # fail now, with a plain message, rather than mid-playback
        except SourceError:
            self.close()
            raise
        self._next_index = 0
        self._pacer.reset()

    def _setup_decoder(self, ts) -> None:
        from pydicom.pixels import get_decoder

        try:
            decoder = get_decoder(ts)
        except NotImplementedError:
            raise self._bad(f"its transfer syntax {ts} is not supported") from None
        if decoder.is_available:
            self._decoder = decoder
            self.decoder_name = "pydicom"
        elif str(ts) in _JPEG_BASELINE:
            from pydicom.encaps import generate_frames

            try:
                self._jpeg_frames = list(
                    generate_frames(self._ds.PixelData, number_of_frames=self._n)
                )
            except Exception as e:  # noqa: BLE001
                raise self._bad(f"damaged JPEG pixel data ({e})") from None
            self.decoder_name = "opencv"
        else:
            need = "; ".join(decoder.missing_dependencies) or "a decoder plugin"
            raise SourceError(
                f"{self.name} uses {getattr(ts, 'name', ts)} compression, which this "
                f"installation cannot decode ({need})."
            )

    def close(self) -> None:
        self._ds = None
        self._decoder = None
        self._jpeg_frames = None

    # -- decoding --------------------------------------------------------------------------

    def _decode(self, index: int) -> np.ndarray:
        try:
            if self._jpeg_frames is not None:
                return decode_jpeg_opencv(self._jpeg_frames[index], self._ds)
            arr, _ = self._decoder.as_array(self._ds, index=index)
            return to_rgb8(arr, self._ds)
        except SourceError:
            raise
        except Exception as e:  # noqa: BLE001 - any decoder failure becomes a plain message
            raise self._bad(f"frame {index} cannot be decoded ({e})") from None

    def _frame(self, index: int) -> Frame:
        rgb = self._decode(index)
        return Frame(pixels=rgb, timestamp=self.frame_time(index), index=index, source=self.name)

    def read(self) -> Frame:
        if self._ds is None:
            raise SourceError(f"{self.name} is not open")
        if self._next_index >= self._n:
            if not self.loop:
                raise EndOfStream(self.name)
            self._next_index = 0
            self._pacer.reset()
        frame = self._frame(self._next_index)
        self._next_index += 1
        if self.paced:
            self._pacer.wait(frame.timestamp)
        return frame

    def seek(self, index: int) -> Frame:
        if self._ds is None:
            raise SourceError(f"{self.name} is not open")
        index = int(index)
        if not 0 <= index < self._n:
            raise IndexError(f"frame {index} is outside 0..{self._n - 1}")
        self._pacer.reset()
        frame = self._frame(index)
        self._next_index = index + 1
        return frame


def decode_jpeg_opencv(data: bytes, ds) -> np.ndarray:
    """Decode one JPEG Baseline frame with OpenCV (used when pydicom has no JPEG plugin)."""
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError("OpenCV could not decode the JPEG frame")
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return to_rgb8(img, ds)
