"""Training and evaluation: loss goes down, DDP on gloo, resume, and exact Dice figures."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import cv2
import numpy as np
import pytest
from sonolive.capture.phantom_export import export_phantom
from sonolive.inference.segmenter import Segmenter
from sonolive.inference.tools.evaluate import evaluate
from sonolive.models.loader import load_model
from sonolive.models.metrics import dice_per_class, iou_per_class
from sonolive.models.train import TrainConfig, train


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantom-set")
    export_phantom(out, seed=11, frames=24, size=128, clip=False, random_frames=True)
    return out


def test_train_loss_goes_down_and_writes_a_loadable_model(tiny_set, tmp_path):
    cfg = TrainConfig(
        out=tmp_path / "run",
        name="tiny",
        data=tiny_set,
        input_size=64,
        width=4,
        depth=2,
        steps=40,
        batch_size=4,
        lr=1e-2,
        quiet=True,
        device="cpu",
    )
    res = train(cfg)
    losses = [h["loss"] for h in res["history"]]
    assert len(losses) == 40
    assert np.mean(losses[-8:]) < 0.8 * np.mean(losses[:8])
    m = load_model(tmp_path / "run" / "last")
    assert m.card.name == "tiny" and m.card.num_classes == 7
    assert "seeded split" in m.card.training_data


def test_resume_continues_from_the_checkpoint(tiny_set, tmp_path):
    base = dict(
        data=tiny_set, input_size=64, width=4, depth=2, batch_size=4, quiet=True, device="cpu"
    )
    train(TrainConfig(out=tmp_path / "r", name="r", epochs=1, **base))
    res = train(TrainConfig(out=tmp_path / "r", name="r", epochs=2, resume=True, **base))
    # 24 images, 20% validation -> 19 training -> 4 steps per epoch; resume runs only epoch 2
    assert res["steps"] == 8
    assert len(res["history"]) == 4


def test_ddp_two_processes_on_gloo(tiny_set, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(port),
        "--module",
        "sonolive.app.cli",
        "train",
        "--data",
        str(tiny_set),
        "--out",
        str(tmp_path / "ddp"),
        "--name",
        "ddp",
        "--input-size",
        "64",
        "--width",
        "4",
        "--depth",
        "2",
        "--batch-size",
        "2",
        "--steps",
        "6",
        "--device",
        "cpu",
        "--quiet",
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "on 2 process(es)" in p.stdout
    assert load_model(tmp_path / "ddp" / "last").card.name == "ddp"


def test_dice_and_iou_on_a_hand_computed_case():
    truth = np.zeros((4, 4), np.uint8)
    truth[0:2, 0:2] = 1  # 4 pixels of class 1
    pred = np.zeros((4, 4), np.uint8)
    pred[0:2, 1:3] = 1  # 4 pixels, 2 overlapping
    pred[3, 3] = 2  # a false class-2 pixel
    d = dice_per_class(pred, truth, 3)
    j = iou_per_class(pred, truth, 3)
    assert d[1] == pytest.approx(2 * 2 / (4 + 4))
    assert j[1] == pytest.approx(2 / 6)
    assert d[2] == 0.0  # predicted but absent: counts as a miss
    assert d[0] == pytest.approx(2 * 9 / (11 + 12))


def test_eval_matches_per_frame_dice_computed_by_hand(lite_model, phantom_frames):
    seg = Segmenter(lite_model, device="cpu")
    frames, truths = phantom_frames
    samples = [
        (cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), t)
        for f, t in zip(frames[:4], truths[:4], strict=True)
    ]
    res = evaluate(seg, samples)
    preds = [seg.segment_pixels(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)).labels for img, _ in samples]
    compared = 0
    for c, name in enumerate(seg.card.class_names[1:], start=1):
        per_frame = []
        for pred, (_, t) in zip(preds, samples, strict=True):
            p, g = pred == c, t == c
            if p.sum() + g.sum():
                per_frame.append(2 * (p & g).sum() / (p.sum() + g.sum()))
        assert res["per_class"][name]["n"] == len(per_frame)
        if per_frame:
            compared += 1
            assert res["per_class"][name]["dice"] == pytest.approx(np.mean(per_frame), abs=1e-4)
    assert compared >= 2
    assert res["frames"] == 4


def test_eval_command_writes_the_documented_json(tmp_path, tiny_set):
    from sonolive.app.cli import main

    out = tmp_path / "eval.json"
    rc = main(
        [
            "eval",
            "--model",
            "fast-lite",
            "--data",
            str(tiny_set),
            "--json",
            str(out),
            "--device",
            "cpu",
        ]
    )
    assert rc == 0
    data = json.loads(out.read_text())
    assert set(data["per_class"]) == {"liver", "kidney", "spleen", "bladder", "heart", "fluid"}
    for v in data["per_class"].values():
        assert set(v) >= {"dice", "iou", "n"}
