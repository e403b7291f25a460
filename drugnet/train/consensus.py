"""The ``consensus`` model: a per-task combination of a dataset's trained models, fitted on validation rows only.

Methods (``COMBINERS``): ``mean`` (average of the models' probabilities / values), ``rank_mean``
(average of each model's percentile against its own validation predictions, mapped back to the
probability scale through the models' validation quantiles; classification only) and ``stacking``
(per-task logistic regression on the models' logits, or ridge regression on their values, fitted
on validation predictions). ``auto`` scores every method by 5-fold cross-fitting inside the
validation rows and keeps the best; test and external labels are never read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold

from drugnet.train.metrics import selection_score

METHODS = ("auto", "mean", "rank_mean", "stacking")
N_QUANTILES = 101
EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


def _quantiles(values: np.ndarray) -> list[float]:
    """``N_QUANTILES`` quantiles of ``values`` (a constant 0.5 grid when there are none)."""
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return [0.5] * N_QUANTILES
    return np.quantile(values, np.linspace(0, 1, N_QUANTILES)).tolist()


def _cdf(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Percentile of ``x`` in a distribution given by quantiles ``q`` (mid-point of flat runs)."""
    grid = np.linspace(0, 1, len(q))
    lo = np.interp(x, q, grid, left=0.0, right=1.0)
    hi = 1.0 - np.interp(-x, -q[::-1], grid, left=0.0, right=1.0)
    return (lo + hi) / 2


