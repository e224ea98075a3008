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
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import torch

from ...models.weights_io import LoadedModel
from .reference import (  # noqa: F401 - the check's public names, in one place
    FORMAT_VERSION,
    REFERENCE_FILE,
    SCORE_BOTH,
    SCORE_STATS,
    ReferenceStats,
    ReferenceStatsError,
    feature_names,
    fit_reference,
    load_reference,
)


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


def reference_for(
    model: LoadedModel, features_hidden: str | None = None
) -> tuple[ReferenceStats | None, str | None]:
    """Reference statistics for a :class:`~sonolive.models.loader.LoadedModel`, and a note.

    Never raises: a model without statistics, or with unusable ones, runs ungated, and the
    note (one plain line, shown once) says so. The note also says when the check uses the
    picture and output statistics only: ``features_hidden`` (why the network's features
    cannot be read here, None when they can), or a ``reference.json`` from before the
    feature distance (it keeps working, on its old score).
    """
    card = model.card
    folder = model.path
    if folder is None:
        return None, f"{card.name}: no reference statistics; the overlay is not gated"
    try:
        wpath = Path(folder) / card.weights
        digest = weights_fingerprint(wpath) if wpath.is_file() else None
        ref = load_reference(
            folder, model=card.name, num_classes=card.num_classes, weights_sha256=digest
        )
    except Exception as e:  # noqa: BLE001 - any problem: ungated, with the note
        msg = " ".join(str(e).split())[:300] or type(e).__name__
        return None, f"{msg} - running without the training-data check"
    if ref is None:
        return None, (
            f"{card.name}: no reference statistics ({REFERENCE_FILE}); the overlay is shown "
            f"without the training-data check. Run 'sonolive calibrate --model {card.name}'."
        )
    if ref.format < FORMAT_VERSION:
        return ref, (
            f"{card.name}: {REFERENCE_FILE} is from an older SonoLive; the training-data check "
            "uses picture and output statistics only. Run "
            f"'sonolive calibrate --model {card.name}' to add the network's features."
        )
    if ref.deep is not None and features_hidden:
        return ref, (
            f"{card.name}: the training-data check uses picture and output statistics only "
            f"here ({features_hidden})"
        )
    if ref.deep is None:
        why = f" ({features_hidden})" if features_hidden else ""
        return ref, (
            f"{card.name}: the training-data check uses picture and output statistics only{why}"
        )
    return ref, None
