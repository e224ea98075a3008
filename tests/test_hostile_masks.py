"""Masks and training settings as untrusted input (issue 29, group 2): one bounded reader
for every command (fuzzed with Hypothesis), values never wrapped, and ``train``/``eval``
refusing in one line what they cannot use."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import one_error_line
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image
from test_annotate_dataset import _cli, _make


def _bomb(path: Path, w: int = 200_000, h: int = 200_000) -> Path:
    """A PNG whose header declares ``w`` x ``h`` 1-bit pixels, with a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    sig = b"\x89PNG\r\n\x1a\n"
    path.write_bytes(sig + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def _hostile(kind: str, path: Path, like: Path) -> None:
    if kind == "text":
        path.write_text("this is not a picture\n")
    elif kind == "truncated":
        path.write_bytes(like.read_bytes()[:60])
    elif kind == "bomb":
        _bomb(path)
    elif kind == "16bit":
        m = np.asarray(Image.open(like)).astype(np.uint16)
        m[3, 3] = 257  # would read as class 1 if cast to 8 bits
        Image.fromarray(m).save(path)
    elif kind == "rgb":
        Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(path)


KINDS = ["text", "truncated", "bomb", "16bit", "rgb"]


@pytest.fixture
def data(tmp_path):
    ds = tmp_path / "ds"
    _make(ds, {"a.mp4": 4, "b.mp4": 4}, size=32)
    return ds


@pytest.mark.parametrize("kind", KINDS)
def test_one_line_for_a_hostile_mask_in_every_command(data, tmp_path, capsys, kind):
    masks = sorted((data / "masks").glob("*.png"))
    _hostile(kind, masks[0], masks[1])
    rc, _out, err = _cli(["dataset", "info", str(data)], capsys)
    assert rc == 1 and "Traceback" not in err
    assert any(masks[0].name in ln for ln in err.splitlines()), err
    argv = ["train", "--data", str(data), "--out", str(tmp_path / "run"), "--steps", "1"]
    rc, out, err = _cli([*argv, "--batch-size", "2", "--input-size", "32", "--quiet"], capsys)
    assert rc == 2 and masks[0].name in one_error_line(err)
    assert "model in" not in out and not (tmp_path / "run").exists()
    argv = ["eval", "--model", "nerve-vessel", "--data", str(data), "--device", "cpu"]
    rc, _out, err = _cli([*argv, "--no-progress"], capsys)
    assert rc == 2 and masks[0].name in one_error_line(err)


def test_hostile_picture_and_bomb_messages(data, capsys):
    from sonolive.models.datasets import DataError
    from sonolive.models.mask_io import read_grey, read_mask

    bomb = _bomb(data / "bomb.png")
    with pytest.raises(DataError, match="too large"):
        read_mask(bomb)
    with pytest.raises(DataError, match="too large"):
        read_grey(bomb)
    images = sorted((data / "images").glob("*.png"))
    images[0].write_bytes(images[0].read_bytes()[:80])
    rc, _out, err = _cli(["dataset", "info", str(data)], capsys)
    assert rc == 1 and any(images[0].name in ln and "truncated" in ln for ln in err.splitlines())


def test_sixteen_bit_masks_are_not_wrapped(tmp_path):
    from sonolive.models.datasets import DataError
    from sonolive.models.mask_io import read_mask

    m = np.zeros((8, 8), np.uint16)
    m[1, 1], m[2, 2] = 2, 1
    Image.fromarray(m).save(tmp_path / "ok.png")
    got = read_mask(tmp_path / "ok.png", 3)
    assert got.dtype == np.uint8 and got[1, 1] == 2 and got[2, 2] == 1
    m[3, 3] = 257
    Image.fromarray(m).save(tmp_path / "wrap.png")
    with pytest.raises(DataError, match="unknown class index 257"):
        read_mask(tmp_path / "wrap.png", 3)
    with pytest.raises(DataError, match="unknown class index 257"):
        read_mask(tmp_path / "wrap.png")  # even without a class count: never 257 -> 1


def test_eval_data_checks_class_indices(data, capsys):
    masks = sorted((data / "masks").glob("*.png"))
    m = np.asarray(Image.open(masks[2])).copy()
    m[4, 4] = 9  # nerve-vessel has 3 classes
    Image.fromarray(m).save(masks[2])
    argv = ["eval", "--model", "nerve-vessel", "--data", str(data), "--device", "cpu"]
    rc, out, err = _cli([*argv, "--no-progress"], capsys)
    line = one_error_line(err)
    assert rc == 2 and masks[2].name in line and "unknown class index 9" in line
    assert "dice" not in out.lower()


def _plain_set(folder: Path, n: int, classes: list[str], paint) -> Path:
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (32, 32), np.uint8)).save(
            folder / f"images/{i:02d}.png"
        )
        Image.fromarray(paint(i)).save(folder / f"masks/{i:02d}.png")
    (folder / "classes.json").write_text(json.dumps(classes))
    return folder


TRAIN = ["--steps", "2", "--batch-size", "2", "--input-size", "32", "--width", "4", "--depth", "2"]


@pytest.mark.parametrize("classes", [["background"], ["background", "nerve"]])
def test_train_with_nothing_to_learn_claims_no_model(tmp_path, capsys, classes):
    d = _plain_set(tmp_path / "d", 6, classes, lambda i: np.zeros((32, 32), np.uint8))
    out = tmp_path / "run"
    rc, stdout, err = _cli(
        ["train", "--data", str(d), "--out", str(out), *TRAIN, "--quiet"], capsys
    )
    line = one_error_line(err)
    assert rc == 2 and ("only one class" in line or "nothing to learn" in line)
    assert "model in" not in stdout and not (out / "best").exists()