def _fit_task(method: str, task: str, P: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Parameters of one task from validation predictions ``P`` ``[M, n]`` and labels ``y`` ``[n]``."""
    if method == "mean":
        return {}
    if method == "rank_mean":
        return {"quantiles": [_quantiles(p) for p in P]}
    return _fit_stacking(task, P, y)


def _fit_stacking(task: str, P: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Logistic (classification, on logits) or ridge (regression) weights; ``{}`` (= mean) when unfittable."""
    mask = ~np.isnan(y)
    X, yt = P[:, mask].T, y[mask]
    if task == "classification":
        if len(np.unique(yt)) < 2:
            return {}
        reg = LogisticRegression(C=1.0, max_iter=1000).fit(_logit(X), yt.astype(int))
    else:
        if len(yt) < 2:
            return {}
        reg = Ridge(alpha=1.0).fit(X, yt)
    return {"coef": np.ravel(reg.coef_).tolist(), "intercept": float(np.ravel(reg.intercept_)[0])}


def _apply_task(method: str, task: str, params: dict[str, Any], P: np.ndarray) -> np.ndarray:
    """Combine ``P`` ``[M, n]`` for one task."""
    if method == "rank_mean" and params:
        qs = [np.asarray(q, float) for q in params["quantiles"]]
        pct = np.mean([_cdf(p, q) for p, q in zip(P, qs)], axis=0)
        grid = np.linspace(0, 1, N_QUANTILES)
        return np.mean([np.interp(pct, grid, q) for q in qs], axis=0)
    if method == "stacking" and params:
        z = (_logit(P) if task == "classification" else P).T @ np.asarray(params["coef"]) + params["intercept"]
        return 1 / (1 + np.exp(-z)) if task == "classification" else z
    return P.mean(0)


@dataclass
class Combiner:
    """A fitted combination rule: ``method`` and one parameter dict per task (plain JSON)."""

    method: str
    task: str
    params: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def fit(cls, method: str, task: str, P: np.ndarray, y: np.ndarray) -> "Combiner":
        """Fit on validation predictions ``P`` ``[M, n, T]`` and labels ``y`` ``[n, T]``."""
        if method == "rank_mean" and task != "classification":
            raise ValueError("consensus method rank_mean is for classification only; use mean or stacking")
        return cls(method, task, [_fit_task(method, task, P[:, :, t], y[:, t]) for t in range(y.shape[1])])

    def combine(self, P: np.ndarray) -> np.ndarray:
        """Combined predictions ``[n, T]`` from model predictions ``P`` ``[M, n, T]``."""
        cols = [_apply_task(self.method, self.task, self.params[t], P[:, :, t]) for t in range(P.shape[2])]
        return np.stack(cols, axis=1).astype(np.float32) if cols else np.zeros(P.shape[1:], np.float32)


def candidate_methods(task: str) -> list[str]:
    return ["mean", "rank_mean", "stacking"] if task == "classification" else ["mean", "stacking"]


def crossfit_score(method: str, task: str, P: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    """Selection score of ``method`` on validation rows, each fold predicted by a rule fitted on the other folds."""
    n = P.shape[1]
    if n < folds:
        return float("nan")
    out = np.zeros(y.shape, np.float32)
    for fit_idx, held in KFold(folds, shuffle=True, random_state=seed).split(np.arange(n)):
        out[held] = Combiner.fit(method, task, P[:, fit_idx], y[fit_idx]).combine(P[:, held])
    return selection_score(task, y, out)


def choose_method(task: str, P: np.ndarray, y: np.ndarray, method: str = "auto") -> tuple[str, dict[str, float]]:
    """The method to use (``auto``: best cross-fitted validation score, ties to the simpler) and every candidate's score."""
    scores = {m: crossfit_score(m, task, P, y) for m in candidate_methods(task)}
    if method != "auto":
        return method, scores
    finite = {m: s for m, s in scores.items() if np.isfinite(s)}
    return (max(finite, key=lambda m: (round(finite[m], 4), -candidate_methods(task).index(m))) if finite else "mean"), scores


@dataclass
class ConsensusModel:
    """Component ensembles and the rule that combines them; the ``Ensemble`` prediction interface.

    ``predict`` returns the combined predictions and, as ``std``, the spread of the components'
    own predictions (how much the models disagree).
    """

    task: str
    targets: list[str]
    models: list[str]
    components: list[Any]
    combiner: Combiner
    feature_settings: dict = field(default_factory=dict)
    target_mean: list[float] | None = None
    target_std: list[float] | None = None
    kind: str = "consensus"
    calibration: dict | None = None  # of the combined probability, fitted on validation (drugnet.train.calibrate)

    @property
    def hparams(self) -> dict[str, Any]:
        return {"kind": "consensus", "method": self.combiner.method, "models": list(self.models)}

    @property
    def members(self) -> list[Any]:
        return [m for c in self.components for m in c.members]

    @property
    def member_info(self) -> list[dict]:
        return [{"model": name, **info} for name, c in zip(self.models, self.components) for info in c.member_info]

    @property
    def use_descriptors(self) -> bool:
        return any(c.use_descriptors and c.kind != "rf_ecfp" for c in self.components)

    def predict_members(self, store: Any, indices: np.ndarray | None = None, device: str = "auto", batch_size: int = 1024) -> np.ndarray:
        """Each component's ensemble mean, ``[M, n, T]``."""
        return np.stack([c.predict(store, indices, device, batch_size)[0] for c in self.components])

    def predict(
        self, store: Any, indices: np.ndarray | None = None, device: str = "auto", batch_size: int = 1024,
        similarity: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Combined prediction (calibrated, and shrunk by ``similarity`` when given, like ``Ensemble``)."""
        P = self.predict_members(store, indices, device, batch_size)
        mean, std = self.combiner.combine(P), P.std(0)
        if not self.calibration:
            return mean, std
        from drugnet.train.calibration import apply_calibration, apply_shrinkage

        mean = apply_calibration(self.calibration.get("map"), mean)
        if similarity is not None and self.calibration.get("shrinkage"):
            mean, std, _ = apply_shrinkage(self.calibration["shrinkage"], mean, std, similarity)
        return mean, std


def validation_predictions(dataset_dir: Any, models: list[str], threads: int | None = None, device: str = "auto"):
    """``(components, P [M, n_val, T], y_val [n_val, T])`` from the selection fits of ``models``; the only labels read are validation labels."""
    from pathlib import Path

    from drugnet.train.checkpoint import load_model_dir
    from drugnet.train.data import load_dataset

    components = [load_model_dir(Path(dataset_dir) / "models" / m, threads=threads, fit="selection") for m in models]
    _check_components(models, components)
    data = load_dataset(dataset_dir, components[0].targets)
    val = data.indices("val")
    P = np.stack([c.predict(data.store, val, device)[0] for c in components])
    return components, P, data.y[val]


def _check_components(models: list[str], components: list[Any]) -> None:
    if not components:
        raise ValueError("consensus: no models to combine (model.models lists only consensus?)")
    for name, c in zip(models, components):
        if c.kind == "consensus":
            raise ValueError(f"consensus: model {name!r} is itself a consensus")
        if c.targets != components[0].targets or c.task != components[0].task:
            raise ValueError(f"consensus: model {name!r} has targets/task {c.targets}/{c.task}, "
                             f"{models[0]!r} has {components[0].targets}/{components[0].task}")


def fit_consensus(dataset_dir: Any, models: list[str], method: str = "auto", threads: int | None = None,
                  device: str = "auto") -> tuple[ConsensusModel, dict[str, Any]]:
    """Fit the combination on validation predictions of the models' selection fits; returns the model
    and its evidence (every candidate's cross-fitted validation score, the chosen one's ``val_score``)."""
    if method not in METHODS:
        raise ValueError(f"consensus method must be one of {METHODS}, got {method!r}")
    components, P, y = validation_predictions(dataset_dir, models, threads, device)
    task = components[0].task
    chosen, scores = choose_method(task, P, y, method)
    combiner = Combiner.fit(chosen, task, P, y)
    model = ConsensusModel(task, list(components[0].targets), list(models), components, combiner,
                           components[0].feature_settings, components[0].target_mean, components[0].target_std)
    per_model = {m: selection_score(task, y, p) for m, p in zip(models, P)}
    evidence = {"requested_method": method, "crossfit_val_scores": scores, "val_score": scores.get(chosen),
                "model_val_scores": per_model, "n_val": int(len(y))}
    return model, evidence


def save_consensus(model: ConsensusModel, evidence: dict[str, Any], path: Any) -> None:
    """Write ``model.json`` (no weights: the components are the sibling directories it names)."""
    import json
    from pathlib import Path

    from drugnet.io.atomic import atomic_path
    from drugnet.train.checkpoint import FORMAT_VERSION, _clean

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    meta = {"format_version": FORMAT_VERSION, "kind": "consensus", "task": model.task, "targets": model.targets,
            "hparams": model.hparams, "method": model.combiner.method, "models": model.models,
            "params": model.combiner.params, "feature_settings": model.feature_settings,
            "target_mean": model.target_mean, "target_std": model.target_std, "members": [], "ensemble_size": 0,
            **evidence}
    if model.calibration is not None:
        meta["calibration"] = model.calibration
    with atomic_path(path / "model.json") as tmp:
        Path(tmp).write_text(json.dumps(_clean(meta), indent=2))


def _check_component_names(path: Any, names: Any) -> None:
    """Refuse component names that could leave the parent folder or nest consensus models."""
    from drugnet.train.checkpoint import KINDS, ModelDirError

    allowed = [k for k in KINDS if k != "consensus"]
    if not isinstance(names, list) or not names or any(n not in allowed for n in names):
        raise ModelDirError(f"{path}/model.json: 'models' must be a non-empty list of {allowed}, got {names!r}")


def load_consensus(path: Any, meta: dict[str, Any], threads: int | None = None, fit: str = "final") -> ConsensusModel:
    """Rebuild a consensus from its ``model.json`` and the sibling model directories it names."""
    from pathlib import Path

    from drugnet.train.checkpoint import load_model_dir

    root = Path(path).parent
    _check_component_names(path, meta.get("models"))
    missing = [m for m in meta["models"] if not (root / m / "model.json").exists()]
    if missing:
        raise FileNotFoundError(f"{path}: the consensus combines {meta['models']}, but {missing} have no model.json under {root}")
    components = [load_model_dir(root / m, threads=threads, fit=fit) for m in meta["models"]]
    _check_components(meta["models"], components)
    combiner = Combiner(meta["method"], meta["task"], meta["params"])
    return ConsensusModel(meta["task"], list(meta["targets"]), list(meta["models"]), components, combiner,
                          meta.get("feature_settings") or {}, meta.get("target_mean"), meta.get("target_std"),
                          calibration=meta.get("calibration"))
