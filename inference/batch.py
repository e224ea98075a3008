"""Batch processing of recorded clips (``sonolive process``); Qt-free.

For one input (a video file or a DICOM cine) :func:`process_file` writes:

* ``<stem>_annotated.mp4``: the overlay frames, H.264 (the Recorder's codec choice);
* ``<stem>_frames.csv`` and ``<stem>_frames.json``: per frame the index, time, classes
  present, areas in pixels and % of the ROI, and confidence (:mod:`.report`);
* ``<stem>_summary.json``: frame count, fps, duration, per-class frames present, mean area and
  mean confidence, the model's name and version, and the processing rate.

Decoding, inference and encoding overlap: a reader thread decodes ahead and a writer thread
encodes behind, each behind a small bounded queue, so one file is a three-stage pipeline.
Every frame is processed (nothing is dropped, unlike the live path).
"""

from __future__ import annotations

import csv
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from ..capture.frame import Frame
from ..capture.open_source import open_source
from ..capture.recorder import pick_codec
from ..capture.roi import crop, detect_roi
from ..capture.source import EndOfStream, SourceError
from .ood import draw_gate_line, draw_mark, fraction_in_distribution
from .overlay import Overlay, OverlayStyle
from .report import ReportSummary, csv_header, csv_row, frame_report
from .segmenter import Segmenter

_END = object()


class BatchError(RuntimeError):
    """One input could not be processed; the message is plain words for the user."""


@dataclass
class FileSummary:
    input: str
    frames: int
    fps: float
    duration_s: float
    model: str
    model_version: str
    processing_fps: float
    seconds: float
    classes: dict[str, dict[str, Any]]
    outputs: dict[str, str] = field(default_factory=dict)
    warning: str | None = None
    in_distribution_fraction: float | None = None  # None: the model has no reference statistics
    ood_note: str | None = None  # why the frames were not checked against the training data

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class VideoWriter:
    """H.264 MP4 writer on its own thread; ``write`` blocks only when the queue is full."""

    def __init__(self, path: Path, fps: float, *, preset: str = "veryfast", crf: int = 23):
        self.path = Path(path)
        self.fps = fps
        self.preset = preset
        self.crf = crf
        self.codec, _ = pick_codec()
        self.frames = 0
        self.error: BaseException | None = None
        self._q: queue.Queue = queue.Queue(maxsize=4)
        self._container = None
        self._stream = None
        self._size: tuple[int, int] | None = None
        self._thread = threading.Thread(target=self._run, name="sonolive-batch-enc", daemon=True)
        self._thread.start()

    def write(self, rgb: np.ndarray) -> None:
        if self.error is not None:
            raise BatchError(f"cannot write {self.path.name}: {self.error}")
        self._q.put(rgb)

    def close(self) -> None:
        self._q.put(_END)
        self._thread.join()
        if self.error is not None:
            raise BatchError(f"cannot write {self.path.name}: {self.error}")

    def _open(self, w: int, h: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(self.path), "w", format="mp4")
        rate = Fraction(self.fps).limit_denominator(1001)
        s = self._container.add_stream(self.codec, rate=rate)
        s.width, s.height = w, h
        s.pix_fmt = "yuv420p"
        s.codec_context.time_base = 1 / rate
        s.thread_type = "AUTO"
        if self.codec in ("libx264", "h264"):
            s.options = {"preset": self.preset, "crf": str(self.crf)}
        else:
            s.codec_context.bit_rate = int(w * h * self.fps * 0.2)
        self._stream = s
        self._size = (w, h)

    def _encode(self, rgb: np.ndarray) -> None:
        h, w = rgb.shape[:2]
        if self._container is None:
            self._open(w + w % 2, h + h % 2)
        ew, eh = self._size
        if (w, h) != (ew, eh):
            pad = np.zeros((eh, ew, 3), np.uint8)
            pad[: min(h, eh), : min(w, ew)] = rgb[:eh, :ew]
            rgb = pad
        f = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        f = f.reformat(format="yuv420p")
        f.pts = self.frames
        self.frames += 1
        for packet in self._stream.encode(f):
            self._container.mux(packet)

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is _END:
                break
            if self.error is None:
                try:
                    self._encode(item)
                except Exception as e:  # noqa: BLE001 - reported by write/close
                    self.error = e
        try:
            if self._container is not None:
                if self.error is None:
                    for packet in self._stream.encode(None):
                        self._container.mux(packet)
                self._container.close()
        except Exception as e:  # noqa: BLE001
            self.error = self.error or e


def _reader(src, q: queue.Queue, stop: threading.Event) -> None:
    """Decode ahead on a thread; puts Frames, then _END or the exception that ended it."""
    try:
        while not stop.is_set():
            try:
                frame = src.read()
            except EndOfStream:
                break
            q.put(frame)
    except BaseException as e:  # noqa: BLE001 - handed to the consumer
        q.put(e)
        return
    q.put(_END)


