"""Simulated FAST-exam ultrasound scanner: the app's demo source and the training-data generator.

Four FAST windows are simulated with a convex abdominal probe (3.5 MHz-like), each a sector of
12-18 cm depth and 60-75 degree opening with the fan apex above the top edge of the picture and
black outside the sector:

* ``ruq``: liver (with hepatic/portal vessels, diaphragm and lung above it) and right kidney
  (hypoechoic cortex, darker pyramids, bright sinus fat); when fluid-positive an anechoic stripe
  fills Morison's pouch between liver and kidney.
* ``luq``: spleen and left kidney; when positive, fluid rims the spleen (subphrenic side).
* ``suprapubic``: transverse bladder (anechoic, bright wall) with uterus/prostate and rectum
  behind it; when positive, fluid collects behind the bladder.
* ``subxiphoid``: liver in the near field, four-chamber heart (myocardium with dark blood pools,
  labelled as a whole as ``heart``), bright pericardium; when positive an effusion ring,
  thicker on the dependent (deep) side.

Approximations (what is and is not physics):

* Anatomy is a handful of analytic shapes per view (bent, rotated ellipses and superellipses
  in cm) combined in painter's order; sizes, positions, wall thickness, ribs, bowel gas and
  vessels are drawn per patient/view segment. Distances to boundaries use a first-order
  (gradient) approximation of the ellipse distance.
* Imaging works on a polar beam grid (256 samples x 192 beams). Each tissue type has a
  backscatter amplitude, a heterogeneity strength and a round-trip attenuation. Scatterers
  are a complex Gaussian field (fully developed speckle) scaled by the amplitude and convolved
  with a separable Gaussian PSF (the baseband equivalent of a Gaussian-modulated pulse; the
  carrier does not change the envelope statistics of circular Gaussian scatterers); the
  envelope is the magnitude of the result.
* Attenuation is integrated along each beam (cumulative sum) and the TGC undoes the nominal
  soft-tissue value, so fluid (low attenuation) gives posterior enhancement and bone/gas (very
  high attenuation, very bright surface) cast acoustic shadows along the beam automatically.
  Capsules, bladder wall, diaphragm and pericardium add a specular band of extra amplitude
  (angle-independent). No reverberation, refraction, side lobes or harmonic imaging.
* Electronic noise is complex Gaussian added before the envelope; display is log compression
  with gain and dynamic range.
* Random fields are not drawn per frame: a per-seed pool of scatterers, heterogeneity and noise
  is cut into windows. The scatterer window shifts with probe translation/rotation and with
  breathing, so speckle moves (and is replaced) as the probe moves and stays still when it
  does not. All organs share one speckle window per frame, although each organ moves with its
  own breathing weight.
* Scan conversion is ``cv2.remap`` with cached fixed-point tables per (size, depth, opening);
  the image is interpolated bilinearly and the mask with nearest neighbour from the *same*
  polar class grid that drove the image, so image and mask agree to within one polar sample
  (<= ~2 px laterally in the far field at 512 px).
* Motion: probe sweep (about +-1.5 cm lateral) and rocking (about +-6 degrees), breathing at
  ~0.25 Hz moving the organs ~1 cm along each view's craniocaudal direction, heartbeat at
  ~1.2 Hz scaling the cardiac chambers, and a new FAST window every 8 s (RUQ, subxiphoid,
  LUQ, suprapubic, in that order from a seed-chosen start), each segment fluid-positive or
  negative by the seed.

Determinism: everything is a function of ``(seed, t)`` (or of the generator given to
``sample``); no global random state is used.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Iterator

import cv2
import numpy as np

from .frame import Frame
from .phantom_anatomy import (
    TISSUE_CLASS,
    VIEW_BREATH,
    VIEW_CLASSES,
    VIEW_DEPTH,
    VIEWS,
    ViewParams,
    make_params,
    paint_view,
)
from .phantom_physics import (
    PROBE_RADIUS_CM,
    Acquisition,
    TexturePool,
    beamform,
    scan_convert,
    sector_geometry,
)
from .source import FrameSource, SourceError

__all__ = [
    "PHANTOM_CLASSES",
    "PHANTOM_COLORS",
    "VIEWS",
    "VIEW_CLASSES",
    "SEGMENT_S",
    "PhantomSampler",
    "PhantomScanner",
    "PhantomSource",
    "colorize_mask",
    "phantom_samples",
]

PHANTOM_CLASSES: tuple[str, ...] = (
    "background",
    "liver",
    "kidney",
    "spleen",
    "bladder",
    "heart",
    "fluid",
)

#: display colour per class (RGB)
PHANTOM_COLORS: dict[str, tuple[int, int, int]] = {
    "background": (0, 0, 0),
    "liver": (176, 104, 56),
    "kidney": (150, 80, 200),
    "spleen": (70, 180, 80),
    "bladder": (235, 210, 40),
    "heart": (220, 40, 50),
    "fluid": (40, 210, 230),
}

#: seconds per FAST window in the scan script
SEGMENT_S = 8.0
#: order in which the script visits the windows (the usual FAST order)
_SCRIPT_ORDER = ("ruq", "subxiphoid", "luq", "suprapubic")
BREATH_HZ = 0.25
#: sector openings used (degrees); a few discrete values keep the remap-table cache small
_OPENINGS = (60.0, 65.0, 70.0, 75.0)
HEART_HZ = 1.2


def colorize_mask(mask: np.ndarray) -> np.ndarray:
    """Class-index mask -> RGB uint8 image using :data:`PHANTOM_COLORS`."""
    lut = np.array([PHANTOM_COLORS[c] for c in PHANTOM_CLASSES], np.uint8)
    return lut[np.minimum(mask, len(PHANTOM_CLASSES) - 1)]


def _quant(v: float, step: float) -> float:
    return round(v / step) * step


class PhantomScanner:
    """Pure (unpaced) renderer of the simulated FAST exam.

    ``render(t)`` follows a deterministic scan script; ``sample(rng)`` draws an independent
    random frame for training. Both return ``(image, mask)``: grey ``uint8`` HxW and class
    indices ``uint8`` HxW (indices into :data:`PHANTOM_CLASSES`, 0 outside the sector).
    """

    def __init__(
        self,
        seed: int = 0,
        size: int = 512,
        depth_cm: float | None = None,
        gain_db: float = 0.0,
        dynamic_range_db: float = 60.0,
    ) -> None:
        if size < 32:
            raise ValueError("size must be at least 32 pixels")
        if depth_cm is not None and not 4.0 <= depth_cm <= 30.0:
            raise ValueError("depth_cm must be within 4-30 cm")
        self.seed = int(seed)
        self.size = int(size)
        self.depth_cm = depth_cm
        self.gain_db = float(gain_db)
        self.dynamic_range_db = float(dynamic_range_db)
        self.pool = TexturePool(self.seed)
        self._segments: OrderedDict[tuple, dict] = OrderedDict()
        #: view of the last rendered frame
        self.current_view: str | None = None

    # -- scan script -------------------------------------------------------------------------
    def segment_info(self, k: int, view: str | None = None) -> dict:
        """Parameters of script segment ``k`` (view, fluid, anatomy, depth, opening, phases)."""
        key = (k, view)
        seg = self._segments.get(key)
        if seg is not None:
            self._segments.move_to_end(key)
            return seg
        rng = np.random.default_rng([self.seed, 0x5E6, k])
        start = int(np.random.default_rng([self.seed, 0x51]).integers(0, 4))
        v = view or _SCRIPT_ORDER[(start + k) % 4]
        fluid = bool(rng.random() < 0.5)
        depth = VIEW_DEPTH[v] + float(rng.uniform(-1.5, 1.5))
        seg = {
            "view": v,
            "fluid": fluid,
            "params": make_params(v, rng),
            "depth": _quant(min(max(depth, 12.0), 18.0), 0.5),
            "opening": float(rng.choice(_OPENINGS)),
            "phases": rng.uniform(0, 2 * math.pi, 4),
            "sweep": (float(rng.uniform(0.8, 1.8)), float(rng.uniform(3.0, 8.0))),
            "offset": (int(rng.integers(0, 1 << 20)), int(rng.integers(0, 1 << 20))),
        }
        self._segments[key] = seg
        if len(self._segments) > 16:
            self._segments.popitem(last=False)
        return seg

    def render(
        self, t: float, view: str | None = None, fluid: bool | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Frame at time ``t`` (s) of the scan script; ``view``/``fluid`` override the script."""
        if view is not None and view not in VIEWS:
            raise ValueError(f"unknown view {view!r}; expected one of {VIEWS}")
        k = int(math.floor(t / SEGMENT_S))
        seg = self.segment_info(k, view)
        tau = t - k * SEGMENT_S
        ph = seg["phases"]
        amp, rot_amp = seg["sweep"]
        tx = amp * math.sin(2 * math.pi * tau / 6.0 + ph[0])
        rot = rot_amp * math.sin(2 * math.pi * tau / 9.0 + ph[1])
        breath = math.sin(2 * math.pi * BREATH_HZ * t + ph[2])
        heart = 2 * math.pi * HEART_HZ * t + ph[3]
        depth = self.depth_cm if self.depth_cm is not None else seg["depth"]
        frame_key = int(round(t * 1000.0))
        nrng = np.random.default_rng([self.seed, 0x0E, k, frame_key])
        noise_off = (int(nrng.integers(0, 1 << 20)), int(nrng.integers(0, 1 << 20)))
        f = seg["fluid"] if fluid is None else bool(fluid)
        return self._render(
            seg["params"],
            f,
            depth,
            seg["opening"],
            tx,
            rot,
            breath,
            heart,
            self.gain_db,
            self.dynamic_range_db,
            seg["offset"],
            noise_off,
        )

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """An independent random frame (view, fluid, anatomy, pose, breathing, depth, gain)."""
        view = VIEWS[int(rng.integers(0, len(VIEWS)))]
        fluid = bool(rng.random() < 0.5)
        params = make_params(view, rng)
        depth = self.depth_cm
        if depth is None:
            depth = float(rng.integers(12, 19))  # whole cm: keeps the remap-table cache small
        opening = float(rng.choice(_OPENINGS))
        tx = float(rng.uniform(-2.0, 2.0))
        rot = float(rng.uniform(-8.0, 8.0))
        breath = float(rng.uniform(-1.0, 1.0))
        heart = float(rng.uniform(0, 2 * math.pi))
        gain = self.gain_db + float(rng.uniform(-5.0, 5.0))
        dr = self.dynamic_range_db + float(rng.uniform(-8.0, 8.0))
        o0, o1, o2, o3 = (int(v) for v in rng.integers(0, 1 << 20, 4))
        return self._render(
            params, fluid, depth, opening, tx, rot, breath, heart, gain, dr, (o0, o1), (o2, o3)
        )

    # -- rendering ---------------------------------------------------------------------------
    def _render(
        self,
        params: ViewParams,
        fluid: bool,
        depth: float,
        opening: float,
        tx: float,
        rot_deg: float,
        breath: float,
        heart_phase: float,
        gain_db: float,
        dr_db: float,
        speckle_base: tuple[int, int],
        noise_off: tuple[int, int],
    ) -> tuple[np.ndarray, np.ndarray]:
        geom = sector_geometry(self.size, float(depth), float(opening))
        c = np.float32(math.cos(math.radians(rot_deg)))
        s = np.float32(math.sin(math.radians(rot_deg)))
        # probe frame -> world: rock about the skin contact point, then slide laterally
        x = geom.x0 * c - geom.z0 * s
        x += np.float32(tx)
        z = geom.x0 * s + geom.z0 * c
        tissue, boost = paint_view(params, fluid, x, z, geom.row_depth, breath, heart_phase)
        # speckle moves with the tissue: lateral shift from probe motion, axial from breathing
        mid_r = PROBE_RADIUS_CM + depth / 2.0
        beam_cm = mid_r * math.radians(geom.beam_step_deg)
        bx, bz = VIEW_BREATH[params.view]
        shift_j = (tx + 0.8 * bx * breath) / beam_cm + rot_deg / geom.beam_step_deg
        shift_i = 0.8 * bz * breath / geom.dz
        acq = Acquisition(
            gain_db=gain_db,
            dynamic_range_db=dr_db,
            speckle_offset=(speckle_base[0] + round(shift_i), speckle_base[1] + round(shift_j)),
            noise_offset=noise_off,
        )
        polar = beamform(tissue, boost, geom, self.pool, acq)
        cls = TISSUE_CLASS[tissue]
        img, mask = scan_convert(polar, cls, geom)
        self.current_view = params.view
        return img, mask


