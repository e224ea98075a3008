"""Imaging physics of the simulated scanner: sector geometry, speckle, attenuation, scan conversion.

Everything here works on a polar *beam grid* of ``N_DEPTH`` samples along each of ``N_BEAMS``
beams of a convex probe; :mod:`.phantom_anatomy` fills that grid with tissue types and this
module turns tissue into a B-mode image. See :mod:`.phantom` for the list of approximations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

#: polar grid resolution (samples along a beam, beams across the sector)
N_DEPTH = 256
N_BEAMS = 192
#: radius of curvature of the convex probe face (cm); the fan apex sits this far above the skin
PROBE_RADIUS_CM = 4.0
#: speckle / texture pool size (polar samples); windows of N_DEPTH x N_BEAMS are cut from it
POOL_SHAPE = (640, 1024)
#: point-spread function: Gaussian sigma in samples (axial) and beams (lateral)
PSF_AXIAL = 1.1
PSF_LATERAL = 1.7

# --- tissue types (finer than the segmentation classes) --------------------------------------
T_BACKGROUND = 0  # mesentery / bowel / retroperitoneum: heterogeneous mid-grey
T_LIVER = 1
T_CORTEX = 2  # kidney cortex, hypoechoic to liver
T_SINUS = 3  # renal sinus fat, hyperechoic
T_MEDULLA = 4  # renal pyramids, darker than cortex
T_SPLEEN = 5
T_URINE = 6
T_MYOCARDIUM = 7
T_BLOOD = 8
T_FLUID = 9  # free fluid (blood / ascites)
T_FAT = 10  # subcutaneous fat
T_MUSCLE = 11
T_FASCIA = 12  # skin, fascia, peritoneal line
T_BONE = 13  # rib / pelvic bone: bright surface then shadow
T_GAS = 14  # bowel / stomach gas: bright surface then dirty shadow
T_VESSEL = 15  # hepatic / portal vein lumen
T_LUNG = 16  # above the diaphragm (dim mirror region)
T_PELVIC = 17  # uterus / prostate / rectum wall
N_TISSUES = 18

# linear backscatter amplitude (liver = 1)
_AMP = np.zeros(N_TISSUES, np.float32)
_AMP[[T_BACKGROUND, T_LIVER, T_CORTEX, T_SINUS, T_MEDULLA, T_SPLEEN]] = [
    0.75,
    1.0,
    0.55,
    3.0,
    0.3,
    1.18,
]
_AMP[[T_URINE, T_MYOCARDIUM, T_BLOOD, T_FLUID, T_FAT, T_MUSCLE, T_FASCIA]] = [
    0.006,
    0.85,
    0.03,
    0.008,
    0.38,
    0.72,
    2.6,
]
_AMP[[T_BONE, T_GAS, T_VESSEL, T_LUNG, T_PELVIC]] = [22.0, 22.0, 0.012, 0.45, 0.8]

# relative strength of the low-frequency heterogeneity texture per tissue
_HET = np.full(N_TISSUES, 0.1, np.float32)
_HET[[T_BACKGROUND, T_SINUS, T_GAS, T_LUNG, T_PELVIC, T_MUSCLE]] = [0.55, 0.45, 0.4, 0.5, 0.3, 0.25]
_HET[[T_URINE, T_FLUID, T_BLOOD, T_VESSEL]] = 0.0

# round-trip amplitude attenuation in Np/cm (soft tissue ~ 0.5 dB/cm/MHz at ~3.5 MHz)
_ATT = np.full(N_TISSUES, 0.33, np.float32)
_ATT[[T_URINE, T_FLUID, T_BLOOD, T_VESSEL]] = [0.16, 0.16, 0.18, 0.18]
_ATT[[T_FAT, T_BONE, T_GAS, T_LUNG]] = [0.28, 4.0, 5.0, 0.9]
#: attenuation that the time-gain compensation undoes
TGC_NP_PER_CM = 0.33

AMP_TABLE = _AMP
HET_TABLE = _HET
ATT_TABLE = _ATT


@dataclass(frozen=True)
class SectorGeometry:
    """A convex-probe sector and its scan-conversion tables for one output size.

    Probe coordinates are in cm: ``x`` lateral (image right positive), ``z`` depth below the
    skin at the probe centre. The apex of the fan is ``PROBE_RADIUS_CM`` above the skin.
    """

    size: int
    depth_cm: float
    opening_deg: float
    x0: np.ndarray  # (N_DEPTH, N_BEAMS) probe-frame x of each polar sample (cm)
    z0: np.ndarray  # (N_DEPTH, N_BEAMS) probe-frame z
    row_depth: np.ndarray  # (N_DEPTH,) depth below the probe face of each row (cm)
    dz: float  # cm per polar sample
    beam_step_deg: float
    tgc: np.ndarray  # (N_DEPTH, 1) log-gain of the TGC per row
    map_lin: tuple[np.ndarray, np.ndarray]  # fixed-point maps for bilinear image remap
    map_nn: np.ndarray  # fixed-point map for nearest-neighbour mask remap
    inside: np.ndarray  # (size, size) bool: pixel lies in the sector
    cm_per_px: float


@lru_cache(maxsize=32)
def sector_geometry(size: int, depth_cm: float, opening_deg: float) -> SectorGeometry:
    """Build (and cache) the polar sample positions and remap tables for one sector."""
    R = PROBE_RADIUS_CM
    half = math.radians(opening_deg) / 2.0
    rows = np.linspace(0.0, depth_cm, N_DEPTH, dtype=np.float32)
    angles = np.linspace(-half, half, N_BEAMS, dtype=np.float32)
    r = (R + rows)[:, None]
    x0 = (r * np.sin(angles)[None, :]).astype(np.float32)
    z0 = (r * np.cos(angles)[None, :] - R).astype(np.float32)

    # output framing: fit the sector's bounding box, top aligned, centred horizontally
    width_cm = 2.0 * (R + depth_cm) * math.sin(half)
    top = R * math.cos(half)  # apex-relative height of the sector's highest point
    height_cm = R + depth_cm - top
    margin = 1.02
    cm_per_px = max(width_cm, height_cm) * margin / size
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    px = (xs - (size - 1) / 2.0) * cm_per_px
    py = (ys + 0.5) * cm_per_px + top - 0.01 * height_cm  # apex-relative depth
    rad = np.sqrt(px * px + py * py)
    ang = np.arctan2(px, py)
    fi = (rad - R) / depth_cm * (N_DEPTH - 1)
    fj = (ang + half) / (2 * half) * (N_BEAMS - 1)
    inside = (fi >= 0) & (fi <= N_DEPTH - 1) & (fj >= 0) & (fj <= N_BEAMS - 1)
    fi = np.where(inside, fi, -10.0).astype(np.float32)
    fj = np.where(inside, fj, -10.0).astype(np.float32)
    map_lin = cv2.convertMaps(fj, fi, cv2.CV_16SC2)
    map_nn, _ = cv2.convertMaps(fj, fi, cv2.CV_16SC2, nninterpolation=True)
    dz = depth_cm / (N_DEPTH - 1)
    # TGC: undo nominal attenuation; a mild far-field roll-off mimics loss of focus
    tgc = TGC_NP_PER_CM * rows - 0.35 * (rows / depth_cm) ** 2
    for a in (x0, z0, rows, tgc):
        a.setflags(write=False)
    return SectorGeometry(
        size=size,
        depth_cm=depth_cm,
        opening_deg=opening_deg,
        x0=x0,
        z0=z0,
        row_depth=rows,
        dz=dz,
        beam_step_deg=opening_deg / (N_BEAMS - 1),
        tgc=tgc.astype(np.float32)[:, None],
        map_lin=map_lin,
        map_nn=map_nn,
        inside=inside,
        cm_per_px=cm_per_px,
    )


class TexturePool:
    """Per-seed random fields, cut into windows instead of drawing new noise every frame.

    ``speckle``: complex Gaussian scatterer field (two float32 channels); ``hetero``: smooth
    zero-mean tissue heterogeneity; ``noise``: complex electronic noise.
    """

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([int(seed), 0x5E0])
        h, w = POOL_SHAPE
        self.speckle = rng.standard_normal((h, w, 2), dtype=np.float32)
        # heterogeneity: coarse patches (bowel loops, lobules) plus fine clumping
        coarse: np.ndarray = rng.standard_normal((h // 4, w // 4), dtype=np.float32)
        coarse = cv2.GaussianBlur(coarse, (0, 0), sigmaX=3.0, sigmaY=2.5)
        coarse = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
        fine: np.ndarray = rng.standard_normal((h, w), dtype=np.float32)
        fine = cv2.GaussianBlur(fine, (0, 0), sigmaX=2.5, sigmaY=2.0)
        het = coarse / coarse.std() + 0.6 * fine / fine.std()
        self.hetero = np.clip(het / het.std(), -2.5, 2.5).astype(np.float32)
        self.noise = rng.standard_normal((h, w, 2), dtype=np.float32)

    def window(self, field: np.ndarray, i0: int, j0: int) -> np.ndarray:
        h, w = POOL_SHAPE
        i0 = int(i0) % (h - N_DEPTH)
        j0 = int(j0) % (w - N_BEAMS)
        return field[i0 : i0 + N_DEPTH, j0 : j0 + N_BEAMS]


@dataclass
class Acquisition:
    """Scanner settings and texture offsets for one frame."""

    gain_db: float = 0.0
    dynamic_range_db: float = 60.0
    speckle_offset: tuple[int, int] = (0, 0)
    noise_offset: tuple[int, int] = (0, 0)


#: display grey map (post-processing curve): a power law that deepens the low-level greys
GREY_MAP = np.clip(255.0 * (np.arange(256) / 255.0) ** 1.35 + 0.5, 0, 255).astype(np.uint8)

#: dB of the displayed maximum relative to liver speckle at 0 dB gain (sets liver ~ mid-grey)
_REF_DB = 22.0


def beamform(
    tissue: np.ndarray,
    boost: np.ndarray | None,
    geom: SectorGeometry,
    pool: TexturePool,
    acq: Acquisition,
) -> np.ndarray:
    """Tissue-type grid -> log-compressed polar B-mode image (uint8, N_DEPTH x N_BEAMS).

    ``boost`` is extra linear backscatter amplitude (specular capsules, walls) added on top of
    the tissue's own amplitude.
    """
    si, sj = acq.speckle_offset
    het = pool.window(pool.hetero, si, sj)
    mod = HET_TABLE[tissue]
    mod *= het
    amp = AMP_TABLE[tissue]
    # log-normal heterogeneity and attenuation / TGC in one exponential
    cum = np.cumsum(ATT_TABLE[tissue], axis=0)
    cum *= -geom.dz
    cum += geom.tgc
    cum += mod
    amp *= np.exp(cum)
    if boost is not None:
        # specular reflectors, attenuated like the tissue they sit in (heterogeneity removed)
        boost = boost * np.exp(cum - mod)
        amp += boost
    # scatterers x amplitude, convolved with the (separable Gaussian) PSF -> RF analytic signal
    scat = pool.window(pool.speckle, si, sj) * amp[:, :, None]
    rf = cv2.GaussianBlur(scat, (0, 0), sigmaX=PSF_LATERAL, sigmaY=PSF_AXIAL)
    ni, nj = acq.noise_offset
    rf += pool.window(pool.noise, ni, nj) * np.float32(0.003)
    power = rf[:, :, 0] * rf[:, :, 0]
    power += rf[:, :, 1] * rf[:, :, 1]
    power += np.float32(1e-12)
    lnp = cv2.log(power)
    # log compression: grey = (10 log10 p + gain - ref + DR) * 255 / DR
    dr = float(acq.dynamic_range_db)
    scale = 10.0 / math.log(10.0) * 255.0 / dr
    offset = (acq.gain_db - _REF_DB + dr) * 255.0 / dr
    lnp *= np.float32(scale)
    lnp += np.float32(offset)
    np.clip(lnp, 0.0, 255.0, out=lnp)
    return cv2.LUT(lnp.astype(np.uint8), GREY_MAP)


def scan_convert(
    polar_img: np.ndarray, polar_mask: np.ndarray, geom: SectorGeometry
) -> tuple[np.ndarray, np.ndarray]:
    """Polar image (bilinear) and class mask (nearest) -> size x size Cartesian sector."""
    img = cv2.remap(
        polar_img,
        geom.map_lin[0],
        geom.map_lin[1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    mask = cv2.remap(
        polar_mask,
        geom.map_nn,
        None,
        cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return img, mask
