"""Batch processing of recorded clips (``sonolive process``); Qt-free.

For one input (a video file or a DICOM cine) :func:`process_file` writes:

* ``<stem>_annotated.mp4``: the overlay frames, H.264 (the Recorder's codec choice);
* ``<stem>_frames.csv`` and ``<stem>_frames.json``: per frame the index, time, classes
  present, areas in pixels and % of the ROI, confidence (:mod:`.report`) and ``roi``, the
  region of the source picture processed (``[x, y, w, h]``);
* ``<stem>_summary.json``: frame count, fps, duration, per-class frames present, mean area and
  mean confidence, the model's name and version, and the processing rate. The class figures
  count only the frames judged like the model's training data (``in_distribution_frames``
  of them); the per-frame rows keep every frame's raw figures, with ``in_distribution``.

``<stem>`` is the input's stem, made distinct by :func:`output_names` when inputs share one
(``x.mp4`` and ``x.mkv`` give ``x_mp4`` and ``x_mkv``). Outputs are written under unique
hidden temporary names created exclusively in the output folder (:mod:`.outputs`) and renamed
only when the whole input succeeded, so a failed or interrupted input leaves nothing behind.
The MP4 carries each frame's decoded time, so the CSV's ``time_s`` and the video agree on a
variable-frame-rate input; JSON holds finite numbers only.

Decoding, inference and encoding overlap: a reader thread decodes ahead (and crops the ROI and
makes the network's input), and a writer thread composes the overlay and encodes behind, each
behind a small bounded queue, so one file is a three-stage pipeline.
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
from pathlib import Path
from typing import Any

import numpy as np

from ..capture.frame import Frame
from ..capture.mp4_writer import Mp4Writer
from ..capture.open_source import open_source
from ..capture.recorder import burn_watermark
from ..capture.roi import blank, fit
from ..capture.roi_stage import RoiStage, parse_roi
from ..capture.source import EndOfStream, SourceError, as_seekable
from ..capture.workers import spawn
from .chain import Job
from .gate.ood import fraction_in_distribution
from .outputs import OutputFiles, json_bytes, prepare_folder, safe_stem, shown
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
    #: frames written with everything outside the picture blanked (no region was found, or
    #: only an uncertain one): burned-in text cannot be read from them
    roi_blanked_frames: int = 0
    in_distribution_fraction: float | None = None  # None: the model has no reference statistics
    ood_note: str | None = None  # why the frames were not checked, or on what score
    #: the frames ``classes`` is counted over: those judged like the training data (all
    #: frames when the model has no reference statistics)
    in_distribution_frames: int | None = None

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
        self._mp4 = Mp4Writer(self.path, fps, preset=preset, crf=crf, timestamps=True)
        self._q: queue.Queue = queue.Queue(maxsize=4)
        self._cancelled = False
        self._thread = spawn(self._run, name="sonolive-batch-enc")

    @property
    def frames(self) -> int:
        return self._mp4.frames

    def write(self, item: Any, time_s: float | None = None) -> None:
        """Queue one frame; ``time_s``: its decoded time (the MP4 keeps it)."""
        if self.error is not None:
            raise BatchError(f"cannot write {self.path.name}: {self.error}")
        self._q.put((item, time_s))

    def close(self) -> None:
        self._q.put(_END)
        self._thread.join()
        if self.error is not None:
            raise BatchError(f"cannot write {self.path.name}: {self.error}")

    def cancel(self) -> None:
        """Stop the encoder without the frames still queued (an interrupted or failed run)
        and wait for it: once this returns, nothing writes the file any more, so the caller
        can remove it. A no-op after :meth:`close`."""
        self._cancelled = True
        while True:  # room for the end marker
            try:
                self._q.get_nowait()
            except queue.Empty:
                break
        try:
            self._q.put_nowait(_END)
        except queue.Full:  # the encoder took a frame meanwhile and is on its way to get
            pass
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is _END:
                break
            if self._cancelled:
                continue
            if self.error is None:
                item, time_s = item
                try:
                    picture = item if self.compose is None else self.compose(item)
                    self._mp4.write(picture, time_s=time_s)
                except Exception as e:  # noqa: BLE001 - reported by write/close
                    self.error = e
        try:
            if self.error is None and not self._cancelled:
                self._mp4.close()
            else:
                self._mp4.abort()
        except Exception as e:  # noqa: BLE001
            self.error = self.error or e


def _reader(
    src, q: queue.Queue, stop: threading.Event, prepare: Callable[[Frame], Job | None]
) -> None:
    """Decode ahead on a thread and ``prepare`` each frame there (the chain's ROI and prepare
    stages, which then overlap the previous frame's forward pass); puts Jobs, then _END or
    the exception that ended it."""
    try:
        while not stop.is_set():
            try:
                frame = src.read()
            except EndOfStream:
                break
            job = prepare(frame)
            if job is not None:
                q.put(job)
    except BaseException as e:  # noqa: BLE001 - handed to the consumer
        q.put(e)
        return
    q.put(_END)


def _keep_error(errors: list[str], kind: str, msg: str) -> None:
    if kind == "error":
        errors.append(msg)


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


def roi_stage_for(src) -> RoiStage:
    """The live path's :class:`RoiStage` for a clip: when the source can be rewound, it has
    already decided on the clip's first second (read ahead, then the source is rewound), so
    that the first frames are cropped too."""
    fps = float(src.fps or 30.0)
    stage = RoiStage(detect_frames=max(2, round(fps)), fps=fps)  # a second, as live
    seekable = as_seekable(src)
    if seekable is not None:
        stage.detect_from(seekable)
        src.close()
        src.open()
    return stage


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
        that is already just the image keeps its full frame. It is the live path's own
        :class:`RoiStage`: where no region is found, or only an uncertain one, the frames are
        written with everything outside the picture blanked (``roi_blanked_frames`` in the
        summary), so burned-in text never reaches the outputs. ``roi="none"`` turns it off;
        ``roi="X,Y,W,H"`` uses that region (source pixels) on every frame.

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
    prepare_folder(out_dir)
    stem = safe_stem(name or path.stem)
    outputs = {
        "video": out_dir / f"{stem}_annotated.mp4",
        "csv": out_dir / f"{stem}_frames.csv",
        "json": out_dir / f"{stem}_frames.json",
        "summary": out_dir / f"{stem}_summary.json",
    }
    files = OutputFiles(outputs)
    try:
        partial = files.create()
        result = _process(path, segmenter, style, progress, roi, partial, show_ood, temporal)
        result.outputs = {k: shown(v) for k, v in outputs.items()}
        partial["summary"].write_bytes(json_bytes(result.as_dict(), indent=2))
        files.commit()
    except BaseException:
        files.discard()
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
    stage = None
    seekable = as_seekable(src)
    if roi not in ("none", "auto"):
        stage = RoiStage(fixed_roi=parse_roi(roi))  # given by the person: no detection
    elif roi == "auto" and not (seekable is not None and seekable.stills):
        stage = roi_stage_for(src)
    rois: list[tuple[int, list[int]]] = []  # (first frame, region) each time it changed
    t_start = time.perf_counter()
    card = segmenter.card
    errors: list[str] = []
    # the live path's own processing (device compose on a GPU, CPU fallback on OOM, the gate)
    # frames unlike the training data: a plain line, or with show_ood the marked overlay
    pipe = Pipeline(
        None,
        segmenter,
        style,
        on_status=lambda kind, msg: _keep_error(errors, kind, msg),
        show_ood=show_ood,
        temporal=temporal,
    )
    names = card.class_names[1:]
    fps = float(src.fps)
    total = seekable.frame_count if seekable is not None else 0
    summary = ReportSummary(names)
    reports: list[dict[str, Any]] = []
    out_size: list[tuple[int, int]] = []  # the first region's size, set on the reader thread
    blanked = [0]  # frames written with the text-like areas blanked (reader thread)

    def roi_choice(frame: Frame) -> Frame:
        """The stage's region (letterboxed into the first region's size), or the frame with
        everything outside the picture blanked while it is uncertain or still undecided."""
        assert stage is not None
        before = stage.blanked
        out = stage(frame)
        held = out is None
        if out is None:  # still detecting (a source that cannot be read ahead): no text
            out = blank(frame, np.zeros(frame.pixels.shape[:2], np.uint8))
        if held or stage.blanked != before:
            blanked[0] += 1
        if not out_size:
            out_size.append((out.width, out.height))
        return fit(out, out_size[0])

    def prepare(frame: Frame) -> Job | None:  # ROI and prepare, here on the reader thread
        return pipe.enter(frame, roi_choice if stage is not None else None, smooth=True)

    q: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()
    reader = spawn(_reader, name="sonolive-batch-read", args=(src, q, stop, prepare), start=False)
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
                job: Job = item
                frame = job.frame
                region = list(frame.roi or (0, 0, frame.width, frame.height))
                if not rois or rois[-1][1] != region:
                    rois.append((frame.index, region))
                # composed on the writer thread, each frame judged on its own (no overlay on
                # any foreign frame)
                part = pipe.segment_ahead(job)
                seg = part.seg
                if seg is None:
                    raise BatchError(errors[-1] if errors else "segmentation failed")
                writer.write(part, time_s=frame.timestamp)
                rep = frame_report(
                    seg, frame.height * frame.width, index=frame.index, time_s=frame.timestamp
                )
                rep["roi"] = region
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
            # an interrupt or error during the close (or before it): the encoder must be
            # done before the caller removes the partial files, or it writes them again
            writer.cancel()
            src.close()
    if not reports:
        raise SourceError(f"{shown(path.name)} is not a readable video (truncated or corrupt)")
    seconds = time.perf_counter() - t_start
    n = len(reports)
    duration = seekable.duration if seekable is not None else n / fps if fps else 0.0
    result = FileSummary(
        input=shown(path),
        frames=n,
        fps=round(fps, 4),
        duration_s=round(duration, 4),
        model=card.name,
        model_version=card.version,
        processing_fps=round(n / seconds, 2) if seconds > 0 else 0.0,
        seconds=round(seconds, 3),
        classes=summary.per_class(),
        warning="; ".join(m for m in (seekable and seekable.warning, stage and stage.notice) if m)
        or None,
        roi_blanked_frames=blanked[0],
        roi=rois[0][1] if rois else None,
        roi_changes=[{"index": i, "roi": r} for i, r in rois],
        in_distribution_fraction=fraction_in_distribution(r["in_distribution"] for r in reports),
        ood_note=segmenter.reference_note,
        in_distribution_frames=summary.counted_frames,
    )
    doc = {
        "input": shown(path),
        "model": card.name,
        "model_version": card.version,
        "fps": result.fps,
        "frames": reports,
    }
    outputs["json"].write_bytes(json_bytes(doc))
    return result
