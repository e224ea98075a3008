"""Anatomy of the simulated FAST views: organ shapes in physical cm, painted onto a sample grid.

Each view is a small scene of analytic shapes (bent, rotated ellipses / superellipses) in
probe-centred world coordinates (cm; ``x`` lateral, image right positive; ``z`` depth below
the skin). :func:`make_params` draws one patient/probe-window variant of a view from a
generator; :func:`paint_view` evaluates the shapes at arbitrary sample positions (the polar
beam grid of :mod:`.phantom_physics`) and returns a tissue-type grid (which also defines the
class mask through :data:`TISSUE_CLASS`) plus extra specular amplitude (capsules, walls,
diaphragm, pericardium).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .phantom_physics import (
    N_TISSUES,
    T_BACKGROUND,
    T_BLOOD,
    T_BONE,
    T_CORTEX,
    T_FASCIA,
    T_FAT,
    T_FLUID,
    T_GAS,
    T_LIVER,
    T_LUNG,
    T_MEDULLA,
    T_MUSCLE,
    T_MYOCARDIUM,
    T_PELVIC,
    T_SINUS,
    T_SPLEEN,
    T_URINE,
    T_VESSEL,
)

VIEWS = ("ruq", "luq", "suprapubic", "subxiphoid")

#: free fluid thinner than this (cm, local width) is not drawn: it would not be resolvable
MIN_FLUID_CM = 0.45

# class indices (positions in PHANTOM_CLASSES)
C_BACKGROUND, C_LIVER, C_KIDNEY, C_SPLEEN, C_BLADDER, C_HEART, C_FLUID = range(7)

#: tissue type -> segmentation class index
TISSUE_CLASS = np.zeros(N_TISSUES, np.uint8)
TISSUE_CLASS[[T_LIVER, T_VESSEL]] = C_LIVER
TISSUE_CLASS[[T_CORTEX, T_SINUS, T_MEDULLA]] = C_KIDNEY
TISSUE_CLASS[T_SPLEEN] = C_SPLEEN
TISSUE_CLASS[T_URINE] = C_BLADDER
TISSUE_CLASS[[T_MYOCARDIUM, T_BLOOD]] = C_HEART
TISSUE_CLASS[T_FLUID] = C_FLUID

#: classes each view always shows (fluid only when positive)
VIEW_CLASSES = {
    "ruq": (C_LIVER, C_KIDNEY),
    "luq": (C_SPLEEN, C_KIDNEY),
    "suprapubic": (C_BLADDER,),
    "subxiphoid": (C_LIVER, C_HEART),
}

#: default imaging depth per view (cm) and breathing direction (cm per unit breath)
VIEW_DEPTH = {"ruq": 16.0, "luq": 15.0, "suprapubic": 13.0, "subxiphoid": 16.5}
VIEW_BREATH = {
    "ruq": (1.0, 0.15),
    "luq": (0.9, 0.2),
    "suprapubic": (0.05, 0.05),
    "subxiphoid": (0.25, 0.6),
}


@dataclass
class Ellipse:
    """A bent, rotated ellipse: ``((u/a)^2 + (v/b)^2) < 1`` with ``v -= bend*u^2``.

    ``square`` in [0, 1] blends towards a superellipse of exponent 4 (a rounded box).
    """

    cx: float
    cz: float
    a: float
    b: float
    ang: float = 0.0  # degrees, rotation of the long (u) axis from image-right towards depth
    bend: float = 0.0
    square: float = 0.0

    def local(self, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx = x - np.float32(self.cx)
        dz = z - np.float32(self.cz)
        if self.ang:
            c = np.float32(math.cos(math.radians(self.ang)))
            s = np.float32(math.sin(math.radians(self.ang)))
            u = dx * c + dz * s
            v = dz * c - dx * s
        else:
            u, v = dx, dz
        if self.bend:
            v = v - np.float32(self.bend) * u * u
        return u, v

    def q(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Implicit value (< 1 inside)."""
        u, v = self.local(x, z)
        ua = u * np.float32(1.0 / self.a)
        vb = v * np.float32(1.0 / self.b)
        ua *= ua
        vb *= vb
        q = ua + vb
        if self.square:
            s = np.float32(self.square)
            q = q * (1 - s) + (ua * ua + vb * vb) * s
        return q

    def dist(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Approximate signed distance in cm (negative inside), first order in the gradient."""
        u, v = self.local(x, z)
        ua = u * np.float32(1.0 / self.a)
        vb = v * np.float32(1.0 / self.b)
        g = (ua * np.float32(1.0 / self.a)) ** 2 + (vb * np.float32(1.0 / self.b)) ** 2
        q = ua * ua + vb * vb
        if self.square:
            s = np.float32(self.square)
            q4 = ua**4 + vb**4
            q = q * (1 - s) + q4 * s
        q -= 1.0
        np.sqrt(g, out=g)
        g *= 2.0
        g += np.float32(1e-3)
        q /= g
        return q

    def grown(self, by: float, dx: float = 0.0, dz: float = 0.0) -> Ellipse:
        return Ellipse(
            self.cx + dx, self.cz + dz, self.a + by, self.b + by, self.ang, self.bend, self.square
        )

    def moved(self, dx: float, dz: float) -> Ellipse:
        return self.grown(0.0, dx, dz)

    def scaled(self, k: float) -> Ellipse:
        return Ellipse(self.cx, self.cz, self.a * k, self.b * k, self.ang, self.bend, self.square)

    def to_world(self, parent: Ellipse, u: float, v: float) -> Ellipse:
        """An ellipse placed at (u, v) in ``parent``'s local frame, sharing its rotation."""
        c = math.cos(math.radians(parent.ang))
        s = math.sin(math.radians(parent.ang))
        return Ellipse(
            parent.cx + u * c - v * s,
            parent.cz + u * s + v * c,
            self.a,
            self.b,
            parent.ang + self.ang,
            self.bend,
            self.square,
        )


@dataclass
class ViewParams:
    """One drawn variant of a view's anatomy (organ shapes before breathing / heartbeat)."""

    view: str
    organs: dict[str, Ellipse]
    extras: dict[str, list[Ellipse]] = field(default_factory=dict)
    fluid_cm: float = 0.6  # free-fluid thickness when the view is fluid-positive
    wall: tuple[float, float] = (1.2, 1.0)  # subcutaneous fat and muscle thickness (cm)


def _j(rng: np.random.Generator, scale: float) -> float:
    return float(rng.uniform(-scale, scale))


def make_params(view: str, rng: np.random.Generator) -> ViewParams:
    """Draw patient variation (organ size/position, ribs, gas, wall thickness) for a view."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; expected one of {VIEWS}")
    wall = (float(rng.uniform(0.6, 2.0)), float(rng.uniform(0.6, 1.3)))
    top = 0.25 + wall[0] + wall[1]
    fluid_cm = float(rng.uniform(0.45, 1.1))
    organs: dict[str, Ellipse] = {}
    extras: dict[str, list[Ellipse]] = {"ribs": [], "gas": [], "vessels": [], "pyramids": []}
    k = float(rng.uniform(0.88, 1.12))  # patient size factor

    if view in ("ruq", "luq"):
        kid = Ellipse(
            3.8 + _j(rng, 1.2),
            top + 7.6 + _j(rng, 1.2),
            4.9 * k,
            2.3 * k,
            20 + _j(rng, 10),
            bend=0.035,
        )
        if view == "luq":
            kid = kid.moved(-0.3, 0.8)
        organs["kidney"] = kid
        organs["sinus"] = Ellipse(0, 0, kid.a * 0.62, kid.b * 0.36, 0, bend=0.05).to_world(
            kid, 0, 0.1
        )
        for uu in (-0.55, -0.18, 0.2, 0.55):
            for vv in (-0.55, 0.55):
                if rng.random() < 0.8:
                    pyr = Ellipse(0, 0, 0.16 * kid.a, 0.2 * kid.b, _j(rng, 20))
                    pyr = pyr.to_world(kid, uu * kid.a, vv * kid.b * (1 - abs(uu) * 0.5))
                    extras["pyramids"].append(pyr)
        n_ribs = int(rng.integers(0, 3)) + (1 if view == "luq" else 0)
        for _ in range(n_ribs):
            side = rng.choice([-1.0, 1.0])
            rx = float(side * rng.uniform(4.5, 8.5))
            extras["ribs"].append(Ellipse(rx, top - 0.2 + _j(rng, 0.3), 0.95, 0.55, _j(rng, 10)))
        if rng.random() < 0.6:
            gx = float(rng.uniform(6.0, 9.0))
            gz = top + float(rng.uniform(2.0, 5.0))
            extras["gas"].append(Ellipse(gx, gz, float(rng.uniform(0.8, 1.6)), 0.35, _j(rng, 15)))

    if view == "ruq":
        liver = Ellipse(
            -2.5 + _j(rng, 1.0),
            top + 4.6 + _j(rng, 0.8),
            10.5 * k,
            5.8 * k,
            -12 + _j(rng, 6),
            bend=0.012,
        )
        organs["liver"] = liver
        for _ in range(int(rng.integers(2, 6))):
            uu = float(rng.uniform(-0.65, 0.35)) * liver.a
            vv = float(rng.uniform(-0.45, 0.5)) * liver.b
            r = float(rng.uniform(0.2, 0.55))
            extras["vessels"].append(
                Ellipse(
                    0, 0, r * float(rng.uniform(1.2, 4.0)), r, _j(rng, 70), bend=_j(rng, 0.15)
                ).to_world(liver, uu, vv)
            )
    elif view == "luq":
        organs["spleen"] = Ellipse(
            -2.8 + _j(rng, 1.0),
            top + 4.4 + _j(rng, 0.8),
            5.6 * k,
            2.7 * k,
            -25 + _j(rng, 8),
            bend=-0.035,
        )
    elif view == "suprapubic":
        bl = Ellipse(
            _j(rng, 1.0),
            top + 3.9 + _j(rng, 0.6),
            4.4 * k * float(rng.uniform(0.8, 1.15)),
            3.1 * k * float(rng.uniform(0.75, 1.15)),
            _j(rng, 6),
            bend=-0.015,
            square=float(rng.uniform(0.1, 0.45)),
        )
        organs["bladder"] = bl
        organs["uterus"] = Ellipse(
            bl.cx + _j(rng, 0.8), bl.cz + bl.b + 2.0, 2.9, 1.8, _j(rng, 12), square=0.3
        )
        organs["rectum"] = Ellipse(bl.cx + _j(rng, 1.0), bl.cz + bl.b + 4.9, 1.8, 1.2)
        for side in (-1, 1):
            extras["ribs"].append(  # iliac bones: deep lateral, bright with shadows
                Ellipse(side * (8.0 + _j(rng, 0.8)), top + 7.5 + _j(rng, 1.0), 1.8, 0.9, side * 35)
            )
            if rng.random() < 0.5:
                extras["gas"].append(
                    Ellipse(side * float(rng.uniform(5.0, 7.5)), top + 1.2, 1.1, 0.35, _j(rng, 15))
                )
    elif view == "subxiphoid":
        organs["liver"] = Ellipse(
            -1.5 + _j(rng, 1.0),
            top + 1.5 + _j(rng, 0.5),
            9.0 * k,
            3.4 * k,
            6 + _j(rng, 5),
        )
        heart = Ellipse(
            1.2 + _j(rng, 1.0),
            top + 8.4 + _j(rng, 0.8),
            5.3 * k,
            3.9 * k,
            -22 + _j(rng, 8),
        )
        organs["heart"] = heart
        if rng.random() < 0.4:
            extras["gas"].append(Ellipse(float(rng.uniform(6.0, 8.0)), top + 1.0, 1.2, 0.35))
    return ViewParams(view=view, organs=organs, extras=extras, fluid_cm=fluid_cm, wall=wall)


# chambers of the four-chamber subxiphoid heart, in the heart's local frame (fractions of a, b):
# (u, v, a, b, phase sign) -- right heart (v < 0) faces the liver, atria on the left
_CHAMBERS = (
    (-0.47, -0.33, 0.36, 0.36, -1.0),  # right atrium
    (0.2, -0.4, 0.55, 0.3, 1.0),  # right ventricle (thin free wall towards the liver)
    (-0.47, 0.37, 0.36, 0.36, -1.0),  # left atrium
    (0.17, 0.36, 0.52, 0.36, 1.0),  # left ventricle
)


class _Painter:
    """Accumulates tissue types (painter's order) and specular boost on one sample grid."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.tissue = np.zeros(shape, np.uint8)
        self.boost = np.zeros(shape, np.float32)

    def fill(self, where: np.ndarray, tissue: int) -> None:
        self.tissue[where] = tissue

    def ring(self, d: np.ndarray, width: float, strength: float, where=None) -> None:
        """Add a bright band of half-width ``width`` (cm) around ``d == 0``."""
        t = d * np.float32(1.0 / width)
        t *= t
        np.subtract(1.0, t, out=t)
        np.maximum(t, 0.0, out=t)
        t *= np.float32(strength)
        if where is not None:
            t *= where
        self.boost += t


def paint_view(
    p: ViewParams,
    fluid: bool,
    x: np.ndarray,
    z: np.ndarray,
    row_depth: np.ndarray,
    breath: float,
    heart_phase: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate the scene at world positions (x, z) -> (tissue uint8, specular boost float32).

    ``row_depth`` (cm below the probe face per grid row) places the body wall, which follows
    the probe. ``breath`` in [-1, 1] moves the organs along the view's breathing direction;
    ``heart_phase`` in radians drives the chamber sizes.
    """
    P = _Painter(x.shape)
    bx, bz = VIEW_BREATH[p.view]
    o = p.organs
    g = p.fluid_cm

    def shift(e: Ellipse, w: float) -> Ellipse:
        return e.moved(bx * breath * w, bz * breath * w)

    if p.view in ("ruq", "luq"):
        kid = shift(o["kidney"], 0.8)
        d_kid = kid.dist(x, z)
        if p.view == "ruq":
            liver = shift(o["liver"], 1.0)
            d_liv = liver.dist(x, z)
            u_l, v_l = liver.local(x, z)
            cranial = u_l < np.float32(-0.3 * liver.a)
            # lung above the diaphragm (cranial side, beyond the liver)
            P.fill(cranial & (d_liv > 0.35), T_LUNG)
            gap = g if fluid else 0.15
            # Morison's pouch: hepatorenal gap, wider towards the caudal tip of the liver
            pouch = kid.grown(gap, dx=0.15 * gap, dz=-0.5 * gap).dist(x, z)
            in_liv = d_liv < 0
            # the liver fills slivers of the gap too thin to show fluid (< MIN_FLUID_CM)
            liver_here = in_liv & ((pouch >= 0) | ((d_kid - pouch) < MIN_FLUID_CM))
            P.fill(liver_here, T_LIVER)
            for ves in p.extras["vessels"]:
                vd = shift(ves, 1.0).dist(x, z)
                P.fill((vd < 0) & liver_here, T_VESSEL)
                P.ring(vd, 0.12, 1.6, where=in_liv)
            if fluid:
                P.fill(in_liv & ~liver_here & (d_kid >= 0), T_FLUID)
            P.ring(d_liv + 0.1, 0.12, 1.5)
            P.ring(d_liv, 0.22, 5.0, where=cranial)  # diaphragm
        else:
            spl = shift(o["spleen"], 1.0)
            d_spl = spl.dist(x, z)
            u_s, v_s = spl.local(x, z)
            cranial = (u_s < np.float32(-0.1 * spl.a)) | (v_s > np.float32(0.3 * spl.b))
            rim = g if fluid else 0.0
            outer = spl.grown(rim + 0.05, dx=-0.4 * rim, dz=0.5 * rim).dist(x, z)
            P.fill(cranial & (outer > 0.35) & (x < spl.cx + 1.0), T_LUNG)
            if fluid:
                P.fill((outer < 0) & (d_spl >= 0) & ((d_spl - outer) >= MIN_FLUID_CM), T_FLUID)
            P.fill(d_spl < 0, T_SPLEEN)
            P.ring(d_spl + 0.1, 0.12, 1.6)
            P.ring(outer - 0.25, 0.2, 4.0, where=cranial & (x < spl.cx + 1.0))  # diaphragm
        # kidney: cortex, pyramids, sinus fat, capsule
        P.fill(d_kid < 0, T_CORTEX)
        for pyr in p.extras["pyramids"]:
            P.fill(shift(pyr, 0.8).q(x, z) < 1, T_MEDULLA)
        P.fill(shift(o["sinus"], 0.8).q(x, z) < 1, T_SINUS)
        P.ring(d_kid + 0.1, 0.13, 2.2)
    elif p.view == "suprapubic":
        bl = shift(o["bladder"], 1.0)
        d_bl = bl.dist(x, z)
        ut = shift(o["uterus"], 1.0)
        d_ut = ut.dist(x, z)
        P.fill(shift(o["rectum"], 1.0).q(x, z) < 1, T_PELVIC)
        P.fill(d_ut < 0, T_PELVIC)
        if fluid:
            pouch = Ellipse(
                bl.cx, bl.cz + bl.b * 0.8, bl.a * 0.95, bl.b * 0.45 + g * 1.3, bl.ang
            ).dist(x, z)
            thick = (d_bl - pouch) >= MIN_FLUID_CM + 0.12
            P.fill((pouch < 0) & (d_bl >= 0.12) & (d_ut >= 0) & thick, T_FLUID)
        P.fill(d_bl < 0, T_URINE)
        P.ring(d_bl - 0.08, 0.16, 2.8)  # bladder wall
        P.ring(d_ut, 0.1, 0.8)
    elif p.view == "subxiphoid":
        heart = shift(o["heart"], 0.6)
        d_h = heart.dist(x, z)
        ring_w = g if fluid else 0.0
        outer = heart.grown(ring_w + 0.08, dz=0.35 * ring_w).dist(x, z)
        liver = shift(o["liver"], 1.0)
        d_liv = liver.dist(x, z)
        liver_ok = (d_liv < 0) & (outer > 0.3)
        P.fill(liver_ok, T_LIVER)
        P.ring(d_liv + 0.1, 0.12, 1.4)
        P.ring(outer - 0.22, 0.1, 3.5, where=(d_liv < 0.6))  # diaphragm over the heart
        if fluid:
            P.fill((outer < 0) & (d_h >= 0) & ((d_h - outer) >= MIN_FLUID_CM), T_FLUID)
        in_h = d_h < 0
        P.fill(in_h, T_MYOCARDIUM)
        beat = math.sin(heart_phase)
        for cu, cv, ca, cb, sgn in _CHAMBERS:
            k = 1.0 + 0.09 * sgn * beat
            ch = Ellipse(0, 0, ca * heart.a * k, cb * heart.b * k, bend=-0.04 * cv).to_world(
                heart, cu * heart.a, cv * heart.b
            )
            dc = ch.dist(x, z)
            P.fill((dc < 0) & in_h, T_BLOOD)
            P.ring(dc, 0.1, 0.7, where=in_h)
        P.ring(outer - 0.1, 0.1, 3.0)  # pericardium (outside the effusion)
    # bowel gas and bones: bright surfaces that shadow (attenuation in the physics)
    for gas in p.extras["gas"]:
        gq = shift(gas, 0.3).q(x, z)
        P.fill((gq < 1) & (P.tissue == T_BACKGROUND), T_GAS)  # bowel gas never inside organs
    for rib in p.extras["ribs"]:
        P.fill(rib.q(x, z) < 1, T_BONE)
    # body wall follows the probe face: skin, fat (with septa), fascia, muscle, peritoneum
    fat, mus = p.wall
    layers = (
        (0.0, 0.12, T_FASCIA),
        (0.12, 0.12 + fat, T_FAT),
        (0.12 + fat, 0.22 + fat, T_FASCIA),
        (0.22 + fat, 0.22 + fat + mus, T_MUSCLE),
        (0.22 + fat + mus, 0.3 + fat + mus, T_FASCIA),
    )
    rows = np.full(row_depth.shape, 255, np.uint8)
    for d0, d1, tt in layers:
        rows[(row_depth >= d0) & (row_depth < d1)] = tt
    n = int(np.count_nonzero(rows != 255))
    # keep organ / bone tissue that reaches into the deepest wall layers (ribs sit in muscle)
    wall = np.broadcast_to(rows[:n, None], (n, x.shape[1]))
    keep = P.tissue[:n] == T_BONE
    P.tissue[:n] = np.where(keep, T_BONE, wall)
    P.boost[:n] *= keep
    return P.tissue, P.boost
