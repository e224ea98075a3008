"""Bring-your-own-model: safetensors, TorchScript, ONNX and state-dict folders, refused pickles,
bad cards, user models in the registry, and ``sonolive import-model``."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import uuid
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from sonolive.inference.segmenter import Segmenter
from sonolive.models.card import CardError
from sonolive.models.loader import ModelLoadError, load_model
from sonolive.models.onnx_net import OnnxNet
from sonolive.models.registry import find_model, list_models, user_models_dir


def _card(base: dict, **changes) -> dict:
    d = json.loads(json.dumps(base))
    d.update(changes)
    return d


def _write_json(folder: Path, card: dict) -> None:
    (folder / "model.json").write_text(json.dumps(card, indent=2), encoding="utf-8")


@pytest.fixture(scope="module")
def shipped():
    return load_model(find_model("fast-lite"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory, shipped):
    """fast-lite as safetensors (model.json), TorchScript (model.yaml) and ONNX (model.json)."""
    root = tmp_path_factory.mktemp("byom")
    base = shipped.card.to_dict()
    h, w = shipped.card.input_size
    x = torch.zeros(1, shipped.card.channels, h, w)

    st = root / "st"
    st.mkdir()
    shutil.copy2(find_model("fast-lite") / shipped.card.weights, st / "model.safetensors")
    _write_json(st, _card(base, name="mine-st", weights="model.safetensors"))

    ts = root / "ts"
    ts.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.trace(shipped.net, x).save(str(ts / "model.pt"))
    ts_card = _card(base, name="mine-ts", format="torchscript", weights="model.pt")
    ts_card.pop("arch")
    (ts / "model.yaml").write_text(yaml.safe_dump(ts_card), encoding="utf-8")

    ox = root / "onnx"
    ox.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            shipped.net,
            (x,),
            str(ox / "model.onnx"),
            dynamo=False,
            input_names=["image"],
            output_names=["logits"],
            opset_version=17,
        )
    onnx_card = _card(base, name="mine-onnx", format="onnx", weights="model.onnx")
    onnx_card.pop("arch")
    _write_json(ox, onnx_card)
    return {"st": st, "ts": ts, "onnx": ox, "root": root, "card": base}


@pytest.fixture(scope="module")
def frames():
    from sonolive.capture.bench_sources import phantom_frames

    return phantom_frames(4, 256)


def test_three_formats_give_the_same_masks(exported, frames):
    models = {k: load_model(exported[k], trust_code=True) for k in ("st", "ts", "onnx")}
    assert isinstance(models["ts"].net, torch.jit.ScriptModule)
    assert isinstance(models["onnx"].net, OnnxNet)
    assert models["ts"].card.name == "mine-ts"  # read from model.yaml
    segs = {k: Segmenter(m, device="cpu") for k, m in models.items()}
    imgs, truths = frames
    for img, truth in zip(imgs, truths, strict=True):
        ref = segs["st"].segment_pixels(img).labels
        assert ref.shape == truth.shape
        assert len(np.unique(ref)) >= 2  # a real mask, not an empty picture
        for k in ("ts", "onnx"):
            agree = (segs[k].segment_pixels(img).labels == ref).mean()
            assert agree >= 0.995, f"{k}: only {agree:.2%} of pixels agree with safetensors"


def test_plain_state_dict_pt_loads_into_the_card_arch(tmp_path, shipped, exported):
    folder = tmp_path / "sd"
    folder.mkdir()
    state = shipped.net.state_dict()
    ckpt = {"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 7}
    torch.save(ckpt, folder / "model.pth")
    _write_json(
        folder, _card(exported["card"], name="mine-sd", format="torchscript", weights="model.pth")
    )
    got = load_model(folder)
    assert not isinstance(got.net, torch.jit.ScriptModule)
    x = torch.rand(1, 1, *shipped.card.input_size)
    with torch.inference_mode():
        assert torch.allclose(got.net(x), shipped.net(x), atol=1e-5)


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("how", ["pickle", "torch.save", "fake-torchscript"])
def test_pickle_that_runs_code_is_refused(tmp_path, exported, how):
    marker = Path(f"/tmp/pwned-{uuid.uuid4().hex}")
    folder = tmp_path / "evil"
    folder.mkdir()
    weights = folder / "model.pt"
    evil = {"head.weight": _Evil(marker)}
    if how == "pickle":
        weights.write_bytes(pickle.dumps(evil))
    elif how == "torch.save":
        torch.save(evil, weights)
    else:  # TorchScript's layout around a malicious data.pkl
        with zipfile.ZipFile(weights, "w") as z:
            z.writestr("model/data.pkl", pickle.dumps(evil, protocol=2))
            z.writestr("model/constants.pkl", pickle.dumps((), protocol=2))
            z.writestr("model/code/__torch__/m.py", "def forward(self): pass\n")
            z.writestr("model/version", "3\n")
    _write_json(
        folder, _card(exported["card"], name="evil", format="torchscript", weights="model.pt")
    )
    with pytest.raises(ModelLoadError) as err:
        load_model(folder)
    msg = str(err.value)
    assert "executable code" in msg and "not loaded" in msg and "not a plain weights file" in msg
    assert "system" in msg  # names what it would have called
    assert not marker.exists()


def test_non_archive_pt_is_refused_plainly(tmp_path, exported):
    folder = tmp_path / "junk"
    folder.mkdir()
    (folder / "model.pt").write_bytes(b"not a model at all")
    _write_json(
        folder, _card(exported["card"], name="junk", format="torchscript", weights="model.pt")
    )
    with pytest.raises(ModelLoadError, match="neither a TorchScript archive"):
        load_model(folder)


def test_card_missing_classes_names_the_field(tmp_path, exported):
    card = _card(exported["card"])
    del card["classes"]
    shutil.copytree(exported["st"], tmp_path / "m")
    _write_json(tmp_path / "m", card)
    with pytest.raises((ModelLoadError, CardError), match="'classes'"):
        load_model(tmp_path / "m")


def test_card_colour_out_of_range_names_the_class(tmp_path, exported):
    card = _card(exported["card"])
    card["classes"][2]["color"] = [300, 0, 0]
    shutil.copytree(exported["st"], tmp_path / "m")
    _write_json(tmp_path / "m", card)
    with pytest.raises((ModelLoadError, CardError), match=r"classes\[2\].*colour"):
        load_model(tmp_path / "m")


def test_output_channels_must_match_classes(tmp_path, exported):
    folder = tmp_path / "ts5"
    shutil.copytree(exported["ts"], folder)
    card = yaml.safe_load((folder / "model.yaml").read_text())
    card["classes"] = card["classes"][:5]
    (folder / "model.yaml").write_text(yaml.safe_dump(card))
    with pytest.raises(ModelLoadError, match="outputs 7 channels but the card lists 5 classes"):
        load_model(folder, trust_code=True)


def test_onnx_input_size_must_match_card(tmp_path, exported):
    folder = tmp_path / "ox"
    shutil.copytree(exported["onnx"], folder)
    card = json.loads((folder / "model.json").read_text())
    card["input_size"] = [128, 128]
    _write_json(folder, card)
    with pytest.raises(ModelLoadError, match="expects input 1x1x192x192"):
        load_model(folder)


def test_probabilities_card_on_a_logits_model_is_refused(tmp_path, exported):
    folder = tmp_path / "tsp"
    shutil.copytree(exported["ts"], folder)
    card = yaml.safe_load((folder / "model.yaml").read_text())
    card["output"] = "probabilities"
    (folder / "model.yaml").write_text(yaml.safe_dump(card))
    with pytest.raises(ModelLoadError, match="set 'output' to 'logits'"):
        load_model(folder, trust_code=True)


def test_registry_lists_user_models_and_reports_broken_ones(exported):
    root = user_models_dir()
    shutil.copytree(exported["ts"], root / "my-ts-folder")
    (root / "broken").mkdir()
    (root / "broken" / "model.json").write_text("{ not json", encoding="utf-8")
    entries = {e.name: e for e in list_models()}
    assert "fast-lite" in entries and entries["fast-lite"].builtin
    mine = entries["mine-ts"]  # listed under the card's name
    assert not mine.builtin and mine.error is None and mine.card.format == "torchscript"
    assert find_model("mine-ts") == root / "my-ts-folder"
    broken = entries["broken"]
    assert broken.card is None and "not valid JSON" in broken.error
    assert load_model(find_model("mine-ts"), trust_code=True).card.num_classes == 7


def test_import_model_copies_a_valid_folder(exported, capsys):
    from sonolive.app.cli import main

    assert main(["import-model", str(exported["onnx"])]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("imported 'mine-onnx'") and "\n" not in out
    dest = user_models_dir() / "mine-onnx"
    assert (dest / "model.json").is_file() and (dest / "model.onnx").is_file()
    assert "mine-onnx" in {e.name for e in list_models() if not e.builtin}
    assert load_model(find_model("mine-onnx")).card.format == "onnx"
    # a second import needs --force
    assert main(["import-model", str(exported["onnx"])]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["import-model", "--force", str(exported["onnx"])]) == 0


def test_import_model_refuses_invalid_folders(tmp_path, exported, capsys):
    from sonolive.app.cli import main
    from sonolive.models.importer import ImportModelError, import_model

    bad = tmp_path / "bad"
    shutil.copytree(exported["ts"], bad)
    (bad / "model.pt").write_bytes(b"\x80\x04garbage")
    assert main(["import-model", str(bad)]) == 1
    assert capsys.readouterr().err.startswith("error: not imported:")
    assert not (user_models_dir() / "mine-ts").exists()

    builtin_name = tmp_path / "shadow"
    shutil.copytree(exported["st"], builtin_name)
    _write_json(builtin_name, _card(exported["card"], name="fast-lite"))
    with pytest.raises(ImportModelError, match="shipped model is already called 'fast-lite'"):
        import_model(builtin_name)

    same_colour = tmp_path / "colours"
    shutil.copytree(exported["st"], same_colour)
    card = _card(exported["card"], name="colours")
    card["classes"][3]["color"] = [c + 5 for c in card["classes"][2]["color"]]
    _write_json(same_colour, card)
    with pytest.raises(ImportModelError, match="too close to tell apart"):
        import_model(same_colour)

    traversal = tmp_path / "trav"
    shutil.copytree(exported["st"], traversal)
    _write_json(traversal, _card(exported["card"], name="../escape"))
    with pytest.raises(ImportModelError, match="cannot name a folder"):
        import_model(traversal)

    assert main(["import-model", str(tmp_path / "missing")]) == 2
    assert not any(user_models_dir().iterdir())


def test_malformed_user_cards_are_listed_with_an_error_not_a_crash(tmp_path, monkeypatch):
    import json as _json

    from sonolive.models.registry import list_models

    monkeypatch.setenv("SONOLIVE_USER_MODELS", str(tmp_path))
    for name, extra in (
        ("acc", {"accuracy": [1]}),
        ("arch", {"arch": [1]}),
        ("mean", {"mean": "abc"}),
    ):
        d = tmp_path / name
        d.mkdir()
        card = {"name": name, "classes": ["background", "organ"], **extra}
        (d / "model.json").write_text(_json.dumps(card))
    entries = {e.path.name: e for e in list_models() if not e.builtin}
    assert set(entries) == {"acc", "arch", "mean"}
    assert "'accuracy'" in entries["acc"].error
    assert "'arch'" in entries["arch"].error
    assert "'mean'" in entries["mean"].error


def test_weights_outside_the_model_folder_are_refused(tmp_path):
    import shutil

    from sonolive.models.loader import ModelLoadError, load_model
    from sonolive.models.registry import find_model

    folder = tmp_path / "m"
    shutil.copytree(find_model("fast-lite"), folder)
    outside = tmp_path / "elsewhere.safetensors"
    shutil.copy(folder / "model.safetensors", outside)
    card = (
        (folder / "model.json")
        .read_text()
        .replace('"model.safetensors"', '"../elsewhere.safetensors"')
    )
    (folder / "model.json").write_text(card)
    with pytest.raises(ModelLoadError, match="inside the model folder"):
        load_model(folder)
