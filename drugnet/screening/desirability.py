"""Objectives -> per-column desirabilities in [0, 1] -> one ranking ``score`` (see
docs/screening.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from drugnet.config import schema_default
from drugnet.screening.properties import PROPERTIES, window_desirability

#: Desirabilities are clipped to ``[D_FLOOR, 1]`` before the weighted geometric mean so that a
#: single zero cannot turn ``log`` into ``-inf`` (the score stays ordered by the other objectives).
D_FLOOR = 1e-6

#: Campaign ``ranking`` modes (docs/screening.md) and the default.
RANKINGS = ("expected", "lcb", "mean")
DEFAULT_RANKING: str = schema_default("campaigns.*.ranking")
#: ``lcb``: standard deviations subtracted from each desirability.
LCB_Z = 1.0


@dataclass(frozen=True)
class TaskInfo:
    """What the scorer needs to know about one dataset's model (read from ``model.json``).

    ``task_type`` is ``"classification"`` (predictions are probabilities) or ``"regression"``
    (predictions in target units; ``target_mean``/``target_std`` are the training statistics).
    """

    task_type: str
    targets: tuple[str, ...]
    target_mean: Mapping[str, float] = field(default_factory=dict)
    target_std: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ObjectiveColumn:
    """One prediction column of a campaign: ``column`` is ``<dataset>.<target>``."""

    column: str
    dataset: str
    target: str
    direction: str
    weight: float
    task_type: str
    mean: float = 0.0
    std: float = 1.0
    kind: str = "model"  # or "property" (computed, no uncertainty)
    window: tuple[float | None, float | None] | None = None
    tolerance: float = 1.0


def objective_column_name(dataset: str, target: str) -> str:
    """Name of the prediction column for ``target`` of ``dataset`` (``<dataset>.<target>``)."""
    return f"{dataset}.{target}"


def property_objective(objective: Mapping[str, Any]) -> ObjectiveColumn:
    """The column of a ``{property: name, window: [lo, hi], tolerance, weight}`` objective."""
    name = objective["property"]
    if name not in PROPERTIES:
        raise ValueError(f"objective property must be one of {sorted(PROPERTIES)}, got {name!r}")
    window = objective.get("window")
    if not isinstance(window, (list, tuple)) or len(window) != 2 or all(v is None for v in window):
        raise ValueError(
            f"objective property {name}: window must be [lo, hi] (one may be null), got {window!r}"
        )
    lo, hi = (None if v is None else float(v) for v in window)
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(
            f"objective property {name}: window [lo, hi] needs lo <= hi, got {window!r}"
        )
    tolerance = float(objective.get("tolerance", PROPERTIES[name].tolerance))
    if tolerance <= 0:
        raise ValueError(f"objective property {name}: tolerance must be > 0, got {tolerance}")
    return ObjectiveColumn(
        column=PROPERTIES[name].column,
        dataset="",
        target=name,
        direction="window",
        weight=float(objective.get("weight", 1.0)),
        task_type="property",
        kind="property",
        window=(lo, hi),
        tolerance=tolerance,
    )


def expand_objectives(
    objectives: Sequence[Mapping[str, Any]], task_info: Mapping[str, TaskInfo]
) -> list[ObjectiveColumn]:
    """One :class:`ObjectiveColumn` per task or property; ``target: all`` splits the weight evenly
    over tasks."""
    columns: list[ObjectiveColumn] = []
    for objective in objectives:
        if "property" in objective:
            columns.append(property_objective(objective))
            continue
        dataset = objective["dataset"]
        info = task_info[dataset]
        direction = objective.get("direction", "maximize")
        if direction not in ("maximize", "minimize"):
            raise ValueError(f"direction must be maximize or minimize, got {direction!r}")
        target = objective["target"]
        targets = list(info.targets) if target == "all" else [target]
        for t in targets:
            if t not in info.targets:
                raise ValueError(f"{dataset} has no target {t!r} (targets: {list(info.targets)})")
        weight = float(objective.get("weight", 1.0)) / len(targets)
        for t in targets:
            columns.append(
                ObjectiveColumn(
                    column=objective_column_name(dataset, t),
                    dataset=dataset,
                    target=t,
                    direction=direction,
                    weight=weight,
                    task_type=info.task_type,
                    mean=float(info.target_mean.get(t, 0.0)),
                    std=float(info.target_std.get(t, 1.0)) or 1.0,
                )
            )
    return columns


def model_columns(columns: Sequence[ObjectiveColumn]) -> list[ObjectiveColumn]:
    """The objective columns predicted by a model (not computed properties)."""
    return [c for c in columns if c.kind == "model"]


def property_names(columns: Sequence[ObjectiveColumn]) -> list[str]:
    """Config names of the property objectives, in order, without repeats."""
    return list(dict.fromkeys(c.target for c in columns if c.kind == "property"))


def to_probability(values: np.ndarray, column: ObjectiveColumn) -> np.ndarray:
    """Map predictions to [0, 1]: probabilities as is, regression via
    ``sigmoid((y - mean) / std)``."""
    values = np.asarray(values, dtype=np.float64)
    if column.task_type == "classification":
        return np.clip(values, 0.0, 1.0)
    z = (values - column.mean) / column.std
    return 1.0 / (1.0 + np.exp(-z))


def desirability(values: np.ndarray, column: ObjectiveColumn) -> np.ndarray:
    """``p`` for maximize, ``1 - p`` for minimize (``p`` from :func:`to_probability`); a property's
    window desirability."""
    if column.kind == "property":
        if column.window is None:
            raise ValueError(f"property column {column.column} has no window")
        return window_desirability(values, column.window, column.tolerance)
    p = to_probability(values, column)
    return p if column.direction == "maximize" else 1.0 - p


def desirability_std(
    values: np.ndarray, std: np.ndarray | None, column: ObjectiveColumn
) -> np.ndarray:
    """Standard deviation of the desirability: the probability's std (classification), the
    delta-method ``p (1 - p) std / target_std`` (regression), 0 for properties or without std."""
    values = np.asarray(values, dtype=np.float64)
    if std is None or column.kind == "property":
        return np.zeros_like(values)
    std = np.nan_to_num(np.asarray(std, dtype=np.float64), nan=0.0)
    if column.task_type == "classification":
        return std
    p = to_probability(values, column)
    return p * (1 - p) * std / column.std


def _log_term(d: torch.Tensor, sd: torch.Tensor, k: float, ranking: str) -> torch.Tensor:
    """``ln`` of one objective's factor in the score (exponent ``k = w / sum w``)."""
    d = d.clamp(D_FLOOR, 1.0)
    if ranking == "mean":
        return k * torch.log(d)
    if ranking == "lcb":
        return k * torch.log((d - LCB_Z * sd).clamp(D_FLOOR, 1.0))
    if ranking != "expected":
        raise ValueError(f"ranking must be one of {RANKINGS}, got {ranking!r}")
    m = d.clamp(D_FLOOR, 1.0 - D_FLOOR)
    var = (sd**2).clamp(min=0.0)
    certain = var <= 1e-12
    kappa = (m * (1 - m) / var.clamp(min=1e-12) - 1.0).clamp(min=1e-6)
    a, b = m * kappa, (1 - m) * kappa
    expected = torch.lgamma(a + k) - torch.lgamma(a) + torch.lgamma(a + b) - torch.lgamma(a + b + k)
    return torch.where(
        certain,
        k * torch.log(d),
        torch.maximum(expected, k * torch.log(torch.full_like(d, D_FLOOR))),
    )


