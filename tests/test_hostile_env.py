"""A hostile environment (issue 29, group 7): a read-only home, a SONOLIVE_USER_MODELS that is
a file, an unreadable user-models folder. Each gives one plain line (or no effect on the
shipped models), never a traceback.

Permission cases run the real command in a subprocess as an unprivileged user when the tests
run as root (root reads everything), as themselves otherwise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hostile_helpers import one_error_line, run_cli, sandbox
from media_helpers import encode_clip


def _model_copy(dest: Path) -> Path:
    """The shipped fast-lite under another name: a valid folder for import-model."""
    from sonolive.models.registry import find_model

    shutil.copytree(find_model("fast-lite"), dest)
    card = json.loads((dest / "model.json").read_text(encoding="utf-8"))
    card["name"] = "mine-env"
    (dest / "model.json").write_text(json.dumps(card), encoding="utf-8")
    return dest


@pytest.fixture
def box():
    with sandbox() as d:
        yield d


def _run(argv: list[str], env: dict[str, str], cwd: Path):
    unset = ("SONOLIVE_USER_MODELS", "HOME")
    return run_cli(argv, env=env, cwd=cwd, unset=unset, unprivileged=True)


def test_user_models_is_a_file(tmp_path, monkeypatch, capsys):
    from sonolive.app.cli import main
    from sonolive.models.registry import find_model, list_models

    not_a_folder = tmp_path / "models-file"
    not_a_folder.write_text("I am a file\n")
    monkeypatch.setenv("SONOLIVE_USER_MODELS", str(not_a_folder))
    assert find_model("fast-lite").is_dir()  # shipped models are unaffected
    assert all(e.builtin for e in list_models())
    rc = main(["import-model", str(_model_copy(tmp_path / "mine"))])
    line = one_error_line(capsys.readouterr().err)
    assert rc == 2
    assert str(not_a_folder) in line and "SONOLIVE_USER_MODELS" in line
    assert not_a_folder.read_text() == "I am a file\n"  # never written through


def test_import_model_with_a_read_only_home(box):
    home = box / "home"
    home.mkdir()
    model = _model_copy(box / "mine")
    home.chmod(0o555)  # nobody may write here, whoever runs the test
    r = _run(["import-model", str(model)], {"HOME": str(home)}, box)
    line = one_error_line(r.stderr)
    assert r.returncode == 2, r.stderr
    assert line.startswith("error: not imported:") and str(home) in line
    assert list(home.iterdir()) == []


def test_unreadable_user_models_do_not_stop_shipped_models(box):
    users = box / "user-models"
    (users / "something").mkdir(parents=True)
    users.chmod(0)
    clip = encode_clip(box / "c.mp4", 4)
    out = box / "out"
    out.mkdir()
    out.chmod(0o777)
    env = {"SONOLIVE_USER_MODELS": str(users), "HOME": str(box)}
    argv = ["process", str(clip), "-o", str(out), "--device", "cpu", "--backend", "torch"]
    r = _run([*argv, "--no-progress"], env, box)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert (out / "c_annotated.mp4").is_file()
    # train --init by a shipped name reads the registry too
    data = box / "data"
    for sub in ("images", "masks"):
        (data / sub).mkdir(parents=True)
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (48, 48), np.uint8)).save(data / f"images/{i}.png")
        m = np.zeros((48, 48), np.uint8)
        m[10:30, 10:30] = 1
        Image.fromarray(m).save(data / f"masks/{i}.png")
    run_out = box / "run"
    run_out.mkdir()
    run_out.chmod(0o777)
    r = _run(
        ["train", "--data", str(data), "--out", str(run_out), "--init", "fast-lite", "--steps",
         "1", "--batch-size", "1", "--input-size", "48", "--quiet", "--classes",
         "background,fluid,liver,spleen,kidney,heart,bladder", "--device", "cpu"],
        env,
        box,
    )  # fmt: skip
    assert "No model called" not in r.stderr, r.stderr
    assert r.returncode == 0, r.stderr
    assert (run_out / "best" / "model.json").is_file()