def plain_reason(e: BaseException, path: str | Path) -> str:
    """A short reason for a failed input, without its own name at the front."""
    msg = str(e).strip() or type(e).__name__
    name = Path(str(path)).name
    for prefix in (f"{name} is ", f"{name}: ", f"{name} "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
            break
    for plain in ("not a readable video (truncated or corrupt)", "not a readable DICOM cine"):
        if msg.startswith(plain):
            return plain
    if msg.startswith("File not found"):
        return "file not found"
    return msg


def clip_roi(src, samples: int = 30) -> tuple[int, int, int, int] | None:
    """The ultrasound image region of a recorded scanner clip, found from frames spread over
    the clip (the part that changes while menus and burned-in text stay still); None when it
    is the whole picture. The source is rewound to its first frame afterwards."""
    n = int(getattr(src, "frame_count", 0) or 0)
    if not getattr(src, "seekable", False) or n < 3:
        return None
    idx = np.unique(np.linspace(0, n - 1, min(samples, n)).astype(int))
    frames = [src.seek(int(i)).pixels for i in idx]
    x, y, w, h = detect_roi(frames)
    H, W = frames[0].shape[:2]
    src.close()
    src.open()
    return None if w * h >= 0.98 * W * H else (x, y, w, h)


def annotate(overlay: Overlay, rgb: np.ndarray, seg, card, show_ood: bool = False) -> np.ndarray:
    """The MP4 picture of one frame: the overlay, or on a frame unlike the training data the
    plain picture and a line saying why (the overlay with a mark when ``show_ood``)."""
    if seg.in_distribution is False and not show_ood:
        return draw_gate_line(rgb, card)
    image = overlay.compose(rgb, seg.labels).image
    return draw_mark(image) if seg.in_distribution is False else image


def process_file(
    path: str | Path,
    out_dir: str | Path,
    segmenter: Segmenter,
    style: OverlayStyle | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    roi: str = "none",
    show_ood: bool = False,
) -> FileSummary:
    """Segment every frame of ``path`` and write the annotated MP4, CSV, JSON and summary.

    ``roi="auto"`` finds the ultrasound image in a raw scanner recording first and processes
    only that region, as the live path does, so menus and burned-in text stay out.

    Frames unlike the model's training data get no overlay in the MP4, only a line saying
    why, unless ``show_ood`` (then the overlay is drawn with an "outside training data" mark).

    Raises :class:`SourceError` (unreadable input) or :class:`BatchError` (cannot write).
    ``progress(done, total)`` is called after each frame.
    """
    path = Path(path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    src = open_source(str(path), paced=False)
    src.open()
    roi = clip_roi(src) if roi == "auto" else None
    t_start = time.perf_counter()
    stem = path.stem
    outputs = {
        "video": out_dir / f"{stem}_annotated.mp4",
        "csv": out_dir / f"{stem}_frames.csv",
        "json": out_dir / f"{stem}_frames.json",
        "summary": out_dir / f"{stem}_summary.json",
    }
    card = segmenter.card
    overlay = Overlay(card, style or OverlayStyle())
    names = card.class_names[1:]
    fps = float(src.fps)
    total = int(getattr(src, "frame_count", 0) or 0)
    summary = ReportSummary(names)
    reports: list[dict[str, Any]] = []
    q: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()
    reader = threading.Thread(target=_reader, args=(src, q, stop), daemon=True)
    writer = VideoWriter(outputs["video"], fps)
    reader.start()
    try:
        with open(outputs["csv"], "w", newline="", encoding="utf-8") as fcsv:
            w = csv.writer(fcsv)
            w.writerow(csv_header(names))
            while True:
                item = q.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                frame: Frame = crop(item, roi) if roi is not None else item
                seg = segmenter.segment(frame)
                writer.write(annotate(overlay, frame.pixels, seg, card, show_ood))
                rep = frame_report(
                    seg, frame.height * frame.width, index=frame.index, time_s=frame.timestamp
                )
                reports.append(rep)
                summary.add(rep)
                w.writerow(csv_row(rep, names))
                if progress is not None:
                    progress(len(reports), total)
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting on a full queue
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass
        try:
            writer.close()
        finally:
            src.close()
    if not reports:
        raise SourceError(f"{path.name} is not a readable video (truncated or corrupt)")
    seconds = time.perf_counter() - t_start
    n = len(reports)
    duration = float(src.duration) if getattr(src, "duration", 0) else n / fps if fps else 0.0
    result = FileSummary(
        input=str(path),
        frames=n,
        fps=round(fps, 4),
        duration_s=round(duration, 4),
        model=card.name,
        model_version=card.version,
        processing_fps=round(n / seconds, 2) if seconds > 0 else 0.0,
        seconds=round(seconds, 3),
        classes=summary.per_class(),
        outputs={k: str(v) for k, v in outputs.items()},
        warning=getattr(src, "warning", None),
        in_distribution_fraction=fraction_in_distribution(r["in_distribution"] for r in reports),
        ood_note=segmenter.reference_note,
    )
    with open(outputs["json"], "w", encoding="utf-8") as f:
        json.dump(
            {
                "input": str(path),
                "model": card.name,
                "model_version": card.version,
                "fps": result.fps,
                "frames": reports,
            },
            f,
            indent=1,
        )
    with open(outputs["summary"], "w", encoding="utf-8") as f:
        json.dump(result.as_dict(), f, indent=2)
    return result
