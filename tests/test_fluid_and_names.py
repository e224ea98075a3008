"""Free fluid drawn prominently in every mode, and organ names written on their own organ,
never over another class (both compositors)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from sonolive.inference.overlay import Overlay, OverlayStyle
from sonolive.inference.text import text_box

LIVER, KIDNEY, SPLEEN, BLADDER, HEART, FLUID = 1, 2, 3, 4, 5, 6
BEDSIDE = OverlayStyle(opacity=0.18, outline_px=2, center_label_only=True, label_scale=1.6)
OUTLINES = OverlayStyle(fill=False, outline_px=2)


def _speckle(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    g = cv2.GaussianBlur(rng.integers(40, 140, (h, w)).astype(np.uint8), (5, 5), 0)
    return cv2.cvtColor(g, cv2.COLOR_GRAY2RGB)


def _bladder_with_fluid(h: int = 540, w: int = 960) -> np.ndarray:
    lab = np.zeros((h, w), np.uint8)
    cv2.ellipse(lab, (w // 2, h // 2), (200, 150), 0, 0, 360, FLUID, -1)
    cv2.ellipse(lab, (w // 2, h // 2), (185, 135), 0, 0, 360, BLADDER, -1)
    return lab


@pytest.mark.parametrize(
    "style", [BEDSIDE, OUTLINES, OverlayStyle()], ids=["bedside", "outlines", "teaching"]
)
def test_free_fluid_is_filled_in_every_mode_on_both_compositors(lite_model, style):
    from sonolive.inference.gpu_compose import TorchCompositor

    card = lite_model.card
    rgb = _speckle(540, 960)
    labels = _bladder_with_fluid()
    style = OverlayStyle(**{**style.__dict__, "names": False})
    cpu = Overlay(card, style).compose(rgb, labels).image
    dev = TorchCompositor(card, style, "cpu", torch.float32).compose(
        torch.from_numpy(rgb), torch.from_numpy(labels), None, style
    )
    got = dev.image.numpy()
    assert (np.abs(got.astype(int) - cpu.astype(int)) <= 1).all(axis=2).mean() >= 0.999
    fluid = cv2.erode((labels == FLUID).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    cyan = np.array(card.classes[FLUID].color)
    # most of the fluid takes its colour: filled, not a thin outline, whatever the mode
    near = np.abs(cpu[fluid].astype(int) - cyan).max(axis=1) < 80
    assert near.mean() > 0.9, near.mean()
    # the bladder keeps the mode's own (light or no) fill
    inner = cv2.erode((labels == BLADDER).astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
    assert np.abs(cpu[inner].astype(int) - rgb[inner]).mean() < 60


def _changed_classes(style: OverlayStyle, labels: np.ndarray, card) -> tuple[list, set]:  # noqa: ANN001
    rgb = _speckle(*labels.shape)
    ov = Overlay(card, style)
    named = ov.compose(rgb, labels, None, 0.0)
    bare = Overlay(card, OverlayStyle(**{**style.__dict__, "names": False})).compose(
        rgb, labels, None, 0.0
    )
    changed = np.abs(named.image.astype(int) - bare.image.astype(int)).max(axis=2) > 30
    out = set()
    for a in named.labels:
        tw, th = text_box(labels.shape[0], a.name, a.scale)
        box = np.zeros_like(changed)
        box[max(0, a.y - th) : a.y + th, max(0, a.x - tw) : a.x + tw] = True
        out |= {(a.cls, int(c)) for c in np.unique(labels[changed & box])}
    return named.labels, out


def test_kidney_is_never_written_over_the_spleen(lite_model):
    """A small kidney under the sector's centre beside a large spleen: the name goes on the
    kidney where it fits, smaller if it must, and no letter touches the spleen."""
    h, w = 540, 960
    labels = np.zeros((h, w), np.uint8)
    cv2.ellipse(labels, (w // 2 - 160, h // 2), (260, 200), 0, 0, 360, SPLEEN, -1)
    cv2.ellipse(labels, (w // 2 + 60, h // 2 + 10), (110, 60), 20, 0, 360, KIDNEY, -1)
    for style in (BEDSIDE, OverlayStyle()):
        anchors, touched = _changed_classes(style, labels, lite_model.card)
        assert anchors, "a name is drawn"
        for a in anchors:
            assert labels[a.y, a.x] == a.cls, "the anchor lies on its organ"
        assert all(c in (0, cls) for cls, c in touched), touched
    anchors, _ = _changed_classes(BEDSIDE, labels, lite_model.card)
    assert [a.cls for a in anchors] == [KIDNEY]  # the organ under the centre


def test_free_fluid_is_never_written_over_the_bladder(lite_model):
    labels = _bladder_with_fluid()
    anchors, touched = _changed_classes(OverlayStyle(), labels, lite_model.card)
    assert {a.cls for a in anchors} <= {BLADDER, FLUID} and BLADDER in {a.cls for a in anchors}
    assert all(c in (0, cls) for cls, c in touched), touched


def test_ruq_view_always_has_a_bedside_name(lite_model):
    """The simulated scanner's RUQ view: the big name is there on every frame."""
    from sonolive.capture.frame import Frame
    from sonolive.capture.phantom import PhantomScanner
    from sonolive.inference.segmenter import Segmenter

    seg = Segmenter(lite_model, device="cpu")
    ov = Overlay(lite_model.card, BEDSIDE)
    sc = PhantomScanner(seed=4, size=384)
    for i in range(6):
        t = i * 0.7
        img, _ = sc.render(t, view="ruq")
        rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        s = seg.segment(Frame(rgb, t, i))
        comp = ov.compose(rgb, s.labels, None, t)
        assert len(comp.labels) == 1, f"no name at {t:.1f} s"
        a = comp.labels[0]
        assert s.labels[a.y, a.x] == a.cls