def test_train_reports_a_class_only_in_validation(tmp_path, capsys):
    from sonolive.models.datasets import folder_pairs, split_three

    def square(k: int):
        m = np.zeros((32, 32), np.uint8)
        m[8:20, 8:20] = k
        return m

    d = _plain_set(tmp_path / "d", 10, ["background", "nerve", "vessel"], lambda i: square(1))
    _tr, val, _te = split_three(folder_pairs(d), 0.2, 0.0, 0)
    for _ip, mp in val:  # vessel only in the validation masks
        Image.fromarray(square(2)).save(mp)
    out = tmp_path / "run"
    rc, stdout, err = _cli(
        ["train", "--data", str(d), "--out", str(out), *TRAIN, "--quiet"], capsys
    )
    assert rc == 0, err
    assert "vessel appears only in the validation masks" in err
    assert f"model in {out}/best" in stdout and (out / "best" / "model.json").is_file()


@pytest.mark.parametrize(
    "extra, word",
    [
        (["--batch-size", "0"], "--batch-size"),
        (["--batch-size", "-3"], "--batch-size"),
        (["--steps", "0"], "--steps"),
        (["--epochs", "0"], "--epochs"),
        (["--lr", "nan"], "--lr"),
        (["--name", "x" * 80], "--name"),
        (["--name", "../evil"], "--name"),
    ],
)
def test_train_refuses_impossible_settings(data, tmp_path, capsys, extra, word):
    out = tmp_path / "run"
    argv = ["train", "--data", str(data), "--out", str(out), "--steps", "1", "--quiet", *extra]
    rc, _stdout, err = _cli(argv, capsys)
    assert rc == 2 and word in one_error_line(err)
    assert not out.exists()


def test_long_dataset_folder_gives_an_installable_name(tmp_path):
    from sonolive.models.card import ModelCard
    from sonolive.models.finetune import new_name
    from sonolive.models.importer import model_name_problem
    from sonolive.models.registry import find_model

    card = ModelCard.load(find_model("nerve-vessel"))
    for folder in ("a" * 250, "Clinic (2026) – séance #3 " * 9, "---", "x"):
        name = new_name(card, tmp_path / folder)
        assert model_name_problem(name) is None, name
        assert name.startswith(card.name)


# ---- fuzz: the one mask reader --------------------------------------------------------------

MODES = st.sampled_from(["L", "P", "I;16", "1", "RGB", "LA", "RGBA"])


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    mode=MODES,
    values=arrays(
        np.int64, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.integers(0, 70000)
    ),
    n_classes=st.integers(1, 300),
)
def test_fuzzed_masks_are_read_exactly_or_refused(tmp_path_factory, mode, values, n_classes):
    from sonolive.models.datasets import DataError
    from sonolive.models.mask_io import read_mask

    path = tmp_path_factory.mktemp("m") / "m.png"
    if mode in ("L", "P"):  # a palette PNG keeps its indices
        arr = (values % 256).astype(np.uint8)
        Image.frombytes(mode, arr.shape[::-1], arr.tobytes()).save(path)
    elif mode == "I;16":
        arr = (values % 65536).astype(np.uint16)
        Image.fromarray(arr).save(path)
    elif mode == "1":
        arr = (values % 2).astype(bool)
        Image.fromarray(arr).save(path)
    else:
        arr = None
        Image.fromarray(np.zeros((*values.shape, len(mode)), np.uint8), mode).save(path)
    try:
        got = read_mask(path, n_classes)
    except DataError as e:
        assert "\n" not in str(e) and str(path) in str(e)
        if arr is not None:  # refused only for a value out of range
            assert int(np.asarray(Image.open(path)).max()) >= min(n_classes, 256)
        return
    assert arr is not None, "a colour mask must be refused"
    stored = np.asarray(Image.open(path)).astype(np.int64)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got.astype(np.int64), stored)  # exact, never wrapped
    assert int(got.max()) < n_classes


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(cut=st.integers(0, 400), noise=st.binary(max_size=64))
def test_fuzzed_damaged_png_bytes(tmp_path_factory, cut, noise):
    from sonolive.models.datasets import DataError
    from sonolive.models.mask_io import read_grey, read_mask

    d = tmp_path_factory.mktemp("b")
    good = d / "good.png"
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8) % 3).save(good)
    bad = d / "bad.png"
    bad.write_bytes(good.read_bytes()[:cut] + noise)
    for read in (read_mask, read_grey):
        try:
            read(bad)
        except DataError as e:
            assert "\n" not in str(e) and str(bad) in str(e)


def test_resume_from_a_damaged_checkpoint_is_one_line(data, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"PK\x03\x04 not a checkpoint")
    argv = ["train", "--data", str(data), "--out", str(out), *TRAIN, "--resume", "--quiet"]
    rc, stdout, err = _cli(argv, capsys)
    assert rc == 2 and "checkpoint.pt" in one_error_line(err)
    assert "model in" not in stdout


def test_eval_json_is_strict_when_a_class_is_absent(tmp_path, capsys):
    def nerve_only(i: int):
        m = np.zeros((32, 32), np.uint8)
        m[8:20, 8:20] = 1
        return m

    d = _plain_set(tmp_path / "d", 3, ["background", "nerve", "vessel"], nerve_only)
    out = tmp_path / "eval.json"
    argv = ["eval", "--model", "nerve-vessel", "--data", str(d), "--device", "cpu"]
    rc, _o, err = _cli([*argv, "--no-progress", "--json", str(out)], capsys)
    assert rc == 0, err

    def no_constant(name: str):
        raise ValueError(f"{name} in eval JSON")

    doc = json.loads(out.read_text(encoding="utf-8"), parse_constant=no_constant)
    assert set(doc["per_class"]) >= {"nerve", "vessel"}
