"""Is this picture like the model's training data? A per-frame score and a calm gate.

The score is a Mahalanobis distance in a small feature space built only from what every
backend already has: the network's input (the grey picture at the model's size) and its
output (logits or probabilities). So it works the same for the built-in U-Net, ONNX and
TorchScript models, and costs well under a millisecond per frame on the CPU.

The features (see :func:`feature_names`):

* the picture: mean, spread and dark fraction of the intensities, and speckle statistics
  (mean horizontal and vertical gradient relative to the spread, block-wise contrast);
* the output: the share of pixels given to each class, the mean top probability, the mean
  entropy and the mean free energy (``-logsumexp`` of the logits).

``bench/bench_ood.py`` measures each feature group on its own (max-softmax, energy, output
statistics, picture statistics) against the combination: confidence alone does not separate
real lung scans from simulated FAST frames (the network is confidently wrong on them), the
combination does.

Reference statistics (mean, whitening, threshold) live in ``reference.json`` next to the
model's weights: plain JSON, never pickle. The threshold is the distance that flags a stated
share of the calibration frames (1% by default), measured out of fold.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from ..models.weights_io import LoadedModel

REFERENCE_FILE = "reference.json"
FORMAT_VERSION = 1

_PICTURE = ("mean", "std", "dark", "grad_x", "grad_y", "block_cv", "block_cv_spread")
_OUTPUT = ("max_prob", "entropy", "energy")


def feature_names(num_classes: int) -> list[str]:
    """Names of the features, in order, for a model with ``num_classes`` outputs."""
    return [*_PICTURE, *(f"share_{i}" for i in range(num_classes)), *_OUTPUT]


class ReferenceStatsError(ValueError):
    """Reference statistics that cannot be used; the message names the file and says why."""


def _host(t: torch.Tensor | np.ndarray) -> np.ndarray:
    return t.detach().cpu().float().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def frame_features(
    grey: torch.Tensor | np.ndarray,
    out: torch.Tensor | np.ndarray,
    output: str = "logits",
    out_stride: int = 4,
) -> np.ndarray:
    """The feature vector of one frame.

    ``grey``: the picture the network saw, ``1 x 1 x h x w`` (or ``1 x C x h x w``, then
    averaged over channels) scaled to 0-1; ``out``: the network's ``1 x K x h x w`` output.
    ``out_stride``: the output is smooth, every 4th pixel is plenty (pass 1 for an output
    already subsampled, e.g. on the GPU before the download). Computed in NumPy on the host: these arrays are too small for torch's thread pool, whose
    start-up costs more than the work on a busy CPU.
    """
    a = _host(grey)[0].astype(np.float32, copy=False)
    g = a[0] if a.shape[0] == 1 else a.mean(0)
    mean = g.mean()
    std = max(float(g.std()), 1e-4)
    dark = (g < 0.04).mean()
    gx = np.abs(np.diff(g, axis=1)).mean() / std
    gy = np.abs(np.diff(g, axis=0)).mean() / std
    h, w = g.shape
    b = 8
    size = (w // b, h // b)  # speckle cells of 8 x 8 pixels: mean and spread per cell
    cm = cv2.resize(g, size, interpolation=cv2.INTER_AREA)
    cs = np.sqrt(np.maximum(cv2.resize(g * g, size, interpolation=cv2.INTER_AREA) - cm * cm, 0))
    lit = cm > 0.04
    cv = cs[lit] / cm[lit] if lit.any() else np.zeros(1, np.float32)
    st = out_stride
    o = _host(out)[0, :, ::st, ::st].astype(np.float32).reshape(out.shape[1], -1)
    k = o.shape[0]
    if output == "logits":
        top_logit = o.max(0)
        lse = top_logit + np.log(np.exp(o - top_logit).sum(0))
        logp = o - lse
        energy = -lse.mean()
    else:
        logp = np.log(np.clip(o, 1e-6, None))
        energy = 0.0
    p = np.exp(logp)
    share = np.bincount(p.argmax(0), minlength=k)[:k] / p.shape[1]
    entropy = -(p * logp).sum(0).mean()
    vals = [mean, std, dark, gx, gy, cv.mean(), cv.std() if cv.size > 1 else 0.0]
    return np.array([*vals, *share, p.max(0).mean(), entropy, energy], np.float64)


def weights_fingerprint(path: Path) -> str:
    """SHA-256 (first 16 hex digits) of a weights file: ties statistics to one model."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


