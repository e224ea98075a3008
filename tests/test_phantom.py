"""The simulated FAST scanner: determinism, anatomy per view, mask/image agreement, pacing, export."""

from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np
import pytest
from sonolive.app.commands.phantom import register, run
from sonolive.capture import phantom
from sonolive.capture.frame import Frame
from sonolive.capture.phantom import (
    PHANTOM_CLASSES,
    PHANTOM_COLORS,
    SEGMENT_S,
    VIEW_CLASSES,
    VIEWS,
    PhantomScanner,
    PhantomSource,
    colorize_mask,
)
from sonolive.capture.phantom_export import export_phantom
from sonolive.capture.phantom_physics import sector_geometry

FLUID = PHANTOM_CLASSES.index("fluid")
BLADDER = PHANTOM_CLASSES.index("bladder")
TISSUE = [PHANTOM_CLASSES.index(c) for c in ("liver", "spleen")]


@pytest.fixture(scope="module")
def scanner() -> PhantomScanner:
    return PhantomScanner(seed=3, size=256)


def test_contract_constants():
    assert PHANTOM_CLASSES == (
        "background",
        "liver",
        "kidney",
        "spleen",
        "bladder",
        "heart",
        "fluid",
    )
    assert VIEWS == ("ruq", "luq", "suprapubic", "subxiphoid")
    assert set(PHANTOM_COLORS) == set(PHANTOM_CLASSES)
    assert PHANTOM_COLORS["background"] == (0, 0, 0)
    assert len(set(PHANTOM_COLORS.values())) == len(PHANTOM_CLASSES)


def test_same_seed_same_frames_different_seed_differs():
    a = PhantomScanner(seed=11, size=192)
    b = PhantomScanner(seed=11, size=192)
    c = PhantomScanner(seed=12, size=192)
    for t in (0.0, 2.7, 9.1):
        ia, ma = a.render(t)
        ib, mb = b.render(t)
        ic, mc = c.render(t)
        assert ia.dtype == np.uint8 and ma.dtype == np.uint8
        assert ia.shape == ma.shape == (192, 192)
        np.testing.assert_array_equal(ia, ib)
        np.testing.assert_array_equal(ma, mb)
        assert not np.array_equal(ia, ic)
    # rendering order does not matter (no hidden state between frames)
    np.testing.assert_array_equal(a.render(0.0)[0], PhantomScanner(seed=11, size=192).render(0)[0])
    sa = a.sample(np.random.default_rng(5))
    sb = b.sample(np.random.default_rng(5))
    np.testing.assert_array_equal(sa[0], sb[0])
    np.testing.assert_array_equal(sa[1], sb[1])
    assert not np.array_equal(sa[0], a.sample(np.random.default_rng(6))[0])


@pytest.mark.parametrize("view", VIEWS)
def test_each_view_shows_its_classes(scanner, view):
    for t, fluid in ((0.4, True), (3.3, False), (6.1, True)):
        img, mask = scanner.render(t, view=view, fluid=fluid)
        assert scanner.current_view == view
        present = set(np.unique(mask).tolist())
        for c in VIEW_CLASSES[view]:
            assert (mask == c).sum() > 200, (view, PHANTOM_CLASSES[c], t)
        assert (FLUID in present) == fluid, (view, t, present)
        assert present <= set(range(len(PHANTOM_CLASSES)))
        # nothing from the other views leaks in
        allowed = {0, FLUID, *VIEW_CLASSES[view]}
        assert present <= allowed, (view, present)


def test_outside_sector_is_black_in_image_and_mask(scanner):
    for t in (0.2, 8.5, 17.0, 25.3):
        img, mask = scanner.render(t)
        seg = scanner.segment_info(int(t // SEGMENT_S))
        inside = sector_geometry(256, seg["depth"], seg["opening"]).inside
        assert inside.mean() > 0.3
        assert not img[~inside].any()
        assert not mask[~inside].any()
        assert img[inside].mean() > 20  # the sector itself is not empty
        # convex fan, apex above the top edge: corners and the top centre (behind the curved
        # probe face) are outside, the middle of the picture is inside
        assert not inside[0, 0] and not inside[0, -1] and not inside[0, 128]
        assert not inside[-1, 0] and not inside[-1, -1] and inside[128, 128]


def _ring_outside(mask: np.ndarray, cls: int, r0: int, r1: int) -> np.ndarray:
    m = (mask == cls).astype(np.uint8)
    k0 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r0 + 1, 2 * r0 + 1))
    k1 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r1 + 1, 2 * r1 + 1))
    return (cv2.dilate(m, k1) > 0) & (cv2.dilate(m, k0) == 0)


