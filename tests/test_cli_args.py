"""Wrong values on the command line are refused with the valid choices; model names work
wherever a model is asked for."""

from __future__ import annotations

import pytest
from sonolive.app.cli import MODES, languages, main


@pytest.mark.parametrize(
    "argv, listed",
    [
        (["--lang", "xx"], "'en', 'zh_TW'"),
        (["--mode", "presentation"], "'bedside', 'teaching', 'review'"),
        (["--backend", "tensorrt"], "'auto', 'torch', 'onnx'"),
        (["--accel", "turbo"], "'off', 'compile', 'cudagraphs'"),
        (["process", "x.mp4", "--accel", "turbo"], "'off', 'compile', 'cudagraphs'"),
    ],
)
def test_unknown_values_are_refused_with_the_choices(argv, listed, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert listed in capsys.readouterr().err


def test_choices_match_what_the_app_knows():
    from sonolive.app.modes import MODES as APP_MODES

    assert MODES == APP_MODES
    assert "zh_TW" in languages()


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    from sonolive.capture.phantom_export import export_phantom

    out = tmp_path_factory.mktemp("phantom-set")
    export_phantom(out, seed=11, frames=8, size=64, clip=False, random_frames=True)
    return out


def test_train_init_accepts_a_model_name(tiny_set, tmp_path):
    argv = ["train", "--init", "fast-lite", "--data", str(tiny_set), "--out", str(tmp_path)]
    argv += ["--steps", "1", "--batch-size", "2", "--input-size", "64", "--quiet"]
    assert main([*argv, "--device", "cpu"]) == 0
    assert (tmp_path / "best" / "model.json").is_file()


def test_train_init_unknown_name_is_one_line(tiny_set, tmp_path, capsys):
    argv = ["train", "--init", "nerve-vesel", "--data", str(tiny_set), "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: No model called 'nerve-vesel' (known: fast-lite, nerve-vessel)")


def test_eval_shows_progress(tiny_set, capsys):
    argv = ["eval", "--model", "fast-lite", "--data", str(tiny_set), "--device", "cpu"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "eval: 100%" in err and "8/8" in err
    assert main([*argv, "--no-progress"]) == 0
    assert "eval:" not in capsys.readouterr().err
