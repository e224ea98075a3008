"""Batch processing of recorded clips (``sonolive process``); Qt-free.

For one input (a video file or a DICOM cine) :func:`process_file` writes:

* ``<stem>_annotated.mp4``: the overlay frames, H.264 (the Recorder's codec choice);
* ``<stem>_frames.csv`` and ``<stem>_frames.json``: per frame the index, time, classes
  present, areas in pixels and % of the ROI, confidence (:mod:`.report`) and ``roi``, the
  region of the source picture processed (``[x, y, w, h]``);
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
from ..capture.roi import crop, fit
from ..capture.roi_follow import RoiFollower
from ..capture.source import EndOfStream, SourceError
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
    #: the region of the first frame (source pixels, [x, y, w, h]), and every change of it
    roi: list[int] | None = None
    roi_changes: list[dict[str, Any]] = field(default_factory=list)

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


def initial_roi(src, fps: float) -> RoiFollower | None:
    """A :class:`RoiFollower` that already holds the region of the clip's first second (read
    ahead, then the source is rewound), so that the first frames are cropped too; ``None``
    when the source cannot be rewound (the follower then starts from the whole frame)."""
    if not getattr(src, "seekable", False):
        return None
    scout = RoiFollower(fps)
    try:
        for _ in range(scout.detect_frames):
            scout.update(src.read().pixels)
    except EndOfStream:
        pass
    region = scout.finish()
    src.close()
    src.open()
    follower = RoiFollower(fps, initial=region)
    follower.notice = scout.notice
    return follower


def process_file(
    path: str | Path,
    out_dir: str | Path,
    segmenter: Segmenter,
    style: OverlayStyle | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    roi: str = "auto",
) -> FileSummary:
    """Segment every frame of ``path`` and write the annotated MP4, CSV, JSON and summary.

    ``roi="auto"`` (the default) processes only the ultrasound image of a raw scanner
    recording, as the live path does, so menus and burned-in text stay out; it follows a
    depth or preset change and letterboxes the new region into the first one's size. A clip
    that is already just the image keeps its full frame. ``roi="none"`` turns it off.

    Raises :class:`SourceError` (unreadable input) or :class:`BatchError` (cannot write).
    ``progress(done, total)`` is called after each frame.
    """
    path = Path(path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    src = open_source(str(path), paced=False)
    src.open()
    follower = None
    if roi != "none" and not getattr(src, "stills", False):
        follower = initial_roi(src, float(src.fps)) or RoiFollower(float(src.fps))
    out_size: tuple[int, int] | None = None
    rois: list[tuple[int, list[int]]] = []  # (first frame, region) each time it changed
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
            w.writerow([*csv_header(names), "roi"])
            while True:
                item = q.get()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                frame: Frame = item
                if follower is not None:
                    region = follower.update(item.pixels)
                    frame = crop(item, region) if region is not None else item
                    out_size = out_size or (frame.width, frame.height)
                    frame = fit(frame, out_size)
                if not rois or rois[-1][1] != list(frame.roi):
                    rois.append((frame.index, list(frame.roi)))
                seg = segmenter.segment(frame)
                image = overlay.compose(frame.pixels, seg.labels).image
                writer.write(image)
                rep = frame_report(
                    seg, frame.height * frame.width, index=frame.index, time_s=frame.timestamp
                )
                rep["roi"] = list(frame.roi)
                reports.append(rep)
                summary.add(rep)
                w.writerow([*csv_row(rep, names), json.dumps(rep["roi"])])
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
        warning="; ".join(
            m for m in (getattr(src, "warning", None), follower and follower.notice) if m
        )
        or None,
        roi=rois[0][1] if rois else None,
        roi_changes=[{"index": i, "roi": r} for i, r in rois],
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