def test_fluid_is_darker_than_organ_tissue_in_every_positive_frame():
    sc = PhantomScanner(seed=7, size=256)
    rng = np.random.default_rng(0)
    frames = [sc.render(t, view=v, fluid=True) for v in VIEWS for t in (1.0, 5.0)]
    frames += [sc.sample(rng) for _ in range(24)]
    checked = 0
    for img, mask in frames:
        fl = mask == FLUID
        if fl.sum() < 30:
            continue
        tissue = np.isin(mask, TISSUE)
        if tissue.sum() < 200:
            tissue = (mask > 0) & (mask != FLUID) & (mask != BLADDER)
        if tissue.sum() < 200:  # suprapubic: compare with the tissue around the fluid
            tissue = _ring_outside(mask, FLUID, 6, 20) & (mask == 0) & (img > 0)
        t_mean = img[tissue].mean()
        # whole mask (includes partial-volume boundary pixels) and its interior
        assert img[fl].mean() < 0.75 * t_mean, (img[fl].mean(), t_mean)
        core = cv2.erode(fl.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        if core.sum() >= 20:
            assert img[core].mean() < 0.6 * t_mean, (img[core].mean(), t_mean)
        checked += 1
    assert checked >= 10


def test_bladder_is_darker_than_surrounding_tissue():
    sc = PhantomScanner(seed=2, size=256)
    for t, fluid in ((0.5, False), (4.0, True), (7.5, False)):
        img, mask = sc.render(t, view="suprapubic", fluid=fluid)
        bl = cv2.erode((mask == BLADDER).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        ring = _ring_outside(mask, BLADDER, 6, 24) & (mask == 0) & (img > 0)
        assert bl.sum() > 500 and ring.sum() > 500
        assert img[bl].mean() < 0.3 * img[ring].mean()


def test_kidney_sinus_brighter_than_cortex_and_motion_over_time():
    sc = PhantomScanner(seed=4, size=256)
    a, ma = sc.render(1.0, view="ruq")
    b, mb = sc.render(2.0, view="ruq")
    assert not np.array_equal(ma, mb)  # breathing / probe sweep move the anatomy
    assert not np.array_equal(a, b)
    # the script visits different windows over time
    seen = set()
    for k in range(4):
        sc.render(k * SEGMENT_S + 1.0)
        seen.add(sc.current_view)
    assert seen == set(VIEWS)


def test_gain_brightens():
    dark = PhantomScanner(seed=1, size=128, gain_db=-6).render(1.0)[0]
    bright = PhantomScanner(seed=1, size=128, gain_db=6).render(1.0)[0]
    inside = bright > 0
    assert bright[inside].mean() > dark[inside].mean() + 10


def test_colorize_mask():
    m = np.array([[0, 1], [5, 6]], np.uint8)
    rgb = colorize_mask(m)
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[1, 1]) == PHANTOM_COLORS["fluid"]
    assert tuple(rgb[0, 0]) == (0, 0, 0)


class _Clock:
    """The clock a paced source sees: ``sleep`` advances it at once and is recorded."""

    perf_counter = staticmethod(time.perf_counter)

    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def test_source_frames_and_pacing(monkeypatch):
    src = PhantomSource(seed=1, size=128, fps=30.0, paced=True, view="ruq", fluid=True)
    assert src.simulated and src.describe() == "Simulated scanner (FAST)"
    with src:
        t0 = time.monotonic()
        frames = [src.read() for _ in range(10)]
        elapsed = time.monotonic() - t0
        assert elapsed >= 0.25, elapsed
        assert elapsed < 3.0
        f = frames[-1]
        assert isinstance(f, Frame)
        assert [fr.index for fr in frames] == list(range(10))
        assert f.pixels.shape == (128, 128, 3)
        assert np.array_equal(f.pixels[..., 0], f.pixels[..., 2])
        assert f.truth is not None and f.truth.shape == (128, 128)
        assert f.timestamp == pytest.approx(9 / 30.0)
        assert f.source == "Simulated scanner (FAST)"
        assert src.current_view == "ruq"
        # a late consumer is not answered with a burst of catch-up frames: from here on the
        # source sees a clock the test moves, so the consumer is 0.3 s late (9 frame periods)
        clock = _Clock(time.monotonic())
        monkeypatch.setattr(phantom, "time", clock)
        clock.now += 0.3
        assert src.read().index == 10
        assert clock.slept == []  # the late read is answered at once ...
        for _ in range(3):
            src.read()
        # ... and the schedule is re-anchored: each next frame waits its full period
        assert clock.slept == pytest.approx([1 / 30.0] * 3)


def test_unpaced_source_matches_scanner():
    src = PhantomSource(seed=8, size=96, fps=10.0, paced=False)
    src.open()
    t0 = time.monotonic()
    frames = [src.read() for _ in range(3)]
    assert time.monotonic() - t0 < 2.0
    src.close()
    img, mask = PhantomScanner(seed=8, size=96).render(2 / 10.0)
    np.testing.assert_array_equal(frames[2].pixels[..., 1], img)
    np.testing.assert_array_equal(frames[2].truth, mask)


def test_export_writes_images_masks_and_clip(tmp_path):
    import av

    out = export_phantom(tmp_path / "ds", seed=5, frames=6, size=64, fps=30.0)
    images = sorted((out / "images").glob("*.png"))
    masks = sorted((out / "masks").glob("*.png"))
    assert len(images) == len(masks) == 6
    assert [p.name for p in images] == [p.name for p in masks]
    assert json.loads((out / "classes.json").read_text()) == list(PHANTOM_CLASSES)
    ref_img, ref_mask = PhantomScanner(seed=5, size=64).render(3 / 30.0)
    np.testing.assert_array_equal(cv2.imread(str(images[3]), cv2.IMREAD_UNCHANGED), ref_img)
    np.testing.assert_array_equal(cv2.imread(str(masks[3]), cv2.IMREAD_UNCHANGED), ref_mask)
    with av.open(str(out / "clip.mp4")) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        decoded = [f.to_ndarray(format="gray") for f in c.decode(video=0)]
    assert len(decoded) == 6
    assert decoded[0].shape == (64, 64)
    assert np.abs(decoded[3].astype(int) - ref_img).mean() < 12


def test_cli_export_random_frames(tmp_path):
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["phantom", "export", "--out", str(tmp_path / "r"), "--seed", "2", "--frames", "4"]
        + ["--size", "64", "--random"]
    )
    assert args.func is run
    assert run(args) == 0
    assert len(list((tmp_path / "r" / "images").glob("*.png"))) == 4
    assert (tmp_path / "r" / "clip.mp4").stat().st_size > 0
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert meta["mode"] == "random" and len(meta["views"]) == 4


