"""Hostile model folders: every entry point (import-model, Open model…, --model PATH, eval)
runs the same check and answers with one plain line, quickly, without running code or
inflating bombs."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import time
import zipfile
from pathlib import Path

import pytest
import torch
from sonolive.capture.replay import ReplaySource
from sonolive.models.card import CardError, ModelCard
from sonolive.models.loader import ModelLoadError, load_model
from sonolive.models.registry import find_model, user_models_dir
from sonolive.models.weights_io import UntrustedCodeError


class _WritesAFile(torch.nn.Module):
    """A real TorchScript model whose forward pass overwrites ``target`` (via a shared mmap)."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.from_file(self.target, True, 8, dtype=torch.uint8)
        t.fill_(65)
        return torch.cat([x, -x], 1) + t[0].float() * 0.0


@pytest.fixture
def evil(tmp_path) -> tuple[Path, Path]:
    """(model folder, victim file): the folder's TorchScript rewrites the victim if it runs."""
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"original")
    folder = tmp_path / "evil-ts"
    folder.mkdir()
    torch.jit.script(_WritesAFile(str(victim))).save(str(folder / "model.pt"))
    card = {
        "name": "evil-ts",
        "format": "torchscript",
        "weights": "model.pt",
        "input_size": [64, 64],
        "classes": [
            {"name": "background", "color": [0, 0, 0]},
            {"name": "organ", "color": [230, 25, 75]},
        ],
    }
    (folder / "model.json").write_text(json.dumps(card))
    return folder, victim


def _lite_copy(tmp_path: Path, name: str = "mine", **changes) -> Path:
    """fast-lite's folder with its card changed."""
    folder = tmp_path / name
    shutil.copytree(find_model("fast-lite"), folder)
    card = json.loads((folder / "model.json").read_text())
    card.update(name=name, **changes)
    (folder / "model.json").write_text(json.dumps(card))
    return folder


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err and "Traceback" not in err, err
    return err


# ---- TorchScript is code --------------------------------------------------------------------
def test_torchscript_is_refused_everywhere_without_trust(evil, capsys):
    from sonolive.app.cli import main

    folder, victim = evil
    assert main(["import-model", str(folder)]) == 1
    err = _one_line_error(capsys)
    assert "TorchScript" in err and "--trust-code" in err
    assert main(["eval", "--model", str(folder), "--source", "phantom", "--frames", "1"]) == 2
    assert "TorchScript" in _one_line_error(capsys)
    out = folder.parent / "out"
    assert main(["process", str(victim), "-o", str(out), "--model", str(folder)]) == 2
    assert "TorchScript" in _one_line_error(capsys)
    with pytest.raises(UntrustedCodeError):
        load_model(folder)
    assert victim.read_bytes() == b"original"  # its code never ran
    assert not (user_models_dir() / "evil-ts").exists()


def test_trusted_torchscript_is_installed_with_contains_code_and_not_asked_again(evil, capsys):
    from sonolive.app.cli import main

    folder, victim = evil
    assert main(["import-model", str(folder), "--trust-code"]) == 0
    assert capsys.readouterr().out.startswith("imported 'evil-ts'")
    assert victim.read_bytes() == b"AAAAAAAA"  # it really is code: trusted, it ran
    installed = user_models_dir() / "evil-ts"
    card = json.loads((installed / "model.json").read_text())
    assert card["contains_code"] is True
    assert load_model(find_model("evil-ts")).card.contains_code  # no trust asked again
    # a card that merely claims contains_code outside the user's models is not trusted
    with pytest.raises(UntrustedCodeError):
        shutil.copytree(installed, folder.parent / "copied")
        load_model(folder.parent / "copied")


def _window(qtbot, settings, phantom_frames, model=None):
    from sonolive.app.main_window import MainWindow

    frames, truths = phantom_frames
    win = MainWindow(
        ReplaySource(frames, fps=20, truths=truths), model, settings, "cpu", "review", "torch"
    )
    qtbot.addWidget(win)
    win.show()
    return win


