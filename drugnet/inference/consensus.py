"""The ``consensus`` model: component ensembles and the per-task rule that combines them.

Combination rules (``Combiner``): ``mean``, ``rank_mean`` (percentiles against each model's
validation predictions, mapped back through their quantiles; classification only) and ``stacking``
(logistic or ridge regression on the models' validation predictions, no weight negative).
Choosing and fitting one is ``drugnet.train.consensus``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression, Ridge

from drugnet.inference.calibration import apply_calibration, apply_shrinkage, interp_torch

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
    """Parameters of one task from validation predictions ``P`` ``[M, n]`` and labels ``y``
    ``[n]``."""
    if method == "mean":
        return {}
    if method == "rank_mean":
        return {"quantiles": [_quantiles(p) for p in P]}
    return _fit_stacking(task, P, y)


def _fit_stacking(task: str, P: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Logistic (classification, on logits) or ridge (regression) weights, none negative; ``{}``
    (= mean) when unfittable or when no model keeps a positive weight.

    The models predict the same target, so a negative weight only fits noise of the validation
    rows (on a validation split with a single active it inverted a consensus of three good
    models: docs/models.md#consensus). As in Breiman's non-negative stacking, a model whose weight
    comes out negative is left out and the others are refitted until every weight is positive
    (a dropped model weighs 0).
    """
    mask = ~np.isnan(y)
    X, yt = P[:, mask].T, y[mask]
    if task == "classification":
        if len(np.unique(yt)) < 2:
            return {}
        X = _logit(X)
    elif len(yt) < 2:
        return {}
    kept = np.arange(X.shape[1])
    while len(kept):
        reg = (
            LogisticRegression(C=1.0, max_iter=1000).fit(X[:, kept], yt.astype(int))
            if task == "classification"
            else Ridge(alpha=1.0).fit(X[:, kept], yt)
        )
        coef = np.ravel(reg.coef_)
        if (coef > 0).all():
            full = np.zeros(X.shape[1])
            full[kept] = coef
            return {"coef": full.tolist(), "intercept": float(np.ravel(reg.intercept_)[0])}
        kept = kept[coef > 0]
    return {}


def _apply_task(method: str, task: str, params: dict[str, Any], P: np.ndarray) -> np.ndarray:
    """Combine ``P`` ``[M, n]`` for one task."""
    if method == "rank_mean" and params:
        qs = [np.asarray(q, float) for q in params["quantiles"]]
        pct = np.mean([_cdf(p, q) for p, q in zip(P, qs, strict=False)], axis=0)
        grid = np.linspace(0, 1, N_QUANTILES)
        return np.mean([np.interp(pct, grid, q) for q in qs], axis=0)
    if method == "stacking" and params:
        z = (_logit(P) if task == "classification" else P).T @ np.asarray(params["coef"]) + params[
            "intercept"
        ]
        return 1 / (1 + np.exp(-z)) if task == "classification" else z
    return P.mean(0)


