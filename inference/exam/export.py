"""Writing a finished exam to disk (Qt-free): per view a clip (MP4) and a key frame (PNG),
the one-page report (PDF), ``exam.json``, and the DICOM objects of one study.

Runs on a worker thread in the app (never on the GUI thread). Every file goes to a
temporary name first; the exam folder is ``<root>/exam_<YYYYmmdd_HHMMSS>``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from ...capture.mp4_writer import Mp4Writer
from .checklist import FINDING_LABEL, VIEW_BY_KEY, Exam
from .dicom_write import (
    Identity,
    KeyFrameSeries,
    Study,
    clip_dataset,
    pdf_dataset,
    save,
    segmentation_dataset,
)
from .report import ModelInfo, exam_record, report_pdf


@dataclass
class ExamExport:
    folder: Path
    report: Path
    record: Path
    dicom: list[Path] = field(default_factory=list)
    frames: int = 0  # frames in all DICOM objects together


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _comment(exam: Exam, view: str) -> str:
    rec = exam.views[view]
    text = f"{VIEW_BY_KEY[view].label}: {FINDING_LABEL.get(rec.finding or '', 'no finding')}"
    if rec.suggestion:
        text += f" (model suggested {VIEW_BY_KEY[rec.suggestion].label}"
        text += f", {rec.suggestion_confidence or 0:.2f})"
    return text


def export_exam(
    exam: Exam,
    root: str | Path,
    model: ModelInfo,
    identity: Identity | None = None,
    *,
    deidentified: bool = False,
    dicom: bool = True,
) -> ExamExport:
    """Write ``exam`` into a new folder under ``root``; returns what was written."""
    exam.finish()
    identity = identity or Identity()
    folder = Path(root) / f"exam_{exam.started:%Y%m%d_%H%M%S}"
    n = 1
    while folder.exists():
        n += 1
        folder = Path(root) / f"exam_{exam.started:%Y%m%d_%H%M%S}_{n}"
    folder.mkdir(parents=True)
    files: dict[str, dict[str, str]] = {}
    for key in exam.done:
        rec = exam.views[key]
        entry = files[key] = {}
        png = folder / f"{key}_key.png"
        ok, buf = cv2.imencode(".png", cv2.cvtColor(rec.key_image, cv2.COLOR_RGB2BGR))
        if ok:
            _write_bytes(png, buf.tobytes())
            entry["key_frame"] = png.name
        if rec.clip:
            mp4 = folder / f"{key}_clip.mp4"
            w = Mp4Writer(mp4, rec.clip_fps or 15.0)
            try:
                for img in rec.clip:
                    w.write(img)
            finally:
                w.close()
            entry["clip"] = mp4.name
    pdf = report_pdf(exam, model, identity, deidentified)
    report = folder / "report.pdf"
    _write_bytes(report, pdf)
    out = ExamExport(folder, report, folder / "exam.json")
    if dicom:
        out.dicom, out.frames = _write_dicom(
            exam, folder / "dicom", model, identity, deidentified, pdf
        )
    record = exam_record(exam, model, identity, deidentified, files)
    record["report"] = report.name
    record["dicom"] = [str(p.relative_to(folder)) for p in out.dicom]
    record["dicom_frames"] = out.frames
    if out.dicom:
        from pydicom import dcmread

        record["study_instance_uid"] = str(
            dcmread(out.dicom[0], stop_before_pixels=True).StudyInstanceUID
        )
    _write_bytes(out.record, (json.dumps(record, indent=2) + "\n").encode())
    return out


def _write_dicom(
    exam: Exam, folder: Path, model: ModelInfo, identity: Identity, deidentified: bool, pdf: bytes
) -> tuple[list[Path], int]:
    """One study: a series of clips, a series of key frames, their segmentations, the report."""
    folder.mkdir(parents=True, exist_ok=True)
    study = Study(identity=identity, deidentified=deidentified, when=exam.started)
    paths: list[Path] = []
    frames = 0
    from pydicom.uid import generate_uid

    clips = (study.next_series(), generate_uid())
    keys = KeyFrameSeries(study)
    seg_series = (study.next_series(), generate_uid())
    for i, key in enumerate(exam.done, start=1):
        rec = exam.views[key]
        comment = _comment(exam, key)
        if rec.clip:
            ds = clip_dataset(
                rec.clip,
                rec.clip_fps,
                study,
                description="Clips",
                series=clips,
                number=i,
                comment=comment,
            )
            paths.append(save(ds, folder / f"{i:02d}_{key}_clip.dcm"))
            frames += len(rec.clip)
        sc = keys.add(rec.key_raw if rec.key_raw is not None else rec.key_image, comment)
        paths.append(save(sc, folder / f"{i:02d}_{key}_key.dcm"))
        frames += 1
        if rec.key_labels is not None and model.classes and rec.key_raw is not None:
            seg = segmentation_dataset(
                sc,
                rec.key_labels,
                model.classes,
                model=model.name,
                model_version=model.version,
                series=seg_series,
            )
            if seg is not None:
                paths.append(save(seg, folder / f"{i:02d}_{key}_seg.dcm"))
                frames += int(seg.NumberOfFrames)
    paths.append(save(pdf_dataset(pdf, study), folder / "report.dcm"))
    return paths, frames
