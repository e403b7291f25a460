"""Virtual-screening enrichment of a scored library with known labels, and its baselines."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rdkit.ML.Scoring.Scoring import CalcBEDROC
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import average_precision_score, roc_auc_score

from drugnet.features.tanimoto import max_tanimoto


def _ranked_labels(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Labels ordered by score descending; equal scores keep their input order (stable)."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    return np.asarray(labels)[order]


def enrichment_factor(scores: np.ndarray, labels: np.ndarray, fraction: float) -> float:
    """EF at ``fraction``: (actives in the top ``ceil(fraction * n)`` / that count) / (actives / n).

    NaN when there are no actives.
    """
    labels = np.asarray(labels, dtype=bool)
    n, n_actives = len(labels), int(labels.sum())
    if n == 0 or n_actives == 0:
        return float("nan")
    n_top = max(1, math.ceil(fraction * n))
    top_actives = int(_ranked_labels(scores, labels)[:n_top].sum())
    return (top_actives / n_top) / (n_actives / n)


def bedroc(scores: np.ndarray, labels: np.ndarray, alpha: float = 20.0) -> float:
    """BEDROC (Truchon & Bayly 2007) via ``rdkit.ML.Scoring.Scoring.CalcBEDROC``."""
    ranked = _ranked_labels(scores, np.asarray(labels, dtype=bool))
    if not ranked.any():
        return float("nan")
    return float(CalcBEDROC([[bool(v)] for v in ranked], 0, alpha))


def enrichment_metrics(scores: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """ROC-AUC, PR-AUC (average precision), EF 1% / 5%, BEDROC(alpha=20), n, n_actives.

    Rows with a missing label or score are ignored; metrics that are undefined (one class
    only) are ``None``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    ok = ~(np.isnan(scores) | np.isnan(labels))
    scores, y = scores[ok], labels[ok].astype(bool)
    n, n_actives = len(y), int(y.sum())
    both = 0 < n_actives < n

    def clean(value: float) -> float | None:
        return None if value is None or not np.isfinite(value) else float(value)

    return {
        "roc_auc": clean(roc_auc_score(y, scores)) if both else None,
        "pr_auc": clean(average_precision_score(y, scores)) if both else None,
        "ef_1": clean(enrichment_factor(scores, y, 0.01)) if n_actives else None,
        "ef_5": clean(enrichment_factor(scores, y, 0.05)) if n_actives else None,
        "bedroc_20": clean(bedroc(scores, y, 20.0)) if n_actives else None,
        "n": n,
        "n_actives": n_actives,
    }


def similarity_baseline_scores(
    query_fps: np.ndarray, train_fps: np.ndarray, train_labels: np.ndarray
) -> np.ndarray:
    """Max Tanimoto of each query to the training actives (packed ECFP4; 0 without actives)."""
    actives = np.asarray(train_labels, dtype=np.float64) == 1
    return max_tanimoto(query_fps, train_fps[actives])[0]


def rf_ecfp_scores(
    query_fps: np.ndarray, train_fps: np.ndarray, train_labels: np.ndarray, seed: int = 0
) -> np.ndarray:
    """Active probability from a random forest on ECFP4 bits fitted on the labelled training
    rows."""
    labels = np.asarray(train_labels, dtype=np.float64)
    ok = ~np.isnan(labels)
    y = labels[ok].astype(int)
    if len(np.unique(y)) < 2:
        return np.full(len(query_fps), float(y.mean()) if len(y) else np.nan)
    x = np.unpackbits(np.ascontiguousarray(train_fps[ok]).view(np.uint8), axis=1)
    forest = RandomForestClassifier(
        n_estimators=200, min_samples_leaf=1, n_jobs=1, random_state=seed
    )
    forest.fit(x, y)
    xq = np.unpackbits(np.ascontiguousarray(query_fps).view(np.uint8), axis=1)
    return forest.predict_proba(xq)[:, 1]
