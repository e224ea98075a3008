"""``sonolive process``: batch annotation of clips, with failed inputs reported plainly."""

from __future__ import annotations

import csv
import json
import os
import stat

import pytest
from barcode import read_barcode
from media_helpers import decode_all, encode_clip, make_dicom, make_frame
from sonolive.app.cli import main

# the torch backend skips the ONNX export and timing probe of "auto" (seconds per run)
FAST = ["--backend", "torch"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("in")
    a = encode_clip(d / "a.mp4", 9, gop=4)
    b = encode_clip(d / "b.avi", 7, codec="mpeg4", fps=25)
    broken = d / "broken.mp4"
    broken.write_bytes(a.read_bytes()[:300])
    return a, b, broken


def test_process_good_and_broken_inputs(inputs, tmp_path, capsys):
    a, b, broken = inputs
    out = tmp_path / "OUT"
    rc = main(["process", str(a), str(b), str(broken), "-o", str(out), "--device", "cpu", *FAST])
    err = capsys.readouterr().err
    assert rc == 1
    lines = [ln for ln in err.splitlines() if "broken.mp4" in ln]
    assert len(lines) == 2, err  # its own line, then the closing summary's
    assert lines[0].startswith(f"{broken}: not a readable video (truncated or corrupt): "), err
    assert lines[1].startswith(f"  {broken}: failed: not a readable video"), err
    for path, n, fps in ((a, 9, 30.0), (b, 7, 25.0)):
        stem = path.stem
        video = decode_all(out / f"{stem}_annotated.mp4")
        assert len(video) == n
        # the annotated video keeps frame order (barcodes sit in the top half)
        assert [read_barcode(f) for f in video] == list(range(n))
        with open(out / f"{stem}_frames.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert [int(r["index"]) for r in rows] == list(range(n))
        assert float(rows[1]["time_s"]) == pytest.approx(1 / fps, abs=1e-3)
        frames = json.loads((out / f"{stem}_frames.json").read_text())["frames"]
        assert len(frames) == n
        for row, fr in zip(rows, frames, strict=True):
            assert row["classes_present"] == ";".join(fr["classes_present"])
            for k, px in fr["areas_px"].items():
                assert int(row[f"{k}_area_px"]) == px
                assert fr["areas_pct"][k] == pytest.approx(100 * px / (160 * 120), abs=1e-3)
        s = json.loads((out / f"{stem}_summary.json").read_text())
        assert s["frames"] == n and s["fps"] == pytest.approx(fps)
        assert s["duration_s"] == pytest.approx(n / fps, abs=1e-3)
        assert s["model"] == "fast-lite" and s["model_version"]
        assert s["processing_fps"] > 0
        # organs are counted over the frames judged like the training data only
        familiar = [fr for fr in frames if fr["in_distribution"] is not False]
        assert s["in_distribution_frames"] == len(familiar)
        for name, c in s["classes"].items():
            assert c["frames_present"] == sum(name in fr["classes_present"] for fr in familiar)
    assert not (out / "broken_annotated.mp4").exists()


def test_process_dicom_and_all_good_exit_zero(tmp_path, capsys):
    dcm = make_dicom(tmp_path / "cine.dcm", [make_frame(i) for i in range(5)], frame_time_ms=50)
    out = tmp_path / "o"
    old_mask = os.umask(0o027)
    try:
        rc = main(["process", str(dcm), "-o", str(out), "--device", "cpu", "--no-progress", *FAST])
    finally:
        os.umask(old_mask)
    assert rc == 0
    s = json.loads((out / "cine_summary.json").read_text())
    assert s["frames"] == 5 and s["fps"] == pytest.approx(20.0)
    assert len(decode_all(out / "cine_annotated.mp4")) == 5
    # the outputs get the umask's usual mode (0o666 less 0o027), not mkstemp's private 0600,
    # so the colleagues sharing the folder can open them
    written = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert len(written) == 5, written  # MP4, CSV, JSON, summary and the index
    if os.name == "posix":
        assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {
            p.name: 0o640 for p in written
        }


def test_missing_file_is_reported(tmp_path, capsys):
    rc = main(["process", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "o"), *FAST])
    assert rc == 1
    assert f"{tmp_path / 'nope.mp4'}: file not found" in capsys.readouterr().err


def test_process_roi_auto_keeps_only_the_ultrasound_image(tmp_path):
    """A raw scanner recording (VGA: smaller pictures are taken as exported images): a moving
    speckle image beside still menus and patient text."""
    import av
    import cv2
    import numpy as np
    from sonolive.app.cli import main
    from sonolive.capture.mp4_writer import Mp4Writer

    rng = np.random.default_rng(0)
    path = tmp_path / "scanner.mp4"
    with Mp4Writer(path, 15) as out:
        for _ in range(20):
            img = np.full((480, 640, 3), 20, np.uint8)
            cv2.putText(
                img, "DOE^JANE 1234", (8, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 0, 255), 2
            )
            img[120:440, 200:600] = rng.integers(0, 255, (320, 400, 1), dtype=np.uint8)
            out.write(img)
    out_dir = tmp_path / "out"
    rc = main(
        [
            "process",
            str(path),
            "-o",
            str(out_dir),
            "--roi",
            "auto",
            "--backend",
            "torch",
            "--no-progress",
        ]
    )
    assert rc == 0
    with av.open(str(out_dir / "scanner_annotated.mp4")) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 20
    h, w = frames[0].shape[:2]
    assert abs(w - 400) <= 12 and abs(h - 320) <= 12  # the image region, not the screen


def test_process_temporal_gives_a_steadier_clip(tmp_path):
    """``--temporal`` runs the live Bedside filter over the clip in order: the classes'
    areas change less from frame to frame than without it, on a real phantom scan."""
    import numpy as np
    from sonolive.capture.mp4_writer import Mp4Writer
    from sonolive.inference.temporal import clip_samples

    clip = tmp_path / "scan.mp4"
    w = Mp4Writer(clip, 30.0, crf=12)
    for img, _, _ in clip_samples(seed=2, frames=20, size=192, views=1):
        w.write(img)
    w.close()

    def jitter(flag: list[str]) -> float:
        out = tmp_path / ("on" if flag else "off")
        args = ["process", str(clip), "-o", str(out), "--device", "cpu", "--roi", "none"]
        assert main([*args, "--no-progress", *FAST, *flag]) == 0
        frames = json.loads((out / "scan_frames.json").read_text())["frames"]
        assert len(frames) == 20
        names = {k for fr in frames for k in fr["areas_px"]}
        a = np.array([[fr["areas_px"].get(k, 0) for k in sorted(names)] for fr in frames])
        return float(np.abs(np.diff(a, axis=0)).sum())

    assert jitter(["--temporal"]) < jitter([])
