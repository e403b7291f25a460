"""Fitting the ``consensus`` model: choosing and fitting a per-task combination of a dataset's
trained models, fitted on validation rows only.

Methods (``COMBINERS``): ``mean`` (average of the models' probabilities / values), ``rank_mean``
(average of each model's percentile against its own validation predictions, mapped back to the
probability scale through the models' validation quantiles; classification only) and ``stacking``
(per-task logistic regression on the models' logits, or ridge regression on their values, fitted
on validation predictions). ``auto`` scores every method by 5-fold cross-fitting inside the
validation rows and keeps the best; test and external labels are never read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import KFold

from drugnet.features.dataset import load_dataset
from drugnet.inference.checkpoint import load_model_dir
from drugnet.inference.consensus import Combiner, ConsensusModel, check_components
from drugnet.train.metrics import selection_score

METHODS = ("auto", "mean", "rank_mean", "stacking")


def candidate_methods(task: str) -> list[str]:
    return ["mean", "rank_mean", "stacking"] if task == "classification" else ["mean", "stacking"]


def crossfit_score(
    method: str, task: str, P: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0
) -> float:
    """Selection score of ``method`` on validation rows, each fold predicted by a rule fitted on the
    other folds."""
    n = P.shape[1]
    if n < folds:
        return float("nan")
    out = np.zeros(y.shape, np.float32)
    for fit_idx, held in KFold(folds, shuffle=True, random_state=seed).split(np.arange(n)):
        out[held] = Combiner.fit(method, task, P[:, fit_idx], y[fit_idx]).combine(P[:, held])
    return selection_score(task, y, out)


def choose_method(
    task: str, P: np.ndarray, y: np.ndarray, method: str = "auto"
) -> tuple[str, dict[str, float]]:
    """The method to use (``auto``: best cross-fitted validation score, ties to the simpler) and
    every candidate's score."""
    scores = {m: crossfit_score(m, task, P, y) for m in candidate_methods(task)}
    if method != "auto":
        return method, scores
    finite = {m: s for m, s in scores.items() if np.isfinite(s)}
    return (
        max(finite, key=lambda m: (round(finite[m], 4), -candidate_methods(task).index(m)))
        if finite
        else "mean"
    ), scores


def validation_predictions(
    dataset_dir: Any, models: list[str], threads: int | None = None, device: str = "auto"
):
    """``(components, P [M, n_val, T], y_val [n_val, T])`` from the selection fits of ``models``;
    the only labels read are validation labels."""
    components = [
        load_model_dir(Path(dataset_dir) / "models" / m, threads=threads, fit="selection")
        for m in models
    ]
    check_components(models, components)
    data = load_dataset(dataset_dir, components[0].targets)
    val = data.indices("val")
    P = np.stack([c.predict(data.store, val, device)[0] for c in components])
    return components, P, data.y[val]


def consensus_from_predictions(
    components: list, models: list[str], P: np.ndarray, y: np.ndarray, method: str = "auto"
) -> tuple[ConsensusModel, dict[str, Any]]:
    """The consensus of fitted ``components`` (named ``models``) from their validation predictions
    ``P [M, n_val, T]`` and labels ``y``; returns the model and its evidence (every candidate's
    cross-fitted validation score, the chosen one's ``val_score``)."""
    if method not in METHODS:
        raise ValueError(f"consensus method must be one of {METHODS}, got {method!r}")
    task = components[0].task
    chosen, scores = choose_method(task, P, y, method)
    model = ConsensusModel(
        task,
        list(components[0].targets),
        list(models),
        components,
        Combiner.fit(chosen, task, P, y),
        components[0].feature_settings,
        components[0].target_mean,
        components[0].target_std,
    )
    per_model = {m: selection_score(task, y, p) for m, p in zip(models, P, strict=True)}
    evidence = {
        "requested_method": method,
        "crossfit_val_scores": scores,
        "val_score": scores.get(chosen),
        "model_val_scores": per_model,
        "n_val": int(len(y)),
    }
    return model, evidence


def fit_consensus(
    dataset_dir: Any,
    models: list[str],
    method: str = "auto",
    threads: int | None = None,
    device: str = "auto",
) -> tuple[ConsensusModel, dict[str, Any]]:
    """Fit the combination on validation predictions of the models' selection fits
    (``consensus_from_predictions``)."""
    if method not in METHODS:
        raise ValueError(f"consensus method must be one of {METHODS}, got {method!r}")
    components, P, y = validation_predictions(dataset_dir, models, threads, device)
    return consensus_from_predictions(components, models, P, y, method)