def score_torch(
    d: Sequence[torch.Tensor],
    sd: Sequence[torch.Tensor],
    columns: Sequence[ObjectiveColumn],
    ranking: str = DEFAULT_RANKING,
) -> torch.Tensor:
    """The campaign score from per-column desirabilities ``d`` and their stds ``sd`` (tensors of one
    shape); differentiable (the explanations use it). Columns are added one by one (no matrix
    product), so each row's value does not depend on the other rows."""
    weights = [float(c.weight) for c in columns]
    total = sum(weights)
    if any(w < 0 for w in weights) or total <= 0:
        raise ValueError("objective weights must be >= 0 with a positive sum")
    log_s = torch.zeros_like(d[0])
    for d_i, sd_i, w in zip(d, sd, weights, strict=False):
        log_s = log_s + _log_term(d_i, sd_i, w / total, ranking)
    return torch.exp(log_s)


def combined_score(
    pred_df: pd.DataFrame, columns: Sequence[ObjectiveColumn], ranking: str = DEFAULT_RANKING
) -> np.ndarray:
    """The campaign ``score`` (docs/screening.md): ``mean`` is the weighted geometric mean
    ``exp(sum w_i ln d_i / sum w_i)`` of the clipped desirabilities; ``lcb`` uses ``d_i - sd_i``;
    ``expected`` is ``prod_i E[d_i^(w_i / sum w)]`` with ``d_i ~ Beta`` of mean ``d_i`` and std
    ``sd_i`` (the ``<column>.std`` of the predictions)."""
    if not columns:
        raise ValueError("a campaign needs at least one objective")
    missing = [c.column for c in columns if c.column not in pred_df.columns]
    if missing:
        raise KeyError(f"prediction columns missing: {missing}")
    d, sd = [], []
    for c in columns:
        values = pred_df[c.column].to_numpy()
        std = (
            pred_df[f"{c.column}.std"].to_numpy() if f"{c.column}.std" in pred_df.columns else None
        )
        d.append(torch.as_tensor(desirability(values, c), dtype=torch.float64))
        sd.append(torch.as_tensor(desirability_std(values, std, c), dtype=torch.float64))
    if not len(pred_df):
        return np.zeros(0)
    return score_torch(d, sd, columns, ranking).numpy()


def rank_frame(
    pred_df: pd.DataFrame,
    objectives: Sequence[Mapping[str, Any]],
    task_info: Mapping[str, TaskInfo],
    ranking: str = DEFAULT_RANKING,
) -> pd.DataFrame:
    """Add ``score`` and 1-based ``rank`` (score descending, ties by ``id`` ascending; NaN last).

    Returns a new frame sorted by rank with ``rank`` first and ``score`` after ``id``.
    """
    columns = expand_objectives(objectives, task_info)
    out = pred_df.copy()
    out["score"] = combined_score(out, columns, ranking)
    out["_id_key"] = out["id"].astype(str)
    out = out.sort_values(
        ["score", "_id_key"], ascending=[False, True], na_position="last", kind="mergesort"
    ).drop(columns="_id_key")
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype=np.int64))
    order = ["rank", "id", "score"] + [c for c in out.columns if c not in ("rank", "id", "score")]
    return out[order].reset_index(drop=True)
