"""``sonolive process --dicom`` and ``sonolive send`` against a real PACS (Orthanc)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from orthanc_server import orthanc  # noqa: F401 - the fixture
from pydicom import dcmread
from sonolive.app.cli import main
from sonolive.capture.mp4_writer import Mp4Writer
from sonolive.capture.phantom import PhantomSource

FAST = ["--backend", "torch", "--device", "cpu", "--no-progress"]
N = 8


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("in") / "ruq_scan.mp4"
    src = PhantomSource(seed=4, size=192, paced=False, view="ruq", fluid=True)
    src.open()
    w = Mp4Writer(path, 15.0)
    for _ in range(N):
        w.write(src.read().pixels)
    w.close()
    return path


def test_process_dicom_then_send(clip, tmp_path, orthanc, capsys):  # noqa: F811
    out = tmp_path / "OUT"
    rc = main(
        [
            "process",
            str(clip),
            "-o",
            str(out),
            *FAST,
            "--dicom",
            "--patient-name",
            "Doe^John",
            "--patient-id",
            "PID-1",
            "--accession",
            "A-77",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 0, err
    files = sorted((out / "ruq_scan_dicom").glob("*.dcm"))
    names = [p.name for p in files]
    assert names == ["clip.dcm", "key.dcm", "report.dcm", "seg.dcm"]
    ds = {p.stem: dcmread(p) for p in files}
    assert int(ds["clip"].NumberOfFrames) == N  # every frame of the annotated clip
    assert len({d.StudyInstanceUID for d in ds.values()}) == 1
    assert {str(d.PatientName) for d in ds.values()} == {"Doe^John"}
    # the masks: the model's liver and kidney on the RUQ key frame, over the key frame
    labels = [s.SegmentLabel for s in ds["seg"].SegmentSequence]
    assert "Liver" in labels and "Kidney" in labels
    if shutil.which("dciodvfy"):
        for p in files:
            r = subprocess.run(["dciodvfy", str(p)], capture_output=True, text=True)
            assert "Error" not in r.stdout + r.stderr, (p.name, r.stderr)

    queue = tmp_path / "queue"
    # a wrong AE title: one plain line, the objects wait in the queue
    wrong = orthanc.destination.replace("ORTHANC@", "PACS1@")
    rc = main(["send", str(out / "ruq_scan_dicom"), "--to", wrong, "--queue", str(queue)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1, err
    assert "refused the association: called AE title not recognised" in err[0]
    assert "4 objects wait in" in err[0]
    assert orthanc.get("/instances") == []
    # the right one, by --retry
    rc = main(["send", "--retry", "--to", orthanc.destination, "--queue", str(queue)])
    assert rc == 0, capsys.readouterr().err
    studies = orthanc.studies()
    assert len(studies) == 1
    inst = orthanc.instances()
    assert len(inst) == 4
    clip_tags = [orthanc.tags(i["ID"]) for i in inst]
    assert sorted(
        int(t.get("NumberOfFrames", 1)) for t in clip_tags if t["Modality"] != "DOC"
    ) == sorted([N, 1, int(ds["seg"].NumberOfFrames)])
    assert {t["PatientID"] for t in clip_tags} == {"PID-1"}
    assert list(queue.iterdir()) == []
    assert main(["send", "--echo", "--to", orthanc.destination]) == 0


@pytest.mark.parametrize(
    "argv, words",
    [
        (["send", "nothere.dcm", "--to", "A@127.0.0.1:104"], "nothere.dcm: file not found"),
        (["send", "x.dcm", "--to", "127.0.0.1:104"], "is not a PACS address"),
        (
            ["send", "x.dcm", "--to", "A@h:104", "--calling-aet", "MUCH_TOO_LONG_AE_TITLE"],
            "is not an AE title",
        ),
        (["send"], "give the DICOM files to send"),
    ],
)
def test_send_bad_input_is_one_line(argv, words, tmp_path, capsys):
    rc = main([*argv, "--queue", str(tmp_path / "q")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and words in err[0], err
    assert not (tmp_path / "q").exists()


def test_send_refuses_a_file_that_is_not_dicom(tmp_path, capsys):
    bad = tmp_path / "notes.dcm"
    bad.write_text("hello")
    rc = main(["send", str(bad), "--to", "A@127.0.0.1:104", "--queue", str(tmp_path / "q")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err == [f"error: {bad}: not a DICOM file (no SOP class or instance UID)"]