@dataclass
class ReferenceStats:
    """Training-set statistics of :func:`frame_features` and the alarm threshold."""

    model: str
    num_classes: int
    weights_sha256: str
    features: list[str]
    mean: np.ndarray  # F
    whiten: np.ndarray  # F x F: distance = |whiten @ (f - mean)|
    threshold: float
    false_alarm_rate: float
    frames: int
    data: str = ""
    command: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def score(self, features: np.ndarray) -> float:
        """Mahalanobis distance of one frame's features from the training mean."""
        z = self.whiten @ (np.asarray(features, np.float64) - self.mean)
        return float(np.sqrt(z @ z / len(z)))

    def in_distribution(self, score: float) -> bool:
        return bool(score <= self.threshold)

    # ---- disk --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "kind": "sonolive-ood-reference",
            "model": self.model,
            "num_classes": self.num_classes,
            "weights_sha256": self.weights_sha256,
            "features": self.features,
            "mean": [float(v) for v in self.mean],
            "whiten": [[float(v) for v in row] for row in self.whiten],
            "threshold": float(self.threshold),
            "false_alarm_rate": self.false_alarm_rate,
            "frames": self.frames,
            "data": self.data,
            "command": self.command,
            **({"extra": self.extra} if self.extra else {}),
        }

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / REFERENCE_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        return path


