"""The exam's files and DICOM objects, checked with dciodvfy, and the trip to a real PACS
(Orthanc): C-ECHO, C-STORE, a refused AE title, the worklist, and the send queue across a
PACS outage and a restart."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
from orthanc_server import orthanc  # noqa: F401 - the fixture
from pydicom import dcmread
from sonolive.capture.frame_ring import FrameRing
from sonolive.capture.phantom import PhantomSource
from sonolive.inference.exam.checklist import VIEWS, Exam, ViewSuggester
from sonolive.inference.exam.dicom_write import Identity
from sonolive.inference.exam.export import export_exam
from sonolive.inference.exam.pacs import (
    Destination,
    PacsError,
    SendQueue,
    SendWorker,
    echo,
    find_worklist,
    parse_destination,
    store,
)
from sonolive.inference.exam.report import ModelInfo

SOP = {
    "1.2.840.10008.5.1.4.1.1.7.4": "MultiframeTrueColorSCImage",
    "1.2.840.10008.5.1.4.1.1.7": "SCImage",
    "1.2.840.10008.5.1.4.1.1.66.4": "Segmentation",
    "1.2.840.10008.5.1.4.1.1.104.1": "EncapsulatedPDF",
}


@pytest.fixture(scope="module")
def pipeline():
    from sonolive.inference.backends import make_segmenter
    from sonolive.inference.pipeline import Pipeline

    seg = make_segmenter("fast-lite", device="cpu", backend="torch", probe_runs=0)
    return Pipeline(None, seg)


def _scan(pipeline, view: str, frames: int = 4, seed: int = 1):
    """A few phantom frames of one view through the real pipeline: the ring of the last
    pictures, the last result, and the suggestion."""
    # 256 px: the scale the model was trained and calibrated at (at 192 px the phantom's
    # speckle is coarser than anything it saw, and the training-data check rightly says so)
    src = PhantomSource(seed=seed, size=256, paced=False, view=view, fluid=view == "ruq")
    src.open()
    ring = FrameRing(seconds=3.0, max_fps=30.0, max_side=160)
    sugg = ViewSuggester(window=frames, quorum=0.5)
    s = r = None
    for _ in range(frames):
        r = pipeline.process(src.read(), decide_now=True)
        ring.write(r.frame.timestamp, r.image)
        s = sugg.update(r.seg, pixels=r.frame.width * r.frame.height)
    return ring, r, s


def frames_in(orthanc) -> int:  # noqa: F811
    """Frames in the image objects Orthanc holds (the PDF has none)."""
    n = 0
    for i in orthanc.instances():
        tags = orthanc.tags(i["ID"])
        if tags["SOPClassUID"] != "1.2.840.10008.5.1.4.1.1.104.1":
            n += int(tags.get("NumberOfFrames", 1))
    return n


def make_exam(pipeline, views=None) -> Exam:
    exam = Exam()
    phantom_view = {
        "ruq": "ruq",
        "luq": "luq",
        "pelvis_transverse": "suprapubic",
        "pelvis_sagittal": "suprapubic",
        "subxiphoid": "subxiphoid",
    }
    for v in views or [v.key for v in VIEWS]:
        ring, r, s = _scan(pipeline, phantom_view.get(v, "ruq"))
        clip, fps = ring.snapshot()
        exam.record(
            v,
            clip=clip,
            clip_fps=fps,
            key_image=r.image,
            key_raw=r.frame.pixels,
            key_labels=r.seg.labels,
            in_distribution=r.seg.in_distribution,
            suggestion=s.view if s else None,
            suggestion_confidence=s.confidence if s else None,
        )
        exam.set_finding(
            v,
            "no_fluid"
            if v.endswith(("ruq", "luq", "subxiphoid")) or v.startswith("pelvis")
            else "sliding_present",
        )
    return exam


def test_suggestion_follows_the_organs_and_the_gate(pipeline):
    assert _scan(pipeline, "ruq")[2].view == "ruq"
    assert _scan(pipeline, "luq")[2].view == "luq"
    assert _scan(pipeline, "suprapubic")[2].view == "pelvis_transverse"
    assert _scan(pipeline, "subxiphoid")[2].view == "subxiphoid"
    # a picture the gate rejects (a real nerve scan, or noise) never gets a suggestion
    sugg = ViewSuggester(window=3, quorum=0.5)
    rng = np.random.default_rng(0)
    from sonolive.capture.frame import Frame

    for i in range(3):
        noise = rng.integers(0, 255, (192, 192, 3), dtype=np.uint8)
        r = pipeline.process(Frame(noise, i / 30, i), decide_now=True)
        assert r.seg.in_distribution is False
        assert sugg.update(r.seg) is None


@pytest.mark.skipif(
    not shutil.which("dciodvfy"), reason="dciodvfy missing (apt-get install dicom3tools)"
)
@pytest.mark.parametrize("deidentified", [False, True])
def test_every_object_type_is_valid_dicom(pipeline, tmp_path, deidentified):
    exam = make_exam(pipeline, ["ruq", "lung_left"])
    ident = Identity(
        patient_name="Doe^Jane", patient_id="P-17", birth_date="19800101", sex="F", accession="ACC9"
    )
    out = export_exam(
        exam,
        tmp_path,
        ModelInfo.from_card(pipeline.segmenter.card),
        ident,
        deidentified=deidentified,
    )
    kinds = {}
    studies = set()
    for p in out.dicom:
        r = subprocess.run(["dciodvfy", str(p)], capture_output=True, text=True)
        text = r.stdout + r.stderr
        errors = [ln for ln in text.splitlines() if ln.startswith("Error")]
        assert errors == [], f"{p.name}: {errors}"
        ds = dcmread(p)
        kinds.setdefault(SOP[ds.SOPClassUID], []).append(p)
        assert SOP[ds.SOPClassUID] in text  # dciodvfy checked it against the right IOD
        studies.add(ds.StudyInstanceUID)
        if deidentified:
            assert str(ds.PatientName) == "" and ds.PatientID == ""
            assert ds.PatientIdentityRemoved == "YES"
        else:
            assert str(ds.PatientName) == "Doe^Jane" and ds.PatientID == "P-17"
    assert set(kinds) == set(SOP.values())
    assert len(studies) == 1  # one study per exam
    clip = dcmread(kinds["MultiframeTrueColorSCImage"][0])
    assert int(clip.NumberOfFrames) == len(exam.views["ruq"].clip) > 1
    assert clip.pixel_array.shape[0] == int(clip.NumberOfFrames)
    seg = dcmread(kinds["Segmentation"][0])
    assert (
        seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID
        == dcmread(kinds["SCImage"][0]).SOPInstanceUID
    )
    rec = json.loads(out.record.read_text())
    assert rec["views_done"] == "2/7" and "pelvis_sagittal" in rec["missing"]
    assert (rec["identity"] is None) == deidentified
    assert out.report.read_bytes().startswith(b"%PDF")
    pdf = dcmread(kinds["EncapsulatedPDF"][0])
    assert pdf.EncapsulatedDocument[: len(out.report.read_bytes())] == out.report.read_bytes()


def test_echo_store_refusals_and_worklist(orthanc, tmp_path, pipeline):  # noqa: F811
    dest = parse_destination(orthanc.destination)
    echo(dest)
    with pytest.raises(PacsError, match="called AE title not recognised"):
        echo(Destination("NOSUCHAE", dest.host, dest.port))
    with pytest.raises(PacsError, match="no answer"):
        from orthanc_server import free_port

        echo(Destination("ORTHANC", "127.0.0.1", free_port()))
    out = export_exam(
        make_exam(pipeline, ["ruq"]), tmp_path, ModelInfo.from_card(pipeline.segmenter.card)
    )
    results = store(out.dicom, dest)
    assert [why for _, why in results] == [None] * len(out.dicom)
    inst = orthanc.instances()
    assert len(inst) == len(out.dicom)
    assert frames_in(orthanc) == out.frames
    # the worklist: a scheduled US exam, found by C-FIND and used as the study's identity
    uid = orthanc.add_worklist("Roe^Ann", "W-5", "ACC-WL")
    found = find_worklist(dest)
    assert [(i.patient_name, i.patient_id, i.accession) for i in found] == [
        ("Roe^Ann", "W-5", "ACC-WL")
    ]
    assert found[0].study_uid == uid


def test_queue_keeps_objects_while_the_pacs_is_down(orthanc, tmp_path, pipeline):  # noqa: F811
    out = export_exam(
        make_exam(pipeline, ["ruq", "luq"]),
        tmp_path / "exams",
        ModelInfo.from_card(pipeline.segmenter.card),
    )
    dest = parse_destination(orthanc.destination)
    orthanc.stop()
    q = SendQueue(tmp_path / "queue")
    q.enqueue(out.dicom, dest)
    sent, error = q.flush()
    assert sent == 0 and "no answer from ORTHANC@127.0.0.1" in error
    assert len(q) == len(out.dicom)
    del q  # the app closes: a new queue on the same folder (a restart) finds everything
    q2 = SendQueue(tmp_path / "queue")
    assert len(q2) == len(out.dicom)
    waiting = []
    done = threading.Event()

    def changed(n, sent, error):
        waiting.append((n, error))
        if n == 0:
            done.set()

    worker = SendWorker(q2, on_change=changed, max_wait=1.0)
    worker.wake()
    while not waiting:  # the worker has tried once with the PACS still down
        threading.Event().wait(0.05)
    assert waiting[0][0] == len(out.dicom) and waiting[0][1]
    orthanc.start()
    worker.wake()
    assert done.wait(60), waiting[-1]
    worker.stop()
    assert len(orthanc.instances()) == len(out.dicom)
    assert list(Path(tmp_path / "queue").iterdir()) == []
