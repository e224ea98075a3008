"""Reference statistics of the training-data check (``reference.json``): fit, score, disk.

Two distances, each a Mahalanobis distance measured on the model's training frames:

* **statistics** (every model): picture and output statistics (:func:`.ood.frame_features`);
* **features** (models whose inside SonoLive can see: its own U-Net, in PyTorch or in the
  ONNX export SonoLive makes): the network's own features, pooled inside the network
  (:mod:`.ood_features`), whitened in their main directions (a covariance shrunk towards
  its average variance: a few hundred frames, a couple of hundred channels).

Each distance is divided by its own out-of-fold threshold, so both read 1.0 at their line,
and a frame's score is the larger of the two; the threshold on that score is again the
out-of-fold quantile, so the stated false-alarm rate holds for the combination. A frame
without features (a format that hides them) is judged on the statistics alone, on the same
scale.

The file is plain JSON, never pickle, written atomically (a fresh file in the same folder,
then renamed over the old one: a link in its place is replaced, never written through), and
with finite numbers only. Reading it is defensive: any problem raises
:class:`ReferenceStatsError` with one plain line naming the file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...models.atomic_file import atomic_write_bytes

REFERENCE_FILE = "reference.json"
FORMAT_VERSION = 2
KIND = "sonolive-ood-reference"
MAX_FILE_BYTES = 8 * 2**20  # the shipped files are a few tens of KiB
MAX_MAGNITUDE = 1e12  # larger statistics are not measured ones: refused, never squared
MAX_SCORE = 1e6  # a score is capped here, so a frame's figures stay finite
SCORE_BOTH = "features+statistics"
SCORE_STATS = "statistics"

_PICTURE = ("mean", "std", "dark", "grad_x", "grad_y", "block_cv", "block_cv_spread")
_OUTPUT = ("max_prob", "entropy", "energy")


def feature_names(num_classes: int) -> list[str]:
    """Names of the features, in order, for a model with ``num_classes`` outputs."""
    return [*_PICTURE, *(f"share_{i}" for i in range(num_classes)), *_OUTPUT]


class ReferenceStatsError(ValueError):
    """Reference statistics that cannot be used; the message names the file and says why."""


def _round(v: float) -> float:
    return float(f"{float(v):.7g}")


def _fit_whiten(x: np.ndarray, shrink: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Mean and whitening matrix of standardised features, covariance shrunk to identity."""
    f = x.shape[1]
    mu = x.mean(0)
    sd = x.std(0) + 1e-6
    z = (x - mu) / sd
    cov = (1 - shrink) * np.cov(z, rowvar=False) + shrink * np.eye(f)
    vals, vecs = np.linalg.eigh(cov)
    return mu, (vecs / np.sqrt(np.maximum(vals, 1e-6))).T / sd


