"""Helpers shared by the clip and recorder tests: barcoded frames, test clips, DICOM cines.

Every test frame carries its frame number as the tests' one barcode (``barcode.BANNER``: big
black/white blocks over its top half, which survive lossy compression) and three colour
patches (red, green, blue) in its bottom half so colour handling can be checked too.
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from barcode import BANNER, centre_half, write_barcode

GREY = 128
PATCHES = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220)}


def _patch(w: int, h: int, k: int) -> tuple[int, int, int, int]:
    pw = w // 3
    return k * pw, h // 2 + h // 8, (k + 1) * pw, h - h // 8


def make_frame(n: int, w: int = 160, h: int = 120) -> np.ndarray:
    """An ``h x w`` RGB frame showing the number ``n`` as a barcode plus colour patches."""
    img = np.full((h, w, 3), GREY, np.uint8)
    write_barcode(img, n, BANNER)
    for k, rgb in enumerate(PATCHES.values()):
        x0, y0, x1, y1 = _patch(w, h, k)
        img[y0:y1, x0:x1] = rgb
    return img


def patch_colours(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Mean RGB of each colour patch."""
    h, w = rgb.shape[:2]
    return {
        name: rgb[centre_half(_patch(w, h, k))].reshape(-1, rgb.shape[2]).mean(axis=0)
        for k, name in enumerate(PATCHES)
    }


def encode_clip(
    path: str | Path,
    n: int,
    w: int = 160,
    h: int = 120,
    *,
    codec: str = "libx264",
    fps: int = 30,
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    gop: int = 10,
    pix_fmt: str | None = None,
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
) -> Path:
    """Encode ``n`` barcoded frames with PyAV. ``pts`` (in ``time_base``) makes it VFR."""
    import av

    path = Path(path)
    with av.open(str(path), "w", options=container_options or {}) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = w, h
        stream.pix_fmt = pix_fmt or ("yuvj420p" if codec == "mjpeg" else "yuv420p")
        stream.codec_context.gop_size = gop
        if options:
            stream.options = options
        tb = time_base or Fraction(1, fps)
        stream.codec_context.time_base = tb
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(make_frame(i, w, h), format="rgb24")
            frame.pts = pts[i] if pts is not None else i
            frame.time_base = tb
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def decode_all(path: str | Path) -> list[np.ndarray]:
    """Every frame of a video file as RGB, decoding as far as the file allows."""
    import av

    frames = []
    with av.open(str(path)) as c:
        try:
            for f in c.decode(video=0):
                frames.append(f.to_ndarray(format="rgb24"))
        except av.FFmpegError:
            pass
    return frames


def make_dicom(
    path: str | Path,
    frames: list[np.ndarray],
    *,
    photometric: str = "RGB",
    jpeg: bool = False,
    frame_time_ms: float | None = 40.0,
) -> Path:
    """A multi-frame ultrasound DICOM built with pydicom from RGB ``frames``.

    ``photometric`` is RGB, YBR_FULL or MONOCHROME2 for native (uncompressed) pixel data;
    ``jpeg=True`` encodes each frame with OpenCV as JPEG Baseline (YBR_FULL_422) and
    encapsulates the frames with pydicom.
    """
    import cv2
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.pixels import convert_color_space
    from pydicom.uid import (
        ExplicitVRLittleEndian,
        JPEGBaseline8Bit,
        UltrasoundMultiFrameImageStorage,
        generate_uid,
    )

    h, w = frames[0].shape[:2]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UltrasoundMultiFrameImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = UltrasoundMultiFrameImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.PatientName = "Test^Phantom"
    ds.Rows, ds.Columns = h, w
    ds.NumberOfFrames = len(frames)
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if frame_time_ms is not None:
        ds.FrameTime = frame_time_ms
    stack = np.stack(frames)
    if jpeg:
        ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
        ds.SamplesPerPixel = 3
        ds.PlanarConfiguration = 0
        ds.PhotometricInterpretation = "YBR_FULL_422"
        enc = []
        for f in frames:
            ok, buf = cv2.imencode(
                ".jpg", cv2.cvtColor(f, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95]
            )
            assert ok
            enc.append(buf.tobytes())
        ds.PixelData = encapsulate(enc)
        ds["PixelData"].VR = "OB"
        ds.LossyImageCompression = "01"
    else:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        if photometric == "MONOCHROME2":
            ds.SamplesPerPixel = 1
            grey = stack.mean(axis=3).round().astype(np.uint8)
            ds.PixelData = grey.tobytes()
        else:
            ds.SamplesPerPixel = 3
            ds.PlanarConfiguration = 0
            if photometric == "YBR_FULL":
                stack = convert_color_space(stack, "RGB", "YBR_FULL")
            ds.PixelData = stack.astype(np.uint8).tobytes()
        ds.PhotometricInterpretation = photometric
        ds["PixelData"].VR = "OB"
    ds.save_as(str(path), enforce_file_format=True)
    return Path(path)


def child_record(path: str, n: int, fps: float, write_rate: float) -> None:
    """Run in a subprocess by the crash test: record ``n`` barcoded frames steadily.

    Prints ``frames_written`` (frames the encoder has handed to the muxer) after each
    write, so the parent can kill this process mid-recording.
    """
    from sonolive.capture.recorder import Recorder

    rec = Recorder(path, fps=fps, mode="raw")  # the overlay file's mark would hide the code
    period = 1.0 / write_rate
    t0 = time.perf_counter()
    for i in range(n):
        rec.write(make_frame(i, 160, 120), None)
        print(rec.frames_written, flush=True)
        delay = t0 + (i + 1) * period - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    rec.close()
    print("done", flush=True)


if __name__ == "__main__":  # python tests/media_helpers.py OUT N FPS WRITE_RATE
    child_record(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))
