"""Batch processing of recorded clips (``sonolive process``); Qt-free.

For one input (a video file or a DICOM cine) :func:`process_file` writes:

* ``<stem>_annotated.mp4``: the overlay frames, H.264 (the Recorder's codec choice);
* ``<stem>_frames.csv`` and ``<stem>_frames.json``: per frame the index, time, classes
  present, areas in pixels and % of the ROI, confidence (:mod:`.report`) and ``roi``, the
  region of the source picture processed (``[x, y, w, h]``);
* ``<stem>_summary.json``: frame count, fps, duration, per-class frames present, mean area and
  mean confidence, the model's name and version, and the processing rate.

``<stem>`` is the input's stem, made distinct by :func:`output_names` when inputs share one
(``x.mp4`` and ``x.mkv`` give ``x_mp4`` and ``x_mkv``). Outputs are written under hidden
temporary names and renamed only when the whole input succeeded, so a failed input leaves
nothing behind.

Decoding, inference and encoding overlap: a reader thread decodes ahead (and crops the ROI and
makes the network's input), and a writer thread composes the overlay and encodes behind, each
behind a small bounded queue, so one file is a three-stage pipeline.
Every frame is processed (nothing is dropped, unlike the live path).
"""

from __future__ import annotations

import csv
import json
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..capture.frame import Frame
from ..capture.mp4_writer import Mp4Writer
from ..capture.open_source import open_source
from ..capture.recorder import burn_watermark
from ..capture.roi import crop, fit
from ..capture.roi_follow import RoiFollower
from ..capture.source import EndOfStream, SourceError, as_seekable
from .ood import fraction_in_distribution
from .overlay import OverlayStyle
from .pipeline import Pipeline
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
    in_distribution_fraction: float | None = None  # None: the model has no reference statistics
    ood_note: str | None = None  # why the frames were not checked against the training data

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class VideoWriter:
    """The MP4 writer on its own thread; ``write`` blocks only when the queue is full.

    ``ultrafast`` at CRF 23: measured 20 frames/s for the whole 1080p job against 16.5 with
    ``veryfast`` (``bench/bench_process.py``); the picture stays visually lossless, the files
    are larger.
    """

    def __init__(
        self,
        path: Path,
        fps: float,
        *,
        preset: str = "ultrafast",
        crf: int = 23,
        compose: Callable[[Any], np.ndarray] | None = None,
    ):
        self.path = Path(path)
        #: turns a queued item into the picture on this thread (the overlay of frame n is
        #: composed here while the main thread infers frame n+1); None: items are pictures
        self.compose = compose
        self.error: BaseException | None = None
        self._mp4 = Mp4Writer(self.path, fps, preset=preset, crf=crf)
        self._q: queue.Queue = queue.Queue(maxsize=4)
        self._thread = threading.Thread(target=self._run, name="sonolive-batch-enc", daemon=True)
        self._thread.start()

    @property
    def frames(self) -> int:
        return self._mp4.frames

    def write(self, item: Any) -> None:
        if self.error is not None:
            raise BatchError(f"cannot write {self.path.name}: {self.error}")
        self._q.put(item)

    def close(self) -> None:
        self._q.put(_END)
        self._thread.join()
        if self.error is not None:
            raise BatchError(f"cannot write {self.path.name}: {self.error}")

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is _END:
                break
            if self.error is None:
                try:
                    self._mp4.write(item if self.compose is None else self.compose(item))
                except Exception as e:  # noqa: BLE001 - reported by write/close
                    self.error = e
        try:
            if self.error is None:
                self._mp4.close()
            else:
                self._mp4.abort()
        except Exception as e:  # noqa: BLE001
            self.error = self.error or e


def _reader(src, q: queue.Queue, stop: threading.Event, prepare: Callable[[Frame], Frame]) -> None:
    """Decode ahead on a thread and ``prepare`` each frame there (the ROI crop and the
    network's input, which then overlap the previous frame's forward pass); puts Frames,
    then _END or the exception that ended it."""
    try:
        while not stop.is_set():
            try:
                frame = src.read()
            except EndOfStream:
                break
            q.put(prepare(frame))
    except BaseException as e:  # noqa: BLE001 - handed to the consumer
        q.put(e)
        return
    q.put(_END)


def marked(image: np.ndarray) -> np.ndarray:
    """The exported picture with "Not for diagnostic use" burned in (a copy when the picture
    is not this function's to draw on)."""
    out = image if image.flags.writeable and image.flags.owndata else image.copy()
    burn_watermark(out)
    return out


