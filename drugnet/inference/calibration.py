"""Probability calibration and domain-aware shrinkage, fitted on validation predictions only.

Functional API (JSON-serialisable parameter dicts, stored under ``calibration`` in ``model.json``):

* ``fit_calibration(probs, labels, mask) -> params`` and ``apply_calibration(params, probs)``:
  per task, Platt scaling on the logit (``sigmoid(a * logit(p) + b)``; ``a >= 0`` is an inverse
  temperature), isotonic regression, or the identity (each map non-decreasing: calibration
  never reverses a model's order), whichever has the lowest cross-validated
  log loss on the validation rows given (so the choice is itself made on validation data);
* ``fit_shrinkage(probs, labels, similarity, prevalence, mask) -> params`` and
  ``apply_shrinkage(params, mean, std, similarity)``: a prediction whose nearest training compound
  has Tanimoto similarity ``s`` is pulled toward the training prevalence ``pi`` with weight
  ``w(s) = sigmoid(beta * (s - threshold))``, ``p' = w p + (1 - w) pi``. The domain ``threshold``
  is where the validation error regressed on similarity reaches the error of predicting the
  prevalence (below it the prevalence says more about a compound than the model does), and
  ``beta >= 0`` is then fitted by maximum likelihood on the validation rows.

Callers must pass validation predictions and labels only: nothing here looks at split names.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.optimize import minimize
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

#: Probabilities are clipped to ``[EPS, 1 - EPS]`` before logits and log losses.
EPS = 1e-6
#: Below this many labelled rows, or fewer than ``MIN_CLASS`` rows of either class, a task keeps
#: the identity map (nothing to fit on).
MIN_LABELS = 20
MIN_CLASS = 3
#: Folds of the cross-validation that chooses the calibration method.
CV_FOLDS = 5
METHODS = ("identity", "platt", "isotonic")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1.0 - EPS)
    return np.log(p) - np.log1p(-p)


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy with clipped probabilities."""
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1.0 - EPS)
    y = np.asarray(y, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def _fit_one(method: str, p: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    if method == "platt":
        lr = LogisticRegression(C=1e4, max_iter=1000).fit(_logit(p)[:, None], y)
        a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
        if a < 0:  # never reverse the model's order: the fit constrained to a >= 0 (a constant)
            a, b = 0.0, float(_logit(np.mean(y)))
        return {"method": "platt", "a": a, "b": b}
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
        return {
            "method": "isotonic",
            "x": iso.X_thresholds_.tolist(),
            "y": iso.y_thresholds_.tolist(),
        }
    return {"method": "identity"}


def apply_task(params: dict[str, Any], p: np.ndarray) -> np.ndarray:
    """Calibrated probabilities of one task."""
    p = np.asarray(p, dtype=np.float64)
    method = params.get("method", "identity")
    if method == "platt":
        return 1.0 / (1.0 + np.exp(-(params["a"] * _logit(p) + params["b"])))
    if method == "isotonic":
        return np.interp(p, params["x"], params["y"])
    if method == "identity":
        return p
    raise ValueError(f"unknown calibration method {method!r} (expected one of {METHODS})")


def _cv_losses(p: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
    folds = StratifiedKFold(
        min(CV_FOLDS, int(min(y.sum(), len(y) - y.sum()))), shuffle=True, random_state=seed
    )
    out = {m: np.zeros(len(y)) for m in METHODS}
    for fit_rows, held in folds.split(p, y):
        for m in METHODS:
            out[m][held] = apply_task(_fit_one(m, p[fit_rows], y[fit_rows]), p[held])
    return {m: log_loss(v, y) for m, v in out.items()}


def fit_task(p: np.ndarray, y: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """One task's calibration map, the method chosen by cross-validated log loss on these rows."""
    p, y = np.asarray(p, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n_pos = int(y.sum())
    if len(y) < MIN_LABELS or min(n_pos, len(y) - n_pos) < MIN_CLASS:
        return {
            "method": "identity",
            "reason": f"too few labels ({len(y)} rows, {n_pos} positive)",
            "n": len(y),
        }
    losses = _cv_losses(p, y, seed)
    best = min(METHODS, key=lambda m: (losses[m], METHODS.index(m)))
    return {**_fit_one(best, p, y), "cv_log_loss": losses, "n": len(y)}


def _as_2d(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 2:  # also an empty block [0, T], which reshape(0, -1) cannot infer
        return a
    return a.reshape(len(a), -1)


def _label_mask(labels: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    labelled = np.isfinite(labels)
    return labelled if mask is None else labelled & _as_2d(mask).astype(bool)


def fit_calibration(
    probs: np.ndarray, labels: np.ndarray, mask: np.ndarray | None = None, seed: int = 0
) -> dict[str, Any]:
    """``{"tasks": [task params, ...]}`` from validation ``probs``/``labels`` ``[n, T]`` (NaN label
    or ``mask`` False = not used)."""
    probs, labels = _as_2d(probs), _as_2d(labels)
    use = _label_mask(labels, mask)
    return {
        "tasks": [
            fit_task(probs[use[:, t], t], labels[use[:, t], t], seed) for t in range(probs.shape[1])
        ]
    }


def apply_calibration(params: dict[str, Any] | None, probs: np.ndarray) -> np.ndarray:
    """``probs`` ``[n, T]`` (or ``[n]`` for one task) mapped through each task's calibration."""
    if not params:
        return np.asarray(probs, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    flat = probs.reshape(len(probs), -1)
    tasks = params["tasks"]
    if flat.shape[1] != len(tasks):
        raise ValueError(f"calibration has {len(tasks)} tasks, predictions have {flat.shape[1]}")
    out = (
        np.column_stack([apply_task(tasks[t], flat[:, t]) for t in range(len(tasks))])
        if len(tasks)
        else flat
    )
    return out.reshape(probs.shape)


# ------------------------------------------------------------------------------ shrinkage


def domain_weight(params: dict[str, Any], similarity: np.ndarray) -> np.ndarray:
    """``w(s) = sigmoid(beta * (s - threshold))``: how much of the model's prediction is kept."""
    z = params["beta"] * (np.asarray(similarity, dtype=np.float64) - params["threshold"])
    return 1.0 / (1.0 + np.exp(-z))


def error_crossing(
    p: np.ndarray, y: np.ndarray, s: np.ndarray, pi: np.ndarray
) -> tuple[float, list[float]]:
    """Similarity where the model's expected squared error reaches the prevalence's.

    Least squares of the per-row Brier difference ``(p - y)^2 - (pi - y)^2`` on ``s``:
    ``c0 + c1 s``; the threshold is ``-c0 / c1`` when the model improves with similarity
    (``c1 < 0``), else 0 when it beats the prevalence everywhere (``c0 + c1 / 2 < 0``) and 1 when it
    never does. Clipped to [0, 1]. Returns the threshold and ``[c0, c1]``.
    """
    diff = (p - y) ** 2 - (pi - y) ** 2
    design = np.column_stack([np.ones_like(s), s])
    c0, c1 = np.linalg.lstsq(design, diff, rcond=None)[0]
    if c1 < -1e-12:
        return float(np.clip(-c0 / c1, 0.0, 1.0)), [float(c0), float(c1)]
    return (0.0 if c0 + c1 * float(np.mean(s)) < 0 else 1.0), [float(c0), float(c1)]


def _shrink_nll(
    beta: np.ndarray, p: np.ndarray, y: np.ndarray, s: np.ndarray, pi: np.ndarray, threshold: float
) -> float:
    w = 1.0 / (1.0 + np.exp(-beta[0] * (s - threshold)))
    return log_loss(w * p + (1 - w) * pi, y)


def error_by_similarity(
    p: np.ndarray, y: np.ndarray, s: np.ndarray, pi: np.ndarray, bins: int = 5
) -> list[dict]:
    """Validation evidence for the threshold: per similarity quantile bin, the Brier score of the
    calibrated model and of the training prevalence."""
    edges = np.unique(np.quantile(s, np.linspace(0, 1, bins + 1))) if len(s) else np.array([])
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=False):
        sel = (s >= lo) & ((s <= hi) if hi == edges[-1] else (s < hi))
        if sel.any():
            rows.append(
                {
                    "similarity_lo": float(lo),
                    "similarity_hi": float(hi),
                    "n": int(sel.sum()),
                    "brier_model": float(np.mean((p[sel] - y[sel]) ** 2)),
                    "brier_prevalence": float(np.mean((pi[sel] - y[sel]) ** 2)),
                }
            )
    return rows


#: Upper bound of the shrinkage slope ``beta`` (per unit Tanimoto): at the bound ``w`` goes from
#: 0.12 to 0.88 within +-0.02 of the threshold, i.e. a step. Reached when validation has no rows
#: near the threshold (e.g. one chemical series, all far above it).
MAX_BETA = 100.0


def fit_shrinkage(
    probs: np.ndarray,
    labels: np.ndarray,
    similarity: np.ndarray,
    prevalence: np.ndarray | list[float],
    mask: np.ndarray | None = None,
) -> dict[str, Any]:
    """One shrinkage curve pooled over tasks from (calibrated) validation ``probs`` ``[n, T]``,
    ``labels``, max training similarity ``[n]`` and per-task training ``prevalence`` ``[T]``:
    the threshold by :func:`error_crossing`, then the slope ``beta`` by maximum likelihood."""
    probs, labels = _as_2d(probs), _as_2d(labels)
    prevalence = np.asarray(prevalence, dtype=np.float64).reshape(-1)
    use = _label_mask(labels, mask)
    rows, tasks = np.nonzero(use)
    p, y = probs[rows, tasks], labels[rows, tasks]
    s, pi = np.asarray(similarity, dtype=np.float64)[rows], prevalence[tasks]
    if len(y) < MIN_LABELS or len(np.unique(y)) < 2 or np.ptp(s) <= 0:
        return {
            "beta": 0.0,
            "threshold": 0.0,
            "prevalence": prevalence.tolist(),
            "weight_at_threshold": 0.5,
            "reason": "too few validation labels or similarities: no shrinkage",
            "evidence": [],
        }
    threshold, coef = error_crossing(p, y, s, pi)
    fit = minimize(
        _shrink_nll,
        x0=np.array([10.0]),
        args=(p, y, s, pi, threshold),
        method="L-BFGS-B",
        bounds=[(0.0, MAX_BETA)],
    )
    return {
        "beta": float(fit.x[0]),
        "threshold": threshold,
        "prevalence": prevalence.tolist(),
        "brier_difference_fit": coef,
        "n": int(len(y)),
        "similarity_range": [float(s.min()), float(s.max())],
        "log_loss": {
            "shrunk": float(fit.fun),
            "unshrunk": log_loss(p, y),
            "prevalence": log_loss(pi, y),
        },
        "evidence": error_by_similarity(p, y, s, pi),
    }


def apply_shrinkage(
    params: dict[str, Any] | None, mean: np.ndarray, std: np.ndarray, similarity: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shrunk mean, predictive std and the weight ``w`` ``[n]``.

    Mixture of the model (weight ``w``: mean ``p``, spread ``std``) and an uninformed Bernoulli at
    the prevalence (weight ``1 - w``): mean ``w p + (1 - w) pi``, variance
    ``w std^2 + (1 - w) pi (1 - pi) + w (1 - w) (p - pi)^2``, so far from the training data the
    prediction is both pulled to the prevalence and uncertain.
    """
    mean, std = _as_2d(mean), _as_2d(std)
    if not params:
        return mean, std, np.ones(len(mean))
    w = domain_weight(params, similarity)[:, None]
    pi = np.asarray(params["prevalence"], dtype=np.float64)[None, :]
    shrunk = w * mean + (1 - w) * pi
    var = w * std**2 + (1 - w) * pi * (1 - pi) + w * (1 - w) * (mean - pi) ** 2
    return shrunk, np.sqrt(var), w[:, 0]


def calibrated_moments(
    params: dict[str, Any], member_probs: np.ndarray, similarity: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std ``[n, T]`` of an ensemble from its members' probabilities ``[k, n, T]``.

    The calibration map was fitted on the members' mean, so the mean is ``apply(mean)``; the std
    is the spread of the calibrated members. With ``similarity`` (max Tanimoto to the training set,
    ``[n]``) and a fitted ``shrinkage``, :func:`apply_shrinkage` follows.
    """
    member_probs = np.asarray(member_probs, dtype=np.float64)
    mean = apply_calibration(params.get("map"), member_probs.mean(0))
    std = np.stack([apply_calibration(params.get("map"), m) for m in member_probs]).std(0)
    if similarity is not None and params.get("shrinkage"):
        mean, std, _ = apply_shrinkage(params["shrinkage"], mean, std, similarity)
    return mean, std


# ----------------------------------------------------------------------------- torch (explanations)


def apply_calibration_torch(params: dict[str, Any] | None, probs: torch.Tensor) -> torch.Tensor:
    """:func:`apply_calibration` on a ``[..., T]`` tensor, differentiable (isotonic: piecewise
    linear)."""
    if not params:
        return probs
    cols = []
    for t, task in enumerate(params["tasks"]):
        p = probs[..., t]
        method = task.get("method", "identity")
        if method == "platt":
            q = p.clamp(EPS, 1 - EPS)
            p = torch.sigmoid(task["a"] * (torch.log(q) - torch.log1p(-q)) + task["b"])
        elif method == "isotonic":
            x = torch.as_tensor(task["x"], dtype=p.dtype)
            y = torch.as_tensor(task["y"], dtype=p.dtype)
            p = interp_torch(p, x, y)
        cols.append(p)
    return torch.stack(cols, dim=-1) if cols else probs


def interp_torch(p: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``np.interp`` in torch, differentiable in ``p``: ``y[0]`` below ``x[0]``, ``y[-1]`` from
    ``x[-1]`` on; at tied thresholds inside the range the last of the tied points, as NumPy."""
    if len(x) == 1:
        return torch.full_like(p, float(y[0]))
    pc = p.clamp(float(x[0]), float(x[-1]))
    i = torch.searchsorted(x, pc.detach().contiguous(), right=True).clamp(1, len(x) - 1)
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    span = (x1 - x0).clamp(min=1e-12)
    inside = y0 + (y1 - y0) * (pc - x0) / span
    inside = torch.where(p < x[0], y[0], inside)  # NumPy's left value, also when x[0] is tied
    return torch.where(pc >= x[-1], y[-1], inside)  # NumPy: the last point, also when tied
