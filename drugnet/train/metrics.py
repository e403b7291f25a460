"""Per-task and mean metrics on ``[n, T]`` arrays with NaN = missing label (sklearn underneath)."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

CLASSIFICATION_METRICS = ("roc_auc", "pr_auc", "ece", "brier")
#: Equal-width probability bins of the expected calibration error.
ECE_BINS = 10
REGRESSION_METRICS = ("rmse", "mae", "r2")


def _per_task(y_true: np.ndarray, y_pred: np.ndarray, fn, need_both_classes: bool) -> np.ndarray:
    y_true = np.asarray(y_true, dtype=float).reshape(len(y_true), -1)
    y_pred = np.asarray(y_pred, dtype=float).reshape(len(y_pred), -1)
    out = np.full(y_true.shape[1], np.nan)
    for t in range(y_true.shape[1]):
        mask = ~np.isnan(y_true[:, t])
        yt = y_true[mask, t]
        if len(yt) == 0 or (need_both_classes and len(np.unique(yt)) < 2):
            continue
        if not need_both_classes and len(yt) < 2:
            continue
        out[t] = fn(yt, y_pred[mask, t])
    return out


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> np.ndarray:
    """ROC-AUC per task, NaN where a task lacks either class."""
    return _per_task(y_true, y_score, roc_auc_score, True)


def pr_auc(y_true: np.ndarray, y_score: np.ndarray) -> np.ndarray:
    """Average precision per task, NaN where a task lacks either class."""
    return _per_task(y_true, y_score, average_precision_score, True)


def _ece(y: np.ndarray, p: np.ndarray) -> float:
    bins = np.minimum((np.clip(p, 0.0, 1.0) * ECE_BINS).astype(int), ECE_BINS - 1)
    gap = 0.0
    for b in np.unique(bins):
        sel = bins == b
        gap += sel.sum() * abs(p[sel].mean() - y[sel].mean())
    return float(gap / len(y))


def ece(y_true: np.ndarray, y_prob: np.ndarray) -> np.ndarray:
    """Expected calibration error per task: ``sum_b n_b / n * |mean p - fraction positive|`` over
    :data:`ECE_BINS` equal-width probability bins (labelled rows; NaN without labels)."""
    return _per_task(y_true, y_prob, _ece, False)


def brier(y_true: np.ndarray, y_prob: np.ndarray) -> np.ndarray:
    """Brier score (mean squared error of the probability) per task on labelled rows."""
    return _per_task(y_true, y_prob, lambda a, b: float(np.mean((b - a) ** 2)), False)


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Root mean squared error per task on labelled rows."""
    return _per_task(y_true, y_pred, lambda a, b: math.sqrt(mean_squared_error(a, b)), False)


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Mean absolute error per task on labelled rows."""
    return _per_task(y_true, y_pred, mean_absolute_error, False)


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Coefficient of determination per task on labelled rows."""
    return _per_task(y_true, y_pred, r2_score, False)


_FUNCTIONS = {
    "roc_auc": roc_auc,
    "pr_auc": pr_auc,
    "ece": ece,
    "brier": brier,
    "rmse": rmse,
    "mae": mae,
    "r2": r2,
}


def _json_float(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def score(task: str, y_true: np.ndarray, y_pred: np.ndarray, targets: list[str]) -> dict:
    """``{"mean": {metric: v}, "per_task": {target: {metric: v}}}``; undefined values are None.

    The mean is over the tasks where the metric is defined.
    """
    names = CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS
    values = {name: _FUNCTIONS[name](y_true, y_pred) for name in names}
    mean = {}
    for name, v in values.items():
        mean[name] = _json_float(float(np.nanmean(v))) if np.isfinite(v).any() else None
    per_task = {
        t: {name: _json_float(values[name][i]) for name in names} for i, t in enumerate(targets)
    }
    return {"mean": mean, "per_task": per_task}


def selection_score(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Early-stopping score, higher is better: mean ROC-AUC or -mean RMSE (NaN if undefined)."""
    v = roc_auc(y_true, y_pred) if task == "classification" else -rmse(y_true, y_pred)
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
