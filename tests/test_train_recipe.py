"""The training recipe's options: a held-out test split, the losses, class weights, strong
augmentation and the CLI that passes them on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sonolive.models.augment import augment
from sonolive.models.datasets import DataError, split_pairs, split_three
from sonolive.models.losses import LOSSES, dice_ce_loss, make_loss


def _pairs(n: int) -> list[tuple[Path, Path]]:
    return [(Path(f"images/{i:04d}.png"), Path(f"masks/{i:04d}.png")) for i in range(n)]


@pytest.mark.parametrize("n", [10, 57, 204])
def test_the_test_split_never_overlaps_and_is_stable(n):
    pairs = _pairs(n)
    tr, va, te = split_three(pairs, 0.15, 0.15, seed=3)
    assert set(tr).isdisjoint(va) and set(tr).isdisjoint(te) and set(va).isdisjoint(te)
    assert sorted(tr + va + te) == sorted(pairs)
    assert len(te) == max(1, round(n * 0.15))
    # same seed, same split; another seed, another test set
    assert split_three(pairs, 0.15, 0.15, seed=3) == (tr, va, te)
    assert split_three(pairs, 0.15, 0.15, seed=4)[2] != te
    # the test images depend on the seed and test fraction only, not the validation share
    for val in (0.05, 0.2, 0.3):
        tr2, va2, te2 = split_three(pairs, val, 0.15, seed=3)
        assert te2 == te and set(te).isdisjoint(tr2 + va2)


def test_no_test_fraction_gives_the_old_split():
    pairs = _pairs(204)
    tr, va, te = split_three(pairs, 0.2, 0.0, seed=0)
    assert te == [] and (tr, va) == split_pairs(pairs, 0.2, 0)


def test_a_split_that_leaves_no_training_images_is_refused():
    with pytest.raises(DataError):
        split_three(_pairs(4), 0.5, 0.5, seed=0)


def _case(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    target = torch.zeros(2, 32, 32, dtype=torch.long)
    target[:, 4:12, 4:14] = 1
    target[:, 18:22, 20:30] = 2
    perfect = torch.nn.functional.one_hot(target, 3).permute(0, 3, 1, 2).float() * 20 - 10
    wrong = torch.randn(2, 3, 32, 32, generator=g)
    wrong[:, 0] += 4  # everything called background: both structures missed
    return target, perfect, wrong


@pytest.mark.parametrize("name", LOSSES)
def test_each_loss_is_lower_for_a_perfect_prediction(name):
    target, perfect, wrong = _case()
    fn = make_loss(name)
    good, bad = float(fn(perfect, target)), float(fn(wrong, target))
    assert np.isfinite(good) and np.isfinite(bad)
    assert good < 0.05 < bad


@pytest.mark.parametrize("name", LOSSES)
def test_a_class_weight_changes_the_loss_and_all_ones_does_not(name):
    target, _perfect, wrong = _case()
    plain = float(make_loss(name)(wrong, target))
    ones = float(make_loss(name, [1.0, 1.0, 1.0])(wrong, target))
    heavy = float(make_loss(name, [1.0, 1.0, 4.0])(wrong, target))
    assert ones == pytest.approx(plain, rel=1e-5)
    assert heavy != pytest.approx(plain, rel=1e-3)


def test_weighting_a_missed_class_raises_the_loss():
    target, perfect, _wrong = _case()
    half = perfect.clone()
    half[:, :, 18:22, 20:30] = torch.tensor([10.0, -10.0, -10.0])[
        None, :, None, None
    ]  # vessel missed
    for name in LOSSES:
        assert float(make_loss(name, [1, 1, 3])(half, target)) > float(
            make_loss(name)(half, target)
        )


def test_the_default_loss_is_the_original_dice_ce():
    target, _perfect, wrong = _case(1)
    ce = torch.nn.functional.cross_entropy(wrong, target)
    probs = wrong.softmax(1)
    onehot = torch.nn.functional.one_hot(target, 3).permute(0, 3, 1, 2).float()
    inter, denom = (probs * onehot).sum((0, 2, 3)), (probs + onehot).sum((0, 2, 3))
    dice = (2 * inter + 1) / (denom + 1)
    expected = ce + 1 - dice[1:].mean()
    assert float(dice_ce_loss(wrong, target)) == pytest.approx(float(expected), rel=1e-6)


@pytest.mark.parametrize("name", LOSSES)
def test_the_per_image_overlap_counts_a_small_miss_as_much_as_a_large_hit(name):
    """Image 0: a large vessel found; image 1: a small vessel missed. Pooled over the batch
    the large one hides the miss; per image (eval's mean per-image Dice) it costs half."""
    target = torch.zeros(2, 48, 48, dtype=torch.long)
    target[0, 8:40, 8:40] = 2
    target[1, 20:23, 20:23] = 2
    logits = torch.nn.functional.one_hot(target, 3).permute(0, 3, 1, 2).float() * 20 - 10
    logits[1, :, 20:23, 20:23] = torch.tensor([10.0, -10.0, -10.0])[:, None, None]
    pooled = float(make_loss(name)(logits, target))
    per_image = float(make_loss(name, per_image=True)(logits, target))
    assert per_image > pooled + 0.3
    # nothing missed: both near zero, and with one image both poolings agree
    perfect = torch.nn.functional.one_hot(target, 3).permute(0, 3, 1, 2).float() * 20 - 10
    assert float(make_loss(name, per_image=True)(perfect, target)) < 0.05
    one = (logits[1:], target[1:])
    assert float(make_loss(name, per_image=True)(*one)) == pytest.approx(
        float(make_loss(name)(*one)), rel=1e-6
    )
    # a class weight still applies per image
    heavy = float(make_loss(name, [1.0, 1.0, 3.0], per_image=True)(logits, target))
    assert heavy != pytest.approx(per_image, rel=1e-3)


def test_an_unknown_loss_or_a_wrong_weight_count_is_refused():
    target, perfect, _ = _case()
    with pytest.raises(ValueError):
        make_loss("hinge")
    with pytest.raises(ValueError):
        make_loss("dice-focal", [1.0, 2.0])(perfect, target)


def test_strong_augmentation_keeps_shape_type_and_labels():
    rng = np.random.default_rng(0)
    img = np.full((96, 96), 120, np.uint8)
    mask = np.zeros((96, 96), np.uint8)
    mask[30:50, 30:60] = 1
    mask[60:70, 20:40] = 2
    changed = 0
    for _ in range(20):
        x, m = augment(img, mask, rng, flip=True, strong=True)
        assert x.shape == img.shape and x.dtype == np.uint8
        assert m.shape == mask.shape and set(np.unique(m)) <= {0, 1, 2}
        changed += not np.array_equal(x, img)
    assert changed == 20
    # the basic recipe is unchanged by the new option's default
    a = augment(img, mask, np.random.default_rng(5), flip=True)
    b = augment(img, mask, np.random.default_rng(5), flip=True, strong=False)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_cli_trains_with_a_test_split_and_eval_scores_exactly_it(tmp_path, monkeypatch):
    import cv2
    from sonolive.app.cli import main

    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (data / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(20):
        m = np.zeros((48, 48), np.uint8)
        y, x = rng.integers(4, 30, 2)
        m[y : y + 12, x : x + 12] = 1 + i % 2
        img = (rng.integers(0, 60, (48, 48)) + 150 * (m > 0)).astype(np.uint8)
        cv2.imwrite(str(data / "images" / f"{i:04d}.png"), img)
        cv2.imwrite(str(data / "masks" / f"{i:04d}.png"), m)
    out = tmp_path / "run"
    split = ["--split-seed", "2", "--val-fraction", "0.2", "--test-fraction", "0.2"]
    rc = main(
        ["train", "--data", str(data), "--out", str(out), "--classes", "background,a,b"]
        + ["--input-size", "32", "--width", "4", "--depth", "2", "--steps", "4"]
        + ["--batch-size", "4", "--loss", "tversky-focal", "--class-weight", "b=2"]
        + ["--aug", "strong", "--overlap", "image", "--quiet", "--device", "cpu"]
        + split
    )
    assert rc == 0
    card = json.loads((out / "best" / "model.json").read_text())
    _tr, va, te = split_three(
        sorted(
            zip(
                sorted((data / "images").glob("*.png")),
                sorted((data / "masks").glob("*.png")),
                strict=True,
            )
        ),
        0.2,
        0.2,
        2,
    )
    text = card["training_data"]
    assert "12 training / 4 validation / 4 test" in text and "chosen on the validation" in text
    assert all(p[0].stem in text.split("Test:")[1] for p in te)
    assert all(p[0].stem in text.split("Validation:")[1].split("Test:")[0] for p in va)
    res = tmp_path / "test.json"
    rc = main(
        ["eval", "--model", str(out / "best"), "--data", str(data), "--split", "test"]
        + split
        + ["--device", "cpu", "--json", str(res), "--no-progress"]
    )
    assert rc == 0
    got = json.loads(res.read_text())
    assert got["frames"] == 4 and "(test, 4 images)" in got["data"]
    assert main(["train", "--data", str(data), "--out", str(out), "--class-weight", "b"]) == 2