def test_phantom_export_command_line(tmp_path):
    from sonolive.app.cli import main

    rc = main(
        [
            "phantom",
            "export",
            "--out",
            str(tmp_path),
            "--seed",
            "4",
            "--frames",
            "6",
            "--size",
            "96",
        ]
    )
    assert rc == 0
    assert len(list((tmp_path / "images").glob("*.png"))) == 6
    assert len(list((tmp_path / "masks").glob("*.png"))) == 6


def test_one_seed_gives_the_same_frames_in_export_and_in_training(tmp_path):
    """``phantom export --random --seed S`` writes exactly the frames training, evaluation
    and calibration draw for seed S (one sampler, one seeding rule)."""
    from sonolive.capture.phantom import phantom_samples

    out = export_phantom(tmp_path / "x", seed=7, frames=3, size=96, clip=False, random_frames=True)
    drawn = list(phantom_samples(7, 3, 96))
    for n, (img, mask) in enumerate(drawn):
        written = cv2.imread(str(out / "images" / f"{n:05d}.png"), cv2.IMREAD_GRAYSCALE)
        written_mask = cv2.imread(str(out / "masks" / f"{n:05d}.png"), cv2.IMREAD_GRAYSCALE)
        assert np.array_equal(written, img) and np.array_equal(written_mask, mask)
    other = next(phantom_samples(8, 1, 96))[0]
    assert not np.array_equal(other, drawn[0][0])  # another seed, other frames
