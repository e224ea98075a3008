"""``sonolive dataset info|split`` on folders written by the annotate store, and the bad cases."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

SAMPLE = Path(__file__).resolve().parents[1] / "resources/samples/usgra-seg-sample"


def _classes():
    from sonolive.models.card import ModelCard
    from sonolive.models.registry import find_model

    return ModelCard.load(find_model("nerve-vessel")).classes


def _make(folder: Path, per_source: dict[str, int], size: int = 64) -> None:
    """Real usgra-seg frames and masks, reduced to ``size``, saved as if annotated."""
    from sonolive.models.dataset_store import DatasetStore, Sample
    from sonolive.models.datasets import read_mask

    store = DatasetStore(folder, _classes())
    names = sorted(p.name for p in (SAMPLE / "images").glob("*.png"))
    k = 0
    for src, n in per_source.items():
        for i in range(n):
            f = names[k % len(names)]
            k += 1
            grey = np.asarray(Image.open(SAMPLE / "images" / f).convert("L"))
            grey = cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA)
            m = cv2.resize(read_mask(SAMPLE / "masks" / f), (size, size), cv2.INTER_NEAREST)
            store.save(
                Sample(np.dstack([grey] * 3), m, f"/data/{src}", i * 5, i / 30, (0, 0, 64, 64))
            )


def _cli(argv, capsys):
    from sonolive.app.cli import main

    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_annotate_dataset_info_and_split_by_source(tmp_path, capsys):
    ds = tmp_path / "ds"
    _make(ds, {"a.mp4": 4, "b.mp4": 3, "c.mp4": 2, "d.mp4": 1})
    rc, out, err = _cli(["dataset", "info", str(ds)], capsys)
    assert rc == 0, err
    assert "10 frames from 4 source(s)" in out
    assert "nerve" in out and "vessel" in out
    assert "source a.mp4: 4 frame(s)" in out
    # pixel counts are the masks' own
    from sonolive.models.dataset_store import dataset_info
    from sonolive.models.datasets import read_mask

    info = dataset_info(ds)
    n_nerve = sum(int((read_mask(p) == 1).sum()) for p in (ds / "masks").glob("*.png"))
    assert info.totals["nerve"] == n_nerve > 0
    assert f"{n_nerve}" in out

    rc, out, err = _cli(["dataset", "split", str(ds), "--val", "0.2", "--by", "source"], capsys)
    assert rc == 0, err
    split = json.loads((ds / "split.json").read_text())
    assert set(split["sources"]["train"]).isdisjoint(split["sources"]["val"])
    assert len(split["train"]) + len(split["val"]) == 10
    assert 2 <= len(split["val"]) <= 4
    for part in ("train", "val"):
        on_disk = sorted(p.name for p in (ds / "split" / part / "masks").glob("*.png"))
        assert on_disk == sorted(split[part])
    # each source's frames all sit on one side, for several seeds
    for seed in range(5):
        _cli(["dataset", "split", str(ds), "--val", "0.3", "--seed", str(seed)], capsys)
        s = json.loads((ds / "split.json").read_text())
        for name in s["val"]:
            src = info.images[name]["source"]
            assert all(info.images[t]["source"] != src for t in s["train"])


def test_annotate_dataset_bad_input_named(tmp_path, capsys):
    ds = tmp_path / "ds"
    _make(ds, {"a.mp4": 2, "b.mp4": 2})
    names = sorted(p.name for p in (ds / "masks").glob("*.png"))
    # a mask of the wrong size
    Image.fromarray(np.zeros((32, 40), np.uint8)).save(ds / "masks" / names[0])
    # a mask with an unknown class index (the dataset has 3 classes)
    bad = np.asarray(Image.open(ds / "masks" / names[1])).copy()
    bad[5, 5] = 7
    Image.fromarray(bad).save(ds / "masks" / names[1])
    rc, out, err = _cli(["dataset", "info", str(ds)], capsys)
    assert rc == 1
    lines = err.strip().splitlines()
    assert any(names[0] in ln and "40x32" in ln and "64x64" in ln for ln in lines), err
    assert any(names[1] in ln and "unknown class index 7" in ln for ln in lines), err
    rc, _out, err = _cli(["dataset", "split", str(ds)], capsys)
    assert rc == 1 and "not splitting" in err and not (ds / "split.json").exists()

    # no dataset.json
    (ds / "dataset.json").unlink()
    rc, _out, err = _cli(["dataset", "info", str(ds)], capsys)
    assert rc == 2
    assert err.strip() == f"error: {ds / 'dataset.json'}: missing (not a SonoLive dataset folder)"

    # one source only: a split by source is impossible, said in plain words
    one = tmp_path / "one"
    _make(one, {"a.mp4": 3})
    rc, _out, err = _cli(["dataset", "split", str(one)], capsys)
    assert rc == 2 and "all frames come from one source" in err


def test_annotate_save_is_atomic(tmp_path, monkeypatch):
    """A crash in the middle of writing leaves the old PNG whole and no stray file."""
    import os

    from sonolive.models import dataset_store as st

    _make(tmp_path / "ds", {"a.mp4": 1})
    mask_path = next((tmp_path / "ds" / "masks").glob("*.png"))
    before = mask_path.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        st.atomic_write_bytes(mask_path, b"half")
    assert mask_path.read_bytes() == before
    assert [p.name for p in mask_path.parent.iterdir()] == [mask_path.name]
