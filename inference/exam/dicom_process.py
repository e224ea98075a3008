"""``sonolive process --dicom``: the DICOM objects of one processed input (Qt-free).

From what :func:`~.batch.process_file` wrote, one study per input, in
``<OUTDIR>/<stem>_dicom/``:

* ``clip.dcm``: the annotated MP4's every frame, as a Multi-frame True Color Secondary Capture;
* ``key.dcm``: the key frame (the frame, among those the training-data check accepted, where
  the model found the most organ area; else the middle frame), the ROI picture without
  overlay, as Secondary Capture;
* ``seg.dcm``: the model's masks of that key frame as a DICOM Segmentation;
* ``report.dcm``: a one-page PDF of the summary as Encapsulated PDF.
"""

from __future__ import annotations

import json
from pathlib import Path

import av

from ...capture.open_source import open_source
from ...capture.roi import crop, fit
from ...capture.source import EndOfStream
from ..pipeline import Pipeline
from ..segmenter import Segmenter
from .dicom_write import (
    Identity,
    KeyFrameSeries,
    Study,
    clip_dataset,
    pdf_dataset,
    save,
    segmentation_dataset,
)
from .report import ModelInfo, clip_report_pdf


def _frames(path: Path):
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            yield f.to_ndarray(format="rgb24")


def key_index(reports: list[dict]) -> int:
    """The frame with the largest organ area among the accepted ones (or the middle one)."""
    ok = [r for r in reports if r.get("in_distribution") is not False and r.get("areas_px")]
    if not ok:
        return int(reports[len(reports) // 2]["index"]) if reports else 0
    return int(max(ok, key=lambda r: sum(r["areas_px"].values()))["index"])


def _key_frame(path: str, index: int, roi: list[int] | None, size: tuple[int, int] | None):
    """Frame ``index`` of the input, cropped and fitted as ``process`` did."""
    src = open_source(str(path), paced=False)
    src.open()
    try:
        while True:
            f = src.read()
            if f.index >= index:
                break
    except EndOfStream:
        raise ValueError(f"{Path(path).name}: frame {index} could not be read again") from None
    finally:
        src.close()
    if roi is not None and (f.width, f.height) != (roi[2], roi[3]):
        x, y, w, h = roi  # a report's ROI: a JSON list
        f = crop(f, (x, y, w, h))
    return fit(f, size) if size else f


def write_process_dicom(
    summary,
    out_dir: str | Path,
    segmenter: Segmenter,
    identity: Identity | None = None,
    *,
    deidentified: bool = False,
) -> list[Path]:
    """Write the four objects for one processed input; returns their paths."""
    outputs = summary.outputs
    folder = Path(out_dir) / Path(outputs["video"]).name.replace("_annotated.mp4", "_dicom")
    folder.mkdir(parents=True, exist_ok=True)
    study = Study(
        identity=identity or Identity(study_description="SonoLive clip"), deidentified=deidentified
    )
    reports = json.loads(Path(outputs["json"]).read_text())["frames"]
    paths = [
        save(clip_dataset(_frames(Path(outputs["video"])), summary.fps, study), folder / "clip.dcm")
    ]
    k = key_index(reports)
    rep = next((r for r in reports if r["index"] == k), reports[0])
    roi = rep.get("roi")
    first = reports[0].get("roi")
    frame = _key_frame(summary.input, k, roi, (first[2], first[3]) if first else None)
    result = Pipeline(None, segmenter).process(frame, decide_now=True)
    model = ModelInfo.from_card(segmenter.card)
    keys = KeyFrameSeries(study)
    sc = keys.add(frame.pixels, f"key frame {k} of {Path(summary.input).name}")
    paths.append(save(sc, folder / "key.dcm"))
    if result is not None and result.seg is not None:
        seg = segmentation_dataset(
            sc, result.seg.labels, model.classes, model=model.name, model_version=model.version
        )
        if seg is not None:
            paths.append(save(seg, folder / "seg.dcm"))
    image = result.image if result is not None else frame.pixels
    pdf = clip_report_pdf(summary.as_dict(), model, image)
    paths.append(save(pdf_dataset(pdf, study, title="SonoLive clip report"), folder / "report.dcm"))
    return paths