def test_open_model_asks_before_torchscript_and_no_keeps_it_out(
    qtbot, settings, evil, phantom_frames
):
    from PySide6.QtWidgets import QMessageBox

    folder, victim = evil
    win = _window(qtbot, settings, phantom_frames)
    imp = win.model_importer
    imp.open_folder(folder)
    qtbot.waitUntil(lambda: imp.trust_box is not None and imp.trust_box.isVisible(), timeout=10000)
    box = imp.trust_box
    assert "program" in box.text() and "files" in box.text()
    box.button(QMessageBox.StandardButton.No).click()
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=5000)
    assert "did not trust" in win.banner.text()
    assert victim.read_bytes() == b"original"
    assert not (user_models_dir() / "evil-ts").exists()

    imp.open_folder(folder)  # asked again, and this time trusted
    qtbot.waitUntil(lambda: imp.trust_box is not None and imp.trust_box.isVisible(), timeout=10000)
    imp.trust_box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: win.model_picker.currentText() == "evil-ts", timeout=20000)
    assert ModelCard.load(user_models_dir() / "evil-ts").contains_code
    win.close()


def test_model_path_in_the_app_refuses_torchscript_with_a_message(
    qtbot, settings, evil, phantom_frames
):
    folder, victim = evil
    win = _window(qtbot, settings, phantom_frames, model=str(folder))
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=10000)
    assert "TorchScript" in win.banner.text() and "--trust-code" in win.banner.text()
    assert victim.read_bytes() == b"original"
    win.close()


# ---- bombs ----------------------------------------------------------------------------------
def _timed_refusal(folder: Path, capsys, *words: str) -> None:
    from sonolive.app.cli import main

    t0 = time.perf_counter()
    assert main(["import-model", str(folder)]) == 1
    assert time.perf_counter() - t0 < 5.0
    err = _one_line_error(capsys)
    for w in words:
        assert w in err, err
    assert not any(user_models_dir().iterdir())


def test_billion_laughs_yaml_card_is_refused(tmp_path, capsys):
    folder = _lite_copy(tmp_path)
    card = json.loads((folder / "model.json").read_text())
    (folder / "model.json").unlink()
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    text = "\n".join(lines) + "\n" + json.dumps(card)[1:-1].replace('", "', '",\n"') + "\n"
    (folder / "model.yaml").write_text(text)
    _timed_refusal(folder, capsys, "model.yaml", "aliases")


def test_oversized_card_is_refused(tmp_path, capsys):
    folder = _lite_copy(tmp_path, description="x" * 70_000)
    _timed_refusal(folder, capsys, "64 KiB")


def _pt_folder(tmp_path: Path, members: dict[str, tuple[bytes, int]]) -> Path:
    folder = tmp_path / "zip"
    folder.mkdir()
    with zipfile.ZipFile(folder / "model.pt", "w") as zf:
        for name, (data, method) in members.items():
            zf.writestr(name, data, compress_type=method)
    card = {"name": "zip", "format": "torchscript", "weights": "model.pt"}
    card["classes"] = ["background", "organ"]
    (folder / "model.json").write_text(json.dumps(card))
    return folder


def test_zip_bomb_pt_is_refused_before_inflating(tmp_path, capsys):
    small = pickle.dumps({}, protocol=2)
    bomb = bytes(64 * 2**20)  # 64 MiB of zeros deflates to about 64 KiB
    folder = _pt_folder(
        tmp_path,
        {"archive/data.pkl": (small, zipfile.ZIP_STORED), "archive/data/0": (bomb, 8)},
    )
    assert (folder / "model.pt").stat().st_size < 2**20
    _timed_refusal(folder, capsys, "zip bomb")


def test_huge_pickle_inside_pt_is_refused_without_scanning_it(tmp_path, capsys):
    big = pickle.dumps(list(range(4_000_000)), protocol=2)
    assert len(big) > 16 * 2**20
    folder = _pt_folder(tmp_path, {"archive/data.pkl": (big, zipfile.ZIP_STORED)})
    _timed_refusal(folder, capsys, "MiB of pickle")


@pytest.mark.parametrize(
    ("arch", "words"),
    [
        ({"type": "unet", "width": 1_000_000, "depth": 4}, "'width' must be a whole number"),
        ({"type": "unet", "width": 16, "depth": 10_000}, "'depth' must be a whole number"),
        ({"type": "unet", "width": 256, "depth": 8}, "parameters"),
        ({"type": "unet", "width": "16"}, "'width' must be a whole number"),
        ({"type": "unet", "widht": 16}, "unknown 'arch' entries"),
    ],
)
def test_absurd_arch_is_refused_before_building(tmp_path, capsys, arch, words):
    _timed_refusal(_lite_copy(tmp_path, arch=arch), capsys, "cannot build", words)