def _whiten_dist(mu: np.ndarray, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    z = (x - mu) @ w.T
    return np.sqrt((z * z).sum(1) / x.shape[1])


@dataclass
class DeepStats:
    """Pooled network features: mean, spread, main directions and their shrunk variances."""

    layers: list[str]
    mean: np.ndarray  # F
    scale: np.ndarray  # F, > 0
    components: np.ndarray  # k x F, orthonormal rows
    variances: np.ndarray  # k, > 0
    threshold: float = 1.0  # this distance's own out-of-fold line

    @classmethod
    def fit(cls, x: np.ndarray, layers: list[str], k: int = 32, shrink: float = 0.1) -> DeepStats:
        mu = x.mean(0)
        sd = x.std(0) + 1e-3
        z = (x - mu) / sd
        _u, s, vt = np.linalg.svd(z, full_matrices=False)
        k = max(1, min(k, len(s), len(x) - 1))
        var = s[:k] ** 2 / max(1, len(x) - 1)
        var = (1 - shrink) * var + shrink * var.mean() + 1e-6
        return cls(list(layers), mu, sd, vt[:k], var)

    def distances(self, x: np.ndarray) -> np.ndarray:
        p = ((np.atleast_2d(x) - self.mean) / self.scale) @ self.components.T
        return np.sqrt((p * p / self.variances).sum(1) / len(self.variances))

    def to_dict(self) -> dict[str, Any]:
        return {
            "layers": self.layers,
            "pooling": "mean",
            "mean": [_round(v) for v in self.mean],
            "scale": [_round(v) for v in self.scale],
            "components": [[_round(v) for v in row] for row in self.components],
            "variances": [_round(v) for v in self.variances],
            "threshold": _round(self.threshold),
        }


@dataclass
class ReferenceStats:
    """Training-set statistics of a model and the alarm threshold (see the module's text)."""

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
    #: the statistics distance's own line (format 1 files: the threshold itself)
    stat_threshold: float | None = None
    deep: DeepStats | None = None
    format: int = FORMAT_VERSION

    @property
    def kind(self) -> str:
        """Which score the statistics give: ``features+statistics`` or ``statistics``."""
        return SCORE_BOTH if self.deep is not None else SCORE_STATS

    def score(self, features: np.ndarray, deep: np.ndarray | None = None) -> float:
        """The frame's score (compare with :attr:`threshold`): the larger of the statistics
        and the feature distance, each on its own line's scale; the statistics alone when
        ``deep`` is None or the model has no feature statistics. Always finite."""
        f = np.asarray(features, np.float64)
        z = self.whiten @ (f - self.mean)
        own = self.stat_threshold or self.threshold
        s = math.sqrt(float(z @ z) / len(z)) / own
        d = None if deep is None else np.asarray(deep, np.float64).reshape(-1)
        if self.deep is not None and d is not None and d.shape == self.deep.mean.shape:
            s = max(s, float(self.deep.distances(d)[0]) / self.deep.threshold)
        else:
            s *= self.threshold  # the statistics alone: their own line lands on the threshold
        return s if math.isfinite(s) and s < MAX_SCORE else MAX_SCORE

    def in_distribution(self, score: float) -> bool:
        return bool(score <= self.threshold)

    def decide(self, features: np.ndarray, deep: np.ndarray | None = None) -> tuple[float, bool]:
        """One frame's score (rounded) and verdict: the check's whole decision."""
        s = self.score(features, deep)
        return round(s, 4), self.in_distribution(s)

    # ---- disk --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "kind": KIND,
            "model": self.model,
            "num_classes": self.num_classes,
            "weights_sha256": self.weights_sha256,
            "score": self.kind,
            "features": self.features,
            "mean": [_round(v) for v in self.mean],
            "whiten": [[_round(v) for v in row] for row in self.whiten],
            "statistics_threshold": _round(self.stat_threshold or self.threshold),
            "deep": self.deep.to_dict() if self.deep is not None else None,
            "threshold": _round(self.threshold),
            "false_alarm_rate": self.false_alarm_rate,
            "frames": self.frames,
            "data": self.data,
            "command": self.command,
            **({"extra": self.extra} if self.extra else {}),
        }

    def save(self, folder: str | Path) -> Path:
        """Write ``reference.json`` atomically: a fresh file beside it, renamed over it (a
        symbolic link there is replaced, not followed). Raises ValueError on non-finite
        numbers, OSError when the folder cannot take the file."""
        path = Path(folder) / REFERENCE_FILE
        text = to_json(self.to_dict())
        atomic_write_bytes(path, text.encode("utf-8"))
        return path


