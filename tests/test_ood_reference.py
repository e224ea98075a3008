"""``reference.json`` as hostile input: any problem means the model runs ungated with one
note; ``calibrate`` replaces the file atomically and never writes through a link; the JSON
SonoLive writes holds finite numbers only."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sonolive.inference.gate.ood import REFERENCE_FILE, reference_for
from sonolive.inference.segmenter import Segmenter
from sonolive.models.loader import load_model
from sonolive.models.registry import find_model


def _strict_json(text: str):
    """JSON as other programs read it: NaN and Infinity are errors."""

    def bad(name: str):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=bad)


@pytest.fixture(scope="module")
def model_copy(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ref") / "fast-lite"
    shutil.copytree(find_model("fast-lite"), folder)
    return folder


@pytest.fixture(scope="module")
def shipped() -> dict:
    return json.loads((find_model("fast-lite") / REFERENCE_FILE).read_text())


# a JSON value of any shape: what a damaged or hostile file may hold in one field
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e308, -1e308, 1e-320, 0.0, 1e13])
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=20) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=60,
)
_keys = st.sampled_from(
    [
        "format",
        "mean",
        "whiten",
        "threshold",
        "statistics_threshold",
        "deep",
        "false_alarm_rate",
        "frames",
        "features",
        "num_classes",
    ]
)
_deep_keys = st.sampled_from(["mean", "scale", "components", "variances", "threshold", "layers"])


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    key=_keys,
    deep_key=_deep_keys,
    value=_json,
    where=st.sampled_from(["top", "deep", "row", "raw"]),
    raw=st.sampled_from(
        [
            '{"a": 1e999}',
            "[" * 100_000,
            '{"kind": "sonolive-ood-reference", "mean": NaN}',
            "\udcff",
            "",
        ]
    ),
)
def test_any_damage_runs_ungated_with_one_note_or_stays_finite(
    model_copy, lite_model, shipped, key, deep_key, value, where, raw
):
    d = copy.deepcopy(shipped)
    path = model_copy / REFERENCE_FILE
    if where == "raw":
        path.write_text(raw, encoding="utf-8", errors="surrogateescape")
    else:
        if where == "top":
            d[key] = value
        elif where == "deep":
            d["deep"][deep_key] = value
        else:  # one row of the whitening matrix made one longer (17 x 16 and friends)
            d["whiten"][3] = [*d["whiten"][3], 1.0]
        path.write_text(json.dumps(d), encoding="utf-8")
    model = copy.copy(lite_model)
    model.path = model_copy
    ref, note = reference_for(model)
    if ref is None:
        assert note and "\n" not in note and str(path) in note
        assert "running without the training-data check" in note
    else:  # a value the check can use: every score it gives is a finite number
        rng = np.random.default_rng(0)
        for scale in (1.0, 1e6):
            f = rng.normal(size=len(ref.mean)) * scale
            deep = rng.normal(size=ref.deep.mean.shape) * scale if ref.deep is not None else None
            s, ok = ref.decide(f, deep)
            assert np.isfinite(s) and isinstance(ok, bool)


def test_wrong_matrix_size_names_both_sizes(model_copy, lite_model, shipped):
    d = copy.deepcopy(shipped)
    d["whiten"] = [row[:-1] for row in d["whiten"]]  # 17 x 16
    (model_copy / REFERENCE_FILE).write_text(json.dumps(d))
    model = copy.copy(lite_model)
    model.path = model_copy
    ref, note = reference_for(model)
    assert ref is None and "'whiten' is 17x16, this model needs 17x17" in note


def test_calibrate_repairs_a_broken_file_and_replaces_a_link_not_its_target(tmp_path, capsys):
    from sonolive.app.cli import main

    folder = tmp_path / "m"
    shutil.copytree(find_model("fast-lite"), folder)
    outside = tmp_path / "elsewhere.json"
    outside.write_text('{"threshold": 1e999}')
    (folder / REFERENCE_FILE).unlink()
    (folder / REFERENCE_FILE).symlink_to(outside)
    seg = Segmenter(load_model(folder), device="cpu")  # loads, ungated, with the note
    assert seg.reference is None and str(folder / REFERENCE_FILE) in seg.reference_note
    argv = ["calibrate", "--model", str(folder), "--source", "phantom", "--frames", "40"]
    assert main([*argv, "--size", "192"]) == 0
    assert outside.read_text() == '{"threshold": 1e999}', "written through the link"
    ref = folder / REFERENCE_FILE
    assert ref.is_file() and not ref.is_symlink()
    assert ref.stat().st_mode & 0o444 == 0o444, "others could no longer read the statistics"
    d = _strict_json(ref.read_text())
    assert d["score"] == "features+statistics" and d["frames"] == 40
    assert not list(folder.glob(".reference.*")), "a temporary file was left behind"
    assert Segmenter(load_model(folder), device="cpu").reference is not None


def test_calibrate_that_cannot_write_says_so_in_one_line(tmp_path, capsys):
    from sonolive.app.cli import main

    folder = tmp_path / "m"
    shutil.copytree(find_model("fast-lite"), folder)
    (folder / REFERENCE_FILE).unlink()
    (folder / REFERENCE_FILE).mkdir()  # in the way, even for a user who may write anywhere
    (folder / REFERENCE_FILE / "keep").write_text("x")
    seg = Segmenter(load_model(folder), device="cpu")
    assert seg.reference is None and "not a regular file" in seg.reference_note
    argv = ["calibrate", "--model", str(folder), "--source", "phantom", "--frames", "40"]
    assert main([*argv, "--size", "192"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: cannot write {folder / REFERENCE_FILE}") and "\n" not in err
    assert (folder / REFERENCE_FILE / "keep").read_text() == "x"
    assert not list(folder.glob(".reference.*")), "a temporary file was left behind"


def test_absurd_but_finite_statistics_never_put_infinity_into_process_json(tmp_path):
    from sonolive.app.cli import main
    from sonolive.inference.batch import VideoWriter

    folder = tmp_path / "m"
    shutil.copytree(find_model("fast-lite"), folder)
    d = json.loads((folder / REFERENCE_FILE).read_text())
    d["whiten"] = [[9e11] * len(row) for row in d["whiten"]]
    d["statistics_threshold"] = 1e-300
    (folder / REFERENCE_FILE).write_text(json.dumps(d))
    clip = tmp_path / "c.mp4"
    w = VideoWriter(clip, 10.0)
    for i in range(4):
        w.write(np.full((96, 128, 3), 40 * i, np.uint8))
    w.close()
    out = tmp_path / "out"
    argv = ["process", str(clip), "-o", str(out), "--model", str(folder), "--device", "cpu"]
    assert main([*argv, "--backend", "torch", "--no-progress"]) == 0
    rows = _strict_json((out / "c_frames.json").read_text())["frames"]
    summary = _strict_json((out / "c_summary.json").read_text())
    assert all(np.isfinite(r["ood_score"]) and r["in_distribution"] is False for r in rows)
    assert summary["in_distribution_fraction"] == 0.0