def test_input_size_beyond_any_scanner_is_refused(tmp_path, capsys):
    _timed_refusal(_lite_copy(tmp_path, input_size=[4096, 4096]), capsys, "16-1024")


# ---- silent nonsense ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("mean", [float("nan")], "finite"),
        ("std", [float("inf")], "finite"),
        ("std", [1e-9], "at least"),
    ],
)
def test_nan_inf_and_near_zero_normalisation_is_refused(tmp_path, field, value, words):
    folder = _lite_copy(tmp_path, **{field: value})
    with pytest.raises(ModelLoadError, match=words):
        load_model(folder)


def _many_classes(n: int) -> list[dict]:
    return [
        {"name": f"c{i}", "color": [(i * 40) % 256, (i // 7 * 40) % 256, (i // 49 * 40) % 256]}
        for i in range(n)
    ]


def test_more_than_255_classes_is_refused_by_commands_and_the_live_app(
    tmp_path, capsys, qtbot, settings, phantom_frames
):
    from sonolive.app.cli import main

    folder = _lite_copy(tmp_path, classes=_many_classes(300))
    with pytest.raises(CardError, match="at most 255"):
        ModelCard.load(folder)
    assert main(["import-model", str(folder)]) == 1
    assert "at most 255" in _one_line_error(capsys)
    assert main(["eval", "--model", str(folder), "--source", "phantom", "--frames", "1"]) == 2
    assert "at most 255" in _one_line_error(capsys)
    win = _window(qtbot, settings, phantom_frames, model=str(folder))
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=10000)
    assert "at most 255" in win.banner.text()
    win.close()


def test_too_close_colours_are_refused_by_model_path_and_eval(
    tmp_path, capsys, qtbot, settings, phantom_frames
):
    from sonolive.app.cli import main

    card = json.loads((find_model("fast-lite") / "model.json").read_text())
    classes = card["classes"]
    classes[3]["color"] = [c + 5 for c in classes[2]["color"]]
    folder = _lite_copy(tmp_path, classes=classes)
    assert main(["eval", "--model", str(folder), "--source", "phantom", "--frames", "1"]) == 2
    assert "too close to tell apart" in _one_line_error(capsys)
    win = _window(qtbot, settings, phantom_frames, model=str(folder))
    qtbot.waitUntil(lambda: win.banner.isVisible(), timeout=10000)
    assert "too close to tell apart" in win.banner.text()
    win.close()


# ---- symlinks -------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["model.safetensors", "model.json"])
def test_symlinked_weights_or_card_are_refused(tmp_path, capsys, which):
    folder = _lite_copy(tmp_path)
    real = tmp_path / f"real-{which}"
    shutil.move(folder / which, real)
    os.symlink(real, folder / which)
    _timed_refusal(folder, capsys, which, "symbolic link")


def test_trust_code_is_accepted_wherever_a_model_path_is(evil, qtbot, settings, phantom_frames):
    from sonolive.app.cli import build_parser
    from sonolive.app.main_window import MainWindow

    folder, victim = evil
    p = build_parser()
    for argv in (
        ["--trust-code", "--model", str(folder)],
        ["import-model", str(folder), "--trust-code"],
        ["eval", "--model", str(folder), "--source", "phantom", "--trust-code"],
        ["bench", "--model", str(folder), "--trust-code"],
        ["process", "in.mp4", "-o", "out", "--model", str(folder), "--trust-code"],
    ):
        assert p.parse_args(argv).trust_code is True, argv
    frames, truths = phantom_frames
    win = MainWindow(
        ReplaySource(frames, fps=20, truths=truths),
        str(folder),
        settings,
        "cpu",
        "review",
        "torch",
        trust_code=True,
    )
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.card is not None and win.card.name == "evil-ts", timeout=20000)
    assert not win.banner.isVisible()
    assert victim.read_bytes() == b"AAAAAAAA"  # trusted on the command line: it ran
    win.close()