class PhantomSampler:
    """Independent random (image, class mask) pairs: the one sampler, with one seeding rule,
    that training, evaluation, calibration and ``phantom export --random`` draw from, so a
    seed gives the same frames in each."""

    def __init__(self, seed: int, size: int = 512) -> None:
        self.scanner = PhantomScanner(seed=seed, size=size)
        self._rng = np.random.default_rng(seed)

    def next(self) -> tuple[np.ndarray, np.ndarray]:
        return self.scanner.sample(self._rng)

    @property
    def view(self) -> str | None:
        """The view of the last frame drawn."""
        return self.scanner.current_view


def phantom_samples(
    seed: int, frames: int, size: int = 512
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``frames`` pairs from :class:`PhantomSampler` (``seed``, ``size``)."""
    sampler = PhantomSampler(seed, size)
    for _ in range(frames):
        yield sampler.next()


class PhantomSource(FrameSource):
    """The simulated scanner as a live :class:`FrameSource` (the app's embedded default).

    Frame ``n`` shows script time ``t = n / fps``; ``Frame.timestamp`` is that stream time in
    seconds. When ``paced``, ``read()`` sleeps on a monotonic schedule so frames come at
    ``fps``; a consumer that falls behind gets the next frame at once and the schedule is
    re-anchored (no burst of catch-up frames). ``truth`` carries the exact class mask.
    """

    simulated = True
    seekable = False

    def __init__(
        self,
        seed: int = 0,
        size: int = 512,
        fps: float = 30.0,
        paced: bool = True,
        view: str | None = None,
        fluid: bool | None = None,
    ) -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        if view is not None and view not in VIEWS:
            raise ValueError(f"unknown view {view!r}; expected one of {VIEWS}")
        self.seed = seed
        self.size = size
        self.fps = float(fps)
        self.paced = paced
        self.view = view
        self.fluid = fluid
        self.current_view: str | None = None
        self._scanner: PhantomScanner | None = None
        self._n = 0
        self._t0: float | None = None

    def open(self) -> None:
        if self._scanner is None:
            self._scanner = PhantomScanner(seed=self.seed, size=self.size)
        self._n = 0
        self._t0 = None

    def read(self) -> Frame:
        if self._scanner is None:
            self.open()
        scanner = self._scanner
        if scanner is None:  # pragma: no cover - open() always sets it
            raise SourceError("simulated scanner failed to start")
        n = self._n
        if self.paced:
            now = time.monotonic()
            if self._t0 is None:
                self._t0 = now - n / self.fps
            due = self._t0 + n / self.fps
            if due > now:
                time.sleep(due - now)
            elif now - due > 1.0 / self.fps:
                self._t0 = now - n / self.fps  # late consumer: re-anchor, never burst
        t_start = time.perf_counter()
        img, mask = scanner.render(n / self.fps, view=self.view, fluid=self.fluid)
        rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        self.current_view = scanner.current_view
        frame = Frame(
            pixels=rgb,
            timestamp=n / self.fps,
            index=n,
            truth=mask,
            source=self.describe(),
        )
        frame.capture_ms = (time.perf_counter() - t_start) * 1000.0
        frame.mark_entered()
        self._n = n + 1
        return frame

    def close(self) -> None:
        self._t0 = None

    def describe(self) -> str:
        return "Simulated scanner (FAST)"
