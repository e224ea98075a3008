"""A crash while annotating (issue 29, group 6): a real process saves and deletes frames in a
loop and is killed with SIGKILL, many times, into one dataset folder. After every kill the
folder opens, every frame the process reported saved is there with its exact mask, every
frame it reported deleted is gone, and no file is left unlisted or half-written.

Two kinds of kill: the process kills itself at the K-th file operation of its saves and
deletes (K random: every step between two files is hit), and the test kills it after a
random number of reported saves, at whatever moment it is in."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CHILD = r"""
import os, signal, sys
import numpy as np
from sonolive.models.card import ClassInfo
from sonolive.models.dataset_store import DatasetStore, Sample

folder, kill_at, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ops = [0]
real_replace, real_unlink = os.replace, os.unlink

def counted(real):
    def op(*a, **k):
        ops[0] += 1
        if ops[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*a, **k)
    return op

os.replace, os.unlink = counted(real_replace), counted(real_unlink)
classes = [ClassInfo("background", "Background", (0, 0, 0)),
           ClassInfo("nerve", "Nerve", (255, 255, 0)), ClassInfo("vessel", "Vessel", (255, 0, 0))]
store = DatasetStore(folder, classes)
rng = np.random.default_rng(seed)
for step in range(40):
    names = store.names()
    if names and rng.random() < 0.25:
        victim = names[int(rng.integers(len(names)))]
        print("deleting", victim, flush=True)
        store.delete(victim)
        print("deleted", victim, flush=True)
        continue
    index = int(rng.integers(0, 200))
    mask = np.zeros((24, 24), np.uint8)
    mask[index % 20 : index % 20 + 4, :] = 1 + index % 2
    image = np.full((24, 24, 3), index, np.uint8)
    prefill = mask.copy() if index % 3 == 0 else None
    name = store.save(Sample(image, mask, f"/clips/clip{index % 4}.mp4", index,
                             prefilled=prefill is not None, prefill_mask=prefill))
    print("saved", name, flush=True)