def to_json(d: dict[str, Any]) -> str:
    """One top-level key a line, each value compact (the matrices stay small on disk);
    finite numbers only (ValueError otherwise)."""
    lines = [
        f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'), allow_nan=False)}"
        for k, v in d.items()
    ]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _oof(n: int, folds: int) -> np.ndarray:
    """Fold of each frame; consecutive pairs stay together (an image and its mirror)."""
    return (np.arange(n) // 2) % folds


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
    deep: np.ndarray | None = None,
    layers: list[str] | None = None,
    names: list[str] | None = None,
) -> ReferenceStats:
    """Statistics from all frames; every threshold from out-of-fold distances.

    Each frame's distance is measured from statistics fitted without its fold (in-sample
    distances are too small, so a threshold set on them would flag more than the stated
    rate). ``deep``: the frames' pooled network features (one row per frame), or None.
    """
    feats = np.asarray(feats, np.float64)
    n = len(feats)
    if n < 30:
        raise ValueError(f"calibration needs at least 30 frames, got {n}")
    if not np.isfinite(feats).all() or (deep is not None and not np.isfinite(deep).all()):
        raise ValueError("the model gave NaN or infinite values on the calibration frames")
    q = 1.0 - false_alarm_rate
    fold = _oof(n, folds)
    oof = np.empty(n)
    oof_deep = np.empty(n)
    for k in range(folds):
        test = fold == k
        mu, w = _fit_whiten(feats[~test])
        oof[test] = _whiten_dist(mu, w, feats[test])
        if deep is not None:
            oof_deep[test] = DeepStats.fit(deep[~test], layers or []).distances(deep[test])
    mu, w = _fit_whiten(feats)
    t_stat = float(np.quantile(oof, q))
    combined = oof / t_stat
    deep_stats = None
    if deep is not None:
        deep_stats = DeepStats.fit(np.asarray(deep, np.float64), layers or [])
        deep_stats.threshold = float(np.quantile(oof_deep, q))
        combined = np.maximum(combined, oof_deep / deep_stats.threshold)
    return ReferenceStats(
        model=model,
        num_classes=num_classes,
        weights_sha256=weights_sha256,
        features=names or feature_names(num_classes),
        mean=mu,
        whiten=w,
        threshold=float(np.quantile(combined, q)) if deep is not None else t_stat,
        false_alarm_rate=false_alarm_rate,
        frames=n,
        data=data,
        command=command,
        stat_threshold=t_stat,
        deep=deep_stats,
    )


# ---- reading ---------------------------------------------------------------------------------
def _array(d: dict, key: str, shape: tuple[int, ...], where: str) -> np.ndarray:
    """``d[key]`` as a finite float array of ``shape``, or ReferenceStatsError."""
    raw = d.get(key)
    try:
        a = np.asarray(raw, np.float64)
    except (TypeError, ValueError, OverflowError):
        a = None
    if a is None or a.shape != shape:
        got = "x".join(map(str, a.shape)) if a is not None and a.ndim else "no array"
        want = "x".join(map(str, shape))
        raise ReferenceStatsError(
            f"{where}: '{key}' is {got}, this model needs {want} (wrong feature size)"
        )
    if not np.isfinite(a).all():
        raise ReferenceStatsError(f"{where}: '{key}' holds NaN or infinite values")
    if np.abs(a).max(initial=0.0) > MAX_MAGNITUDE:
        raise ReferenceStatsError(f"{where}: '{key}' holds absurd values (beyond 1e12)")
    return a


def _positive(d: dict, key: str, where: str, default: float | None = None) -> float:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ReferenceStatsError(f"{where}: '{key}' must be a number, not {type(v).__name__}")
    v = float(v)
    if not math.isfinite(v) or not 0 < v <= MAX_MAGNITUDE:
        raise ReferenceStatsError(f"{where}: '{key}' must be a positive number, not {v}")
    return v


