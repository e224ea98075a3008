"""Dataset folders as untrusted input (issue 29, group 1): names, links, FIFOs, hostile
``dataset.json`` (also fuzzed with Hypothesis), read-only folders, the atomic split, and a
60,000-frame dataset checked in linear time."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import one_error_line, run_cli, sandbox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from test_annotate_dataset import _cli, _make


@pytest.fixture
def ds(tmp_path):
    d = tmp_path / "ds"
    _make(d, {"a.mp4": 3, "b.mp4": 2, "c.mp4": 2}, size=32)
    return d


def _manifest(ds: Path) -> dict:
    return json.loads((ds / "dataset.json").read_text(encoding="utf-8"))


def _put(ds: Path, man: object) -> None:
    (ds / "dataset.json").write_text(json.dumps(man), encoding="utf-8")


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# ---- split never follows, never deletes what it did not make ----------------------------


def test_split_refuses_a_split_link_and_leaves_its_target_alone(ds, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "train").mkdir(parents=True)
    (elsewhere / "train" / "precious.txt").write_text("keep me")
    (elsewhere / "val").mkdir()
    before = _tree(elsewhere)
    (ds / "split").symlink_to(elsewhere, target_is_directory=True)
    rc, _out, err = _cli(["dataset", "split", str(ds)], capsys)
    line = one_error_line(err)
    assert rc == 2 and "split" in line and "link" in line
    assert _tree(elsewhere) == before
    assert (ds / "split").is_symlink()


def test_split_refuses_a_split_file(ds, capsys):
    (ds / "split").write_text("mine")
    rc, _out, err = _cli(["dataset", "split", str(ds)], capsys)
    assert rc == 2 and "is a file" in one_error_line(err)
    assert (ds / "split").read_text() == "mine"


def test_split_keeps_a_folder_it_did_not_make_and_replaces_its_own(ds, capsys):
    (ds / "split").mkdir()
    (ds / "split" / "notes.txt").write_text("my notes")
    rc, _out, err = _cli(["dataset", "split", str(ds), "--seed", "3"], capsys)
    assert rc == 0, err
    kept = [p for p in ds.iterdir() if p.name.startswith("split.old-")]
    assert len(kept) == 1 and (kept[0] / "notes.txt").read_text() == "my notes"
    assert "kept as" in err
    first = json.loads((ds / "split.json").read_text())
    assert sorted(p.name for p in (ds / "split/val/masks").iterdir()) == first["val"]
    # our own split is replaced whole: no frame of the old one stays behind
    rc, _out, err = _cli(["dataset", "split", str(ds), "--seed", "4", "--val", "0.5"], capsys)
    assert rc == 0, err
    second = json.loads((ds / "split.json").read_text())
    assert sorted(p.name for p in (ds / "split/val/masks").iterdir()) == second["val"]
    assert sorted(p.name for p in (ds / "split/train/images").iterdir()) == second["train"]
    assert not [p for p in ds.iterdir() if p.name.startswith(".split-")]  # no leftovers
    assert len([p for p in ds.iterdir() if p.name.startswith("split.old-")]) == 1


@pytest.mark.parametrize("seed", ["-1", "-99999999999"])
def test_split_negative_seed(ds, capsys, seed):
    rc, _out, err = _cli(["dataset", "split", str(ds), "--seed", seed], capsys)
    assert rc == 2 and "--seed" in one_error_line(err)


@pytest.mark.parametrize("val", ["0", "1", "nan", "inf", "-0.5"])
def test_split_bad_fraction(ds, capsys, val):
    rc, _out, err = _cli(["dataset", "split", str(ds), "--val", val], capsys)
    assert rc == 2 and "--val" in one_error_line(err)


# ---- names in dataset.json ---------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    ["../../victim.png", "sub/x.png", "/tmp/abs.png", "..\\x.png", ".hidden.png", "x.txt", ""],
)
def test_frame_names_that_leave_the_folder_are_refused(ds, tmp_path, capsys, bad):
    from sonolive.models.dataset_store import DatasetStore
    from sonolive.models.datasets import DataError

    victim = tmp_path / "victim.png"
    victim.write_bytes(b"not yours")
    man = _manifest(ds)
    first = next(iter(man["images"]))
    man["images"][bad] = man["images"][first]
    _put(ds, man)
    for action in ("info", "split"):
        rc, _out, err = _cli(["dataset", action, str(ds)], capsys)
        line = one_error_line(err)
        assert rc == 2 and "dataset.json" in line and "plain file name" in line
    with pytest.raises(DataError, match="plain file name"):
        DatasetStore(ds)
    assert victim.read_bytes() == b"not yours"


def test_delete_and_load_check_the_name(ds, tmp_path):
    from sonolive.models.dataset_store import DatasetStore
    from sonolive.models.datasets import DataError

    victim = tmp_path / "victim.png"
    victim.write_bytes(b"not yours")
    store = DatasetStore(ds)
    for bad in ("../../victim.png", "../victim.png", str(victim)):
        with pytest.raises(DataError):
            store.delete(bad)
        with pytest.raises(DataError):
            store.load(bad)
    assert victim.read_bytes() == b"not yours"


def test_links_and_fifos_in_the_folder_are_not_followed(ds, tmp_path):
    outside = tmp_path / "outside.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(outside)
    listed = sorted(_manifest(ds)["images"])
    (ds / "images" / listed[0]).unlink()
    (ds / "images" / listed[0]).symlink_to(outside)
    (ds / "images" / listed[1]).unlink()
    os.mkfifo(ds / "images" / listed[1])  # a listed frame that would block a reader
    os.mkfifo(ds / "images" / "zz_f000001.png")  # unlisted
    r = run_cli(["dataset", "info", str(ds)], timeout=120)  # a hang fails here
    assert "Traceback" not in r.stderr
    assert r.returncode == 0, r.stderr
    assert f"images/{listed[0]}: is a link" in r.stderr
    assert "images/zz_f000001.png: not a plain file" in r.stderr
    assert outside.is_file()
    man = _manifest(ds)
    assert listed[0] not in man["images"] and listed[1] not in man["images"]


@pytest.mark.parametrize("how", ["link", "file", "gone"])
def test_a_linked_or_lost_subfolder_is_refused_not_emptied(ds, tmp_path, capsys, how):
    before = _manifest(ds)
    moved = tmp_path / "moved-images"
    shutil.move(ds / "images", moved)
    if how == "link":
        (ds / "images").symlink_to(moved, target_is_directory=True)
    elif how == "file":
        (ds / "images").write_text("x")
    rc, _out, err = _cli(["dataset", "info", str(ds)], capsys)
    assert rc == 2 and "images" in one_error_line(err)
    assert _manifest(ds) == before and not (ds / "set-aside").exists()


@pytest.mark.parametrize(
    "change",
    [
        lambda m: {"classes": m["classes"], "images": []},
        lambda m: {"classes": {"a": 1}, "images": {}},
        lambda m: [m],
        lambda m: {**m, "images": {k: "x" for k in m["images"]}},
        lambda m: {**m, "images": {k: {**v, "frame_index": "12"} for k, v in m["images"].items()}},
        lambda m: {**m, "images": {k: {**v, "timestamp": 1e999} for k, v in m["images"].items()}},
        lambda m: {**m, "images": {k: {**v, "roi": [1, 2]} for k, v in m["images"].items()}},
        lambda m: {**m, "format": "other/9"},
    ],
)
def test_wrongly_typed_manifest_is_one_line(ds, capsys, change):
    _put(ds, change(_manifest(ds)))
    rc, _out, err = _cli(["dataset", "info", str(ds)], capsys)
    assert rc == 2 and "dataset.json" in one_error_line(err)


def test_deeply_nested_manifest_is_one_line(ds, capsys):
    (ds / "dataset.json").write_text("[" * 200_000 + "]" * 200_000)
    rc, _out, err = _cli(["dataset", "info", str(ds)], capsys)
    assert rc == 2 and "dataset.json" in one_error_line(err)


def test_lone_surrogate_in_a_source_name_prints(ds):
    text = (ds / "dataset.json").read_text(encoding="utf-8")
    text = text.replace('"source": "a.mp4"', '"source": "a\\ud800.mp4"')
    (ds / "dataset.json").write_text(text, encoding="utf-8")
    r = run_cli(["dataset", "info", str(ds)], env={"PYTHONIOENCODING": "utf-8"}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "source a\ufffd.mp4: 3 frame(s)" in r.stdout


def test_read_only_dataset(ds):
    with sandbox() as box:
        ro = box / "ro"
        shutil.copytree(ds, ro)
        some = sorted((ro / "images").iterdir())[0]
        (ro / "images" / "zz_f000009.png").write_bytes(some.read_bytes())  # a crash's orphan
        for p in [ro, *ro.rglob("*")]:
            p.chmod(0o555 if p.is_dir() else 0o444)
        before = _tree(ro)
        r = run_cli(["dataset", "info", str(ro)], unprivileged=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stderr and "7 frames" in r.stdout
        assert "images/zz_f000009.png: not listed" in r.stderr and "in memory only" in r.stderr
        r = run_cli(["dataset", "split", str(ro)], unprivileged=True, timeout=120)
        errors = [ln for ln in r.stderr.splitlines() if not ln.startswith("note: ")]
        line = one_error_line("\n".join(errors))
        assert (
            r.returncode == 2 and line == f"error: {ro}: cannot write the split (Permission denied)"
        )
        assert _tree(ro) == before


# ---- size: 60,000 frames -------------------------------------------------------------------


def test_sixty_thousand_frames_are_checked_in_linear_time(tmp_path, capsys):
    """60,000 entries in dataset.json: 600 frames on disk (hard links to one small picture
    and mask, each decoded and checked), the rest listed without files (an interrupted
    delete: each entry is set aside). Parsing, listing, repairing, counting sources and the
    split by source each touch a frame a constant number of times; the former quadratic
    check took minutes here."""
    from sonolive.models.dataset_store import DatasetInfo, split_by_source

    ds = tmp_path / "big"
    _make(ds, {"a.mp4": 1}, size=8)
    man = _manifest(ds)
    ((name, rec),) = man["images"].items()
    n, on_disk = 60_000, 600
    images = {}
    for i in range(n):
        frame = f"s{i % 3000:04d}_f{i:06d}.png"
        images[frame] = {**rec, "source": f"clip{i % 3000}.mp4", "frame_index": i}
        if i < on_disk:
            for sub in ("images", "masks"):
                os.link(ds / sub / name, ds / sub / frame)
    for sub in ("images", "masks"):
        (ds / sub / name).unlink()
    man["images"] = images
    _put(ds, man)
    rc, out, err = _cli(["dataset", "info", str(ds)], capsys)
    assert rc == 0, err[-2000:]
    assert f"{on_disk} frames from {on_disk} source(s)" in out
    assert f"and {n - on_disk - 20} more" in err  # the notes are summarised, not 59,400 lines
    assert len(err.splitlines()) < 30
    aside = json.loads((ds / "set-aside" / "entries.json").read_text())["entries"]
    assert len(aside) == n - on_disk and len(_manifest(ds)["images"]) == on_disk

    # the split by source over all 60,000 (in memory: the split only reads the records)
    info = DatasetInfo(ds, man["classes"], images)
    assert len(info.sources) == 3000 and sum(info.source_counts.values()) == n
    train, val = split_by_source(info, 0.2, seed=1)
    assert len(train) + len(val) == n and 0.15 * n < len(val) < 0.25 * n
    assert {images[v]["source"] for v in val}.isdisjoint({images[t]["source"] for t in train})


# ---- fuzz: dataset.json ------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = ["source", "frame_index", "timestamp", "roi", "annotator", "prefilled", "size"]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    where=st.sampled_from(["file", "classes", "images", "record", "field", "name", "class"]),
    value=JSON,
    field=st.sampled_from(FIELDS),
    name=st.text(max_size=20),
)
def test_fuzzed_manifest_is_read_or_refused_in_one_line(
    tmp_path_factory, where, value, field, name
):
    from sonolive.models.dataset_store import DatasetStore, dataset_info
    from sonolive.models.datasets import DataError

    ds = tmp_path_factory.mktemp("fuzz")
    _make(ds, {"a.mp4": 1, "b.mp4": 1}, size=8)
    man = _manifest(ds)
    frame = sorted(man["images"])[0]
    if where == "file":
        man = value
    elif where == "classes":
        man["classes"] = value
    elif where == "class":
        man["classes"][1] = value
    elif where == "images":
        man["images"] = value
    elif where == "record":
        man["images"][frame] = value
    elif where == "field":
        man["images"][frame][field] = value
    else:
        man["images"][name] = man["images"].pop(frame)
    (ds / "dataset.json").write_text(json.dumps(man), encoding="utf-8")
    for read in (dataset_info, DatasetStore):
        try:
            got = read(ds)
        except DataError as e:
            assert "\n" not in str(e) and "dataset.json" in str(e)
            continue
        images = got.images if hasattr(got, "images") else got.manifest["images"]
        for n in images:  # every name that was accepted stays inside the folder
            assert Path(n).name == n and not n.startswith(".") and n.endswith(".png")
            assert (ds / "images" / n).resolve().parent == (ds / "images").resolve()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=200))
def test_fuzzed_manifest_bytes(tmp_path_factory, data):
    from sonolive.models.dataset_store import dataset_info
    from sonolive.models.datasets import DataError

    ds = tmp_path_factory.mktemp("bytes")
    (ds / "dataset.json").write_bytes(data)
    with pytest.raises(DataError):
        dataset_info(ds)


def test_saving_frames_of_hostile_source_names(tmp_path):
    from sonolive.models.dataset_store import DatasetStore, Sample, dataset_info
    from test_annotate_dataset import _classes

    store = DatasetStore(tmp_path / "ds", _classes())
    img = np.zeros((8, 8, 3), np.uint8)
    mask = np.zeros((8, 8), np.uint8)
    for i, src in enumerate(["x" * 400 + ".mp4", ".hidden.mp4", "../../up.mp4", "scan\udcff.mp4"]):
        store.save(Sample(img, mask, src, i))
    info = dataset_info(tmp_path / "ds")
    assert len(info.images) == 4 and not info.problems and not info.notes
    assert all(p.parent == tmp_path / "ds" / "images" for p in (tmp_path / "ds").rglob("*_f*.png")
               if p.parent.name == "images")  # fmt: skip
    assert "scan\ufffd.mp4" in info.sources