"""


def _expected_mask(name: str) -> np.ndarray:
    index = int(name.rsplit("_f", 1)[1][:6])
    mask = np.zeros((24, 24), np.uint8)
    mask[index % 20 : index % 20 + 4, :] = 1 + index % 2
    return mask


def _check(folder, saved: set[str], deleted: set[str]) -> list[str]:
    from sonolive.models.dataset_store import DatasetStore, dataset_info
    from sonolive.models.mask_io import read_grey, read_mask

    info = dataset_info(folder)
    assert not info.problems, info.problems
    listed = set(info.images)
    assert saved <= listed, sorted(saved - listed)
    assert not (deleted & listed), sorted(deleted & listed)
    for sub in ("images", "masks"):
        on_disk = {p.name for p in (folder / sub).iterdir() if p.suffix == ".png"}
        assert on_disk == listed, (sub, sorted(on_disk ^ listed))
    leftovers = [p for p in folder.rglob(".*.tmp")]
    assert not leftovers, leftovers
    for name in listed:
        np.testing.assert_array_equal(read_mask(folder / "masks" / name, 3), _expected_mask(name))
        index = int(name.rsplit("_f", 1)[1][:6])
        assert int(read_grey(folder / "images" / name).mean()) == index
    assert set(DatasetStore(folder).names()) == listed  # opens again, nothing left to repair
    assert all("\n" not in n for n in info.notes)
    return info.notes


def _run_child(folder, kill_at: int, seed: int, kill_after: int | None):
    """Run the saving process; returns (saved, deleted) as it reported them."""
    p = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), str(kill_at), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    saved, deleted, pending, reports = set(), set(), None, 0
    for line in p.stdout:  # read to the end: lines printed before the kill count too
        what, name = line.split()
        if what == "deleting":
            pending = name
            continue
        pending = None
        (saved if what == "saved" else deleted).add(name)
        (deleted if what == "saved" else saved).discard(name)
        reports += 1
        if kill_after is not None and reports == kill_after:
            p.send_signal(signal.SIGKILL)  # at whatever step it is in now
    p.stdout.close()
    if pending is not None:  # killed while deleting it: either outcome is right
        saved.discard(pending)
        deleted.discard(pending)
    err = p.stderr.read()
    p.stderr.close()
    p.wait(timeout=120)
    assert p.returncode in (0, -signal.SIGKILL), err
    return saved, deleted, pending, p.returncode


def test_killed_while_saving_many_times(tmp_path):
    folder = tmp_path / "ds"
    rng = random.Random(29)
    saved: set[str] = set()
    deleted: set[str] = set()
    notes: list[str] = []
    kills = 0
    plan = [("self", rng.randint(1, 60)) for _ in range(14)]
    plan += [("external", rng.randint(1, 12)) for _ in range(6)]
    rng.shuffle(plan)
    for run, (how, k) in enumerate(plan):
        new_saved, new_deleted, pending, rc = _run_child(
            folder, k if how == "self" else 0, run, k if how == "external" else None
        )
        kills += rc == -signal.SIGKILL
        saved = (saved - new_deleted - {pending}) | new_saved
        deleted = (deleted - new_saved - {pending}) | new_deleted
        notes += _check(folder, saved, deleted)
    assert kills >= 15  # the process really died mid-way, again and again
    # at least one kill fell between a frame's files and its entry, and was repaired
    assert any("adopted" in n or "set aside" in n or "moved to" in n for n in notes), notes
    aside = folder / "set-aside"
    if aside.exists():  # set aside, never deleted: inside the folder
        assert all(p.resolve().is_relative_to(folder.resolve()) for p in aside.rglob("*"))
    assert os.listdir(folder)  # the folder is whole


def test_an_orphan_frame_is_adopted_or_set_aside_and_train_can_start(tmp_path, capsys):
    """The attack run's case: an image that dataset.json does not list no longer stops
    ``dataset info`` (the Train button's first step)."""
    from test_annotate_dataset import _cli, _make

    ds = tmp_path / "ds"
    _make(ds, {"clip1.mp4": 3, "clip2.mp4": 2}, size=32)
    some = sorted((ds / "masks").iterdir())[0]
    # a whole frame saved without its entry, and a picture whose mask never came
    for sub in ("images", "masks"):
        (ds / sub / "clip2_f000062.png").write_bytes((ds / sub / some.name).read_bytes())
    (ds / "images" / "clip2_f000063.png").write_bytes((ds / "images" / some.name).read_bytes())
    (ds / "masks" / ".clip2_f000063.png.k3j4h5q7.tmp").write_bytes(b"half a png")
    rc, out, err = _cli(["dataset", "info", str(ds)], capsys)
    assert rc == 0, err
    assert "6 frames" in out
    assert "images/clip2_f000062.png: saved without its entry" in err and "adopted" in err
    assert "images/clip2_f000063.png: not listed" in err and "set-aside/images/" in err
    assert (ds / "set-aside" / "images" / "clip2_f000063.png").is_file()
    assert not (ds / "masks" / ".clip2_f000063.png.k3j4h5q7.tmp").exists()
    rc, out, err = _cli(["dataset", "split", str(ds)], capsys)
    assert rc == 0 and not err, err  # repaired once: nothing more to say


def test_repair_removes_only_its_own_temporary_files(tmp_path, capsys):
    from test_annotate_dataset import _cli, _make

    ds = tmp_path / "ds"
    _make(ds, {"a.mp4": 2, "b.mp4": 1}, size=16)
    mine = [ds / ".dataset.json.ab12cd34.tmp", ds / "images" / ".a_f000000.png.zz99yy88.tmp"]
    theirs = [ds / ".notes.backup1.tmp", ds / "images" / ".keep.tmp", ds / "masks" / "x.tmp"]
    for p in mine + theirs:
        p.write_bytes(b"x")
    rc, _out, err = _cli(["dataset", "info", str(ds)], capsys)
    assert rc == 0, err
    assert not any(p.exists() for p in mine)
    assert all(p.read_bytes() == b"x" for p in theirs)


STATES = ["whole", "no image", "no mask", "orphan both", "orphan image", "orphan mask"]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(states=st.lists(st.sampled_from(STATES), min_size=1, max_size=8))
def test_any_mix_of_missing_and_unlisted_files_is_repaired(tmp_path_factory, states):
    """Property: whatever mix of entries without files and files without entries a crash
    (or several) left, one opening leaves every listed frame whole, every other file set
    aside (none deleted), and a second opening finds nothing to repair."""
    from sonolive.models.dataset_store import DatasetStore, dataset_info
    from test_annotate_dataset import _make

    ds = tmp_path_factory.mktemp("mix")
    _make(ds, {"a.mp4": 1}, size=8)
    ((base, _rec),) = DatasetStore(ds).manifest["images"].items()
    man = json.loads((ds / "dataset.json").read_text())
    png = {sub: (ds / sub / base).read_bytes() for sub in ("images", "masks")}
    files_before = 0
    for i, state in enumerate(states):
        name = f"k{i}_f{i:06d}.png"
        listed = not state.startswith("orphan")
        if listed:
            man["images"][name] = dict(man["images"][base])
        for sub in ("images", "masks"):
            if state in ("whole", "orphan both") or (
                (state in ("no mask", "orphan image") and sub == "images")
                or (state in ("no image", "orphan mask") and sub == "masks")
            ):
                (ds / sub / name).write_bytes(png[sub])
                files_before += 1
    (ds / "dataset.json").write_text(json.dumps(man))
    info = dataset_info(ds)
    assert not info.problems, info.problems
    listed = set(info.images)
    want = {base} | {
        f"k{i}_f{i:06d}.png" for i, s in enumerate(states) if s in ("whole", "orphan both")
    }
    assert listed == want
    for sub in ("images", "masks"):
        assert {p.name for p in (ds / sub).glob("*.png")} == listed
    kept = sum(1 for p in (ds / "set-aside").rglob("*.png")) if (ds / "set-aside").exists() else 0
    assert 2 * (len(listed) - 1) + kept == files_before  # nothing deleted
    assert dataset_info(ds).notes == []  # repaired once, for good