def plain_reason(e: BaseException, path: str | Path) -> str:
    """A short reason for a failed input, without its own name at the front."""
    msg = str(e).strip() or type(e).__name__
    name = Path(str(path)).name
    for prefix in (f"{name} is ", f"{name}: ", f"{name} "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
            break
    if msg.startswith("File not found"):
        return "file not found"
    return msg


def output_names(inputs: list[str | Path]) -> list[str]:
    """A distinct output stem per input, in order: the stem when no other input shares it,
    else ``<stem>_<ext>``, else ``<folder>_<stem>_<ext>``, else with a number added.

    Names are compared without case, as Windows and macOS file systems do."""
    options = []
    for raw in inputs:
        p = Path(str(raw))
        ext = p.suffix.lstrip(".").lower()
        with_ext = f"{p.stem}_{ext}" if ext else p.stem
        options.append([p.stem, with_ext, f"{p.resolve().parent.name or 'root'}_{with_ext}"])
    level = [0] * len(options)
    for _ in range(2):
        names = [o[k].lower() for o, k in zip(options, level, strict=True)]
        clash = {n for n in names if names.count(n) > 1}
        if not clash:
            break
        level = [min(k + 1, 2) if n in clash else k for n, k in zip(names, level, strict=True)]
    out: list[str] = []
    taken: set[str] = set()
    for o, k in zip(options, level, strict=True):
        name, i = o[k], 1
        while name.lower() in taken:
            i += 1
            name = f"{o[k]}_{i}"
        taken.add(name.lower())
        out.append(name)
    return out


def initial_roi(src, fps: float) -> RoiFollower | None:
    """A :class:`RoiFollower` that already holds the region of the clip's first second (read
    ahead, then the source is rewound), so that the first frames are cropped too; ``None``
    when the source cannot be rewound (the follower then starts from the whole frame)."""
    if as_seekable(src) is None:
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
    name: str | None = None,
    show_ood: bool = False,
    temporal: bool = False,
) -> FileSummary:
    """Segment every frame of ``path`` and write the annotated MP4, CSV, JSON and summary.

        ``roi="auto"`` (the default) processes only the ultrasound image of a raw scanner
        recording, as the live path does, so menus and burned-in text stay out; it follows a
        depth or preset change and letterboxes the new region into the first one's size. A clip
        that is already just the image keeps its full frame. ``roi="none"`` turns it off.

        Frames unlike the model's training data get no overlay in the MP4, only a line saying
        why, unless ``show_ood`` (then the overlay is drawn with an "outside training data" mark).
    ``temporal``: smooth the masks over frames with the live Bedside filter
    (:class:`~.temporal.TemporalFilter`), for a steadier annotated clip.

        Raises :class:`SourceError` (unreadable input) or :class:`BatchError` (cannot write).
        ``progress(done, total)`` is called after each frame. ``name`` is the outputs' stem
        (default: the input's stem; see :func:`output_names`). On failure no output is left.
    """
    path = Path(path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = name or path.stem
    outputs = {
        "video": out_dir / f"{stem}_annotated.mp4",
        "csv": out_dir / f"{stem}_frames.csv",
        "json": out_dir / f"{stem}_frames.json",
        "summary": out_dir / f"{stem}_summary.json",
    }
    partial = {k: v.with_name(f".{v.name}.partial") for k, v in outputs.items()}
    try:
        result = _process(path, segmenter, style, progress, roi, partial, show_ood, temporal)
        result.outputs = {k: str(v) for k, v in outputs.items()}
        with open(partial["summary"], "w", encoding="utf-8") as f:
            json.dump(result.as_dict(), f, indent=2)
        for k, tmp in partial.items():
            os.replace(tmp, outputs[k])
    except BaseException:
        for tmp in partial.values():
            tmp.unlink(missing_ok=True)
        raise
    return result


def _process(
    path: Path,
    segmenter: Segmenter,
    style: OverlayStyle | None,
    progress: Callable[[int, int], None] | None,
    roi: str,
    outputs: dict[str, Path],
    show_ood: bool = False,
    temporal: bool = False,
) -> FileSummary:
    """:func:`process_file`'s work, writing to ``outputs`` (all but the summary)."""
    src = open_source(str(path), paced=False)
    src.open()
    follower = None
    seekable = as_seekable(src)
    if roi != "none" and not (seekable is not None and seekable.stills):
        follower = initial_roi(src, float(src.fps)) or RoiFollower(float(src.fps))
    rois: list[tuple[int, list[int]]] = []  # (first frame, region) each time it changed
    t_start = time.perf_counter()
    card = segmenter.card
    errors: list[str] = []
    # the live path's own processing (device compose on a GPU, CPU fallback on OOM, the gate)
    pipe = Pipeline(
        None,
        segmenter,
        style,
        on_status=lambda kind, msg: kind == "error" and errors.append(msg),
    )
    pipe.set_temporal(temporal)
    pipe.show_ood = show_ood  # frames unlike the training data: a plain line, or the marked overlay
    names = card.class_names[1:]
    fps = float(src.fps)
    total = seekable.frame_count if seekable is not None else 0
    summary = ReportSummary(names)
    reports: list[dict[str, Any]] = []
    out_size: list[tuple[int, int]] = []  # the first region's size, set on the reader thread

    def prepare(frame: Frame) -> Frame:
        if follower is not None:
            region = follower.update(frame.pixels)
            frame = crop(frame, region) if region is not None else frame
            if not out_size:
                out_size.append((frame.width, frame.height))
            frame = fit(frame, out_size[0])
        frame.mark_entered()
        pipe.prepare_input(frame)  # here on the reader thread (none on the device route)
        return frame

    q: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()
    reader = threading.Thread(target=_reader, args=(src, q, stop, prepare), daemon=True)
    writer = VideoWriter(
        outputs["video"], fps, compose=lambda part: marked(pipe.compose_segmented(part).image)
    )
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
                if not rois or rois[-1][1] != list(frame.roi):
                    rois.append((frame.index, list(frame.roi)))
                # composed on the writer thread, each frame judged on its own (no overlay on
                # any foreign frame)
                part = pipe.segment_ahead(frame, smooth=True)
                seg = part.seg
                if seg is None:
                    raise BatchError(errors[-1] if errors else "segmentation failed")
                writer.write(part)
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
    duration = seekable.duration if seekable is not None else n / fps if fps else 0.0
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
        warning="; ".join(
            m for m in (seekable and seekable.warning, follower and follower.notice) if m
        )
        or None,
        roi=rois[0][1] if rois else None,
        roi_changes=[{"index": i, "roi": r} for i, r in rois],
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
    return result