def _cdf_torch(x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """:func:`_cdf` in torch (the grid runs from 0 to 1, so ``interp_torch``'s constant ends are
    ``np.interp``'s ``left=0, right=1``)."""
    grid = torch.linspace(0, 1, len(q), dtype=x.dtype)
    lo = interp_torch(x, q, grid)
    hi = 1.0 - interp_torch(-x, -q.flip(0), grid)
    return (lo + hi) / 2


def _apply_task_torch(
    method: str, task: str, params: dict[str, Any], P: torch.Tensor
) -> torch.Tensor:
    """:func:`_apply_task` in torch, differentiable in ``P`` ``[M, n]`` (integrated gradients of
    a consensus, ``drugnet.screening.explain``)."""
    if method == "rank_mean" and params:
        qs = [torch.as_tensor(q, dtype=P.dtype) for q in params["quantiles"]]
        pct = torch.stack([_cdf_torch(p, q) for p, q in zip(P, qs, strict=False)]).mean(0)
        grid = torch.linspace(0, 1, N_QUANTILES, dtype=P.dtype)
        return torch.stack([interp_torch(pct, grid, q) for q in qs]).mean(0)
    if method == "stacking" and params:
        coef = torch.as_tensor(params["coef"], dtype=P.dtype)
        if task != "classification":
            return P.T @ coef + params["intercept"]
        q = P.clamp(EPS, 1 - EPS)
        return torch.sigmoid((torch.log(q) - torch.log1p(-q)).T @ coef + params["intercept"])
    return P.mean(0)


@dataclass
class Combiner:
    """A fitted combination rule: ``method`` and one parameter dict per task (plain JSON)."""

    method: str
    task: str
    params: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def fit(cls, method: str, task: str, P: np.ndarray, y: np.ndarray) -> Combiner:
        """Fit on validation predictions ``P`` ``[M, n, T]`` and labels ``y`` ``[n, T]``."""
        if method == "rank_mean" and task != "classification":
            raise ValueError(
                "consensus method rank_mean is for classification only; use mean or stacking"
            )
        return cls(
            method, task, [_fit_task(method, task, P[:, :, t], y[:, t]) for t in range(y.shape[1])]
        )

    def combine_torch(self, P: torch.Tensor) -> torch.Tensor:
        """:meth:`combine` in torch: ``[n, T]`` from ``P`` ``[M, n, T]``, differentiable in
        ``P``."""
        cols = [
            _apply_task_torch(self.method, self.task, self.params[t], P[:, :, t])
            for t in range(P.shape[2])
        ]
        return torch.stack(cols, dim=1) if cols else P.mean(0)

    def combine(self, P: np.ndarray) -> np.ndarray:
        """Combined predictions ``[n, T]`` from model predictions ``P`` ``[M, n, T]``."""
        cols = [
            _apply_task(self.method, self.task, self.params[t], P[:, :, t])
            for t in range(P.shape[2])
        ]
        return (
            np.stack(cols, axis=1).astype(np.float32) if cols else np.zeros(P.shape[1:], np.float32)
        )


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
    calibration: dict | None = (
        None  # of the combined probability, fitted on validation (drugnet.train.calibration_fit)
    )

    @property
    def hparams(self) -> dict[str, Any]:
        return {"kind": "consensus", "method": self.combiner.method, "models": list(self.models)}

    @property
    def members(self) -> list[Any]:
        return [m for c in self.components for m in c.members]

    @property
    def member_info(self) -> list[dict]:
        return [
            {"model": name, **info}
            for name, c in zip(self.models, self.components, strict=False)
            for info in c.member_info
        ]

    @property
    def use_descriptors(self) -> bool:
        return any(c.use_descriptors and c.kind != "rf_ecfp" for c in self.components)

    def predict_members(
        self,
        store: Any,
        indices: np.ndarray | None = None,
        device: str = "auto",
        batch_size: int = 1024,
    ) -> np.ndarray:
        """Each component's ensemble mean, ``[M, n, T]``."""
        return np.stack([c.predict(store, indices, device, batch_size)[0] for c in self.components])

    def predict(
        self,
        store: Any,
        indices: np.ndarray | None = None,
        device: str = "auto",
        batch_size: int = 1024,
        similarity: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Combined prediction (calibrated, and shrunk by ``similarity`` when given, like
        ``Ensemble``)."""
        P = self.predict_members(store, indices, device, batch_size)
        mean, std = self.combiner.combine(P), P.std(0)
        if not self.calibration:
            return mean, std
        mean = apply_calibration(self.calibration.get("map"), mean)
        if similarity is not None and self.calibration.get("shrinkage"):
            mean, std, _ = apply_shrinkage(self.calibration["shrinkage"], mean, std, similarity)
        return mean, std


def check_components(models: list[str], components: list[Any]) -> None:
    if not components:
        raise ValueError("consensus: no models to combine (model.models lists only consensus?)")
    for name, c in zip(models, components, strict=False):
        if c.kind == "consensus":
            raise ValueError(f"consensus: model {name!r} is itself a consensus")
        if c.targets != components[0].targets or c.task != components[0].task:
            raise ValueError(
                f"consensus: model {name!r} has targets/task {c.targets}/{c.task}, "
                f"{models[0]!r} has {components[0].targets}/{components[0].task}"
            )