def _deep_from(d: Any, where: str) -> DeepStats:
    if not isinstance(d, dict):
        raise ReferenceStatsError(f"{where}: 'deep' must be an object")
    layers = d.get("layers")
    if not isinstance(layers, list) or not all(isinstance(s, str) for s in layers):
        raise ReferenceStatsError(f"{where}: 'deep.layers' must be a list of layer names")
    mean = d.get("mean")
    f = len(mean) if isinstance(mean, list) else 0
    comps = d.get("components")
    k = len(comps) if isinstance(comps, list) else 0
    if not (1 <= f <= 8192 and 1 <= k <= f):
        raise ReferenceStatsError(f"{where}: 'deep' has {f} features and {k} directions")
    out = DeepStats(
        layers=list(layers),
        mean=_array(d, "mean", (f,), where + " deep"),
        scale=_array(d, "scale", (f,), where + " deep"),
        components=_array(d, "components", (k, f), where + " deep"),
        variances=_array(d, "variances", (k,), where + " deep"),
        threshold=_positive(d, "threshold", where + " deep"),
    )
    if (out.scale <= 0).any() or (out.variances <= 0).any():
        raise ReferenceStatsError(f"{where}: 'deep' spreads must be positive")
    return out


def load_reference(
    folder: str | Path, *, model: str, num_classes: int, weights_sha256: str | None
) -> ReferenceStats | None:
    """The model's reference statistics, or None when the folder has none.

    Raises :class:`ReferenceStatsError` naming the file for any problem: unreadable, not
    JSON, too large or too deeply nested, the wrong shape or feature size, NaN, infinite or
    absurd values, or statistics of another model.
    """
    path = Path(folder) / REFERENCE_FILE
    where = str(path)
    try:
        if not path.exists() and not path.is_symlink():
            return None
        if not path.is_file():
            raise ReferenceStatsError(f"{where}: not a regular file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ReferenceStatsError(f"{where}: too large for reference statistics")
        d = json.loads(path.read_text(encoding="utf-8"))
    except ReferenceStatsError:
        raise
    except (OSError, UnicodeError, ValueError, RecursionError, MemoryError) as e:
        why = "nested too deeply" if isinstance(e, RecursionError) else str(e) or type(e).__name__
        raise ReferenceStatsError(f"{where}: not readable reference statistics ({why})") from e
    if not isinstance(d, dict) or d.get("kind") != KIND:
        raise ReferenceStatsError(f"{where}: not a SonoLive reference-statistics file")
    if d.get("model") != model or (
        weights_sha256 is not None and d.get("weights_sha256") != weights_sha256
    ):
        raise ReferenceStatsError(
            f"{where}: these statistics belong to another model "
            f"({str(d.get('model'))[:60]!r}, other weights); "
            f"run 'sonolive calibrate --model {model}'"
        )
    names = feature_names(num_classes)
    if d.get("features") != names:
        raise ReferenceStatsError(
            f"{where}: wrong feature size (the features listed are not the {len(names)} "
            "this model needs)"
        )
    f = len(names)
    mean = _array(d, "mean", (f,), where)
    whiten = _array(d, "whiten", (f, f), where)
    thr = _positive(d, "threshold", where)
    fmt = d.get("format", 1)
    deep = None
    stat_thr = None
    if fmt != 1:
        stat_thr = _positive(d, "statistics_threshold", where)
        if d.get("deep") is not None:
            deep = _deep_from(d["deep"], where)
    far = d.get("false_alarm_rate", 0.01)
    frames = d.get("frames", 0)
    if isinstance(far, bool) or not isinstance(far, (int, float)) or not 0 <= far < 1:
        raise ReferenceStatsError(f"{where}: 'false_alarm_rate' must be between 0 and 1")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 0:
        raise ReferenceStatsError(f"{where}: 'frames' must be a whole number")
    return ReferenceStats(
        model=model,
        num_classes=num_classes,
        weights_sha256=str(d.get("weights_sha256", "")),
        features=names,
        mean=mean,
        whiten=whiten,
        threshold=thr,
        false_alarm_rate=float(far),
        frames=frames,
        data=str(d.get("data", ""))[:500],
        command=str(d.get("command", ""))[:2000],
        stat_threshold=stat_thr,
        deep=deep,
        format=1 if fmt == 1 else FORMAT_VERSION,
    )