def _fit(x: np.ndarray, shrink: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Mean and whitening matrix of standardised features, covariance shrunk to identity
    (few frames, correlated features)."""
    f = x.shape[1]
    mu = x.mean(0)
    sd = x.std(0) + 1e-6
    z = (x - mu) / sd
    cov = (1 - shrink) * np.cov(z, rowvar=False) + shrink * np.eye(f)
    vals, vecs = np.linalg.eigh(cov)
    return mu, (vecs / np.sqrt(np.maximum(vals, 1e-6))).T / sd


def _dist(mu: np.ndarray, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    z = (x - mu) @ w.T
    return np.sqrt((z * z).sum(1) / x.shape[1])


def fit_reference(
    feats: np.ndarray,
    *,
    model: str,
    num_classes: int,
    weights_sha256: str,
    false_alarm_rate: float = 0.01,
    data: str = "",
    command: str = "",
    folds: int = 3,
) -> ReferenceStats:
    """Statistics from all frames; the threshold from out-of-fold distances.

    Each frame's distance is measured from statistics fitted without its fold (in-sample
    distances are too small, so a threshold set on them would flag more than the stated
    rate). Consecutive pairs stay in one fold: a folder's image and its mirror come as a pair.
    """
    feats = np.asarray(feats, np.float64)
    n = len(feats)
    if n < 30:
        raise ValueError(f"calibration needs at least 30 frames, got {n}")
    fold = (np.arange(n) // 2) % folds
    oof = np.empty(n)
    for k in range(folds):
        test = fold == k
        mu, w = _fit(feats[~test])
        oof[test] = _dist(mu, w, feats[test])
    mu, w = _fit(feats)
    return ReferenceStats(
        model=model,
        num_classes=num_classes,
        weights_sha256=weights_sha256,
        features=feature_names(num_classes),
        mean=mu,
        whiten=w,
        threshold=float(np.quantile(oof, 1.0 - false_alarm_rate)),
        false_alarm_rate=false_alarm_rate,
        frames=n,
        data=data,
        command=command,
    )


def load_reference(
    folder: str | Path, *, model: str, num_classes: int, weights_sha256: str | None
) -> ReferenceStats | None:
    """The model's reference statistics, or None when the folder has none.

    Raises :class:`ReferenceStatsError` naming the file when it is corrupt, has the wrong
    feature size, holds NaN, or belongs to another model.
    """
    path = Path(folder) / REFERENCE_FILE
    if not path.is_file():
        return None
    where = str(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ReferenceStatsError(f"{where}: not readable reference statistics ({e})") from e
    if not isinstance(d, dict) or d.get("kind") != "sonolive-ood-reference":
        raise ReferenceStatsError(f"{where}: not a SonoLive reference-statistics file")
    names = feature_names(num_classes)
    if d.get("model") != model or (
        weights_sha256 is not None and d.get("weights_sha256") != weights_sha256
    ):
        raise ReferenceStatsError(
            f"{where}: these statistics belong to another model "
            f"({d.get('model')!r}, other weights); run 'sonolive calibrate --model {model}'"
        )
    try:
        mean = np.asarray(d["mean"], np.float64)
        whiten = np.asarray(d["whiten"], np.float64)
        thr = float(d["threshold"])
        far = float(d.get("false_alarm_rate", 0.01))
        frames = int(d.get("frames", 0))
    except (KeyError, TypeError, ValueError) as e:
        raise ReferenceStatsError(f"{where}: incomplete reference statistics ({e})") from e
    if (
        d.get("features") != names
        or mean.shape != (len(names),)
        or whiten.shape
        != (
            len(names),
            len(names),
        )
    ):
        raise ReferenceStatsError(
            f"{where}: wrong feature size ({mean.shape[0] if mean.ndim == 1 else '?'} features, "
            f"this model needs {len(names)})"
        )
    if not (np.isfinite(mean).all() and np.isfinite(whiten).all() and math.isfinite(thr)):
        raise ReferenceStatsError(f"{where}: the statistics hold NaN or infinite values")
    if thr <= 0:
        raise ReferenceStatsError(f"{where}: the threshold must be positive, not {thr}")
    return ReferenceStats(
        model=model,
        num_classes=num_classes,
        weights_sha256=str(d.get("weights_sha256", "")),
        features=names,
        mean=mean,
        whiten=whiten,
        threshold=thr,
        false_alarm_rate=far,
        frames=frames,
        data=str(d.get("data", "")),
        command=str(d.get("command", "")),
    )


class OodGate:
    """Hysteresis in time: hide after ``hold_s`` of foreign frames, show after ``hold_s`` of
    familiar ones, so one odd frame never blinks the overlay. Qt-free; times in seconds."""

    def __init__(self, hold_s: float = 0.5, fade_s: float = 0.3) -> None:
        self.hold_s = hold_s
        self.fade_s = fade_s
        self.hidden = False
        self._since: float | None = None  # when the frames started to disagree with the state
        self._switched: float | None = None  # when ``hidden`` last changed

    def reset(self) -> None:
        self.hidden = False
        self._since = None
        self._switched = None

    def overlay_weight(self, t: float) -> float:
        """How much of the overlay to show at time ``t``: it fades out over ``fade_s`` after
        the gate closes and fades back in after it opens (1.0: fully shown)."""
        if self._switched is None or self.fade_s <= 0:
            return 0.0 if self.hidden else 1.0
        k = min(1.0, max(0.0, (t - self._switched) / self.fade_s))
        return 1.0 - k if self.hidden else k

    def decide_now(self, in_distribution: bool | None) -> bool:
        """This frame alone decides, with no hold or fade (a paused or stepped frame in
        review, an exported frame); later :meth:`update` calls go on from that state."""
        self.reset()
        self.hidden = in_distribution is False
        return self.hidden

    def update(self, in_distribution: bool | None, t: float) -> bool:
        """Feed one frame's verdict (None: no statistics, never hides); returns ``hidden``."""
        if in_distribution is None:
            self.reset()
            return False
        if self._since is not None and t < self._since:
            self._since = None  # time went back (a seek in review): start the count again
        disagrees = in_distribution == self.hidden  # foreign while shown, familiar while hidden
        if not disagrees:
            self._since = None
        elif self._since is None:
            self._since = t
        elif t - self._since >= self.hold_s:
            self.hidden = not self.hidden
            self._since = None
            self._switched = t
        return self.hidden


def fraction_in_distribution(flags: Iterable[bool | None]) -> float | None:
    """Share of frames judged in-distribution (None when no frame had a verdict)."""
    vals = [bool(f) for f in flags if f is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def reference_for(model: LoadedModel) -> tuple[ReferenceStats | None, str | None]:
    """Reference statistics for a :class:`~sonolive.models.loader.LoadedModel`, and a note.

    Never raises: a model without statistics, or with unusable ones, runs ungated, and the
    note (one plain line, shown once) says so.
    """
    card = model.card
    folder = model.path
    if folder is None:
        return None, f"{card.name}: no reference statistics; the overlay is not gated"
    wpath = Path(folder) / card.weights
    try:
        digest = weights_fingerprint(wpath) if wpath.is_file() else None
        ref = load_reference(
            folder, model=card.name, num_classes=card.num_classes, weights_sha256=digest
        )
    except (ReferenceStatsError, OSError) as e:
        return None, f"{e} - running without the training-data check"
    if ref is None:
        return None, (
            f"{card.name}: no reference statistics ({REFERENCE_FILE}); the overlay is shown "
            f"without the training-data check. Run 'sonolive calibrate --model {card.name}'."
        )
    return ref, None
