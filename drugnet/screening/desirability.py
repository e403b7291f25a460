"""Objectives -> per-column desirabilities in [0, 1] -> one ranking ``score`` (see docs/screening.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

#: Desirabilities are clipped to ``[D_FLOOR, 1]`` before the weighted geometric mean so that a
#: single zero cannot turn ``log`` into ``-inf`` (the score stays ordered by the other objectives).
D_FLOOR = 1e-6


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


def objective_column_name(dataset: str, target: str) -> str:
    """Name of the prediction column for ``target`` of ``dataset`` (``<dataset>.<target>``)."""
    return f"{dataset}.{target}"


def expand_objectives(
    objectives: Sequence[Mapping[str, Any]], task_info: Mapping[str, TaskInfo]
) -> list[ObjectiveColumn]:
    """One :class:`ObjectiveColumn` per task; ``target: all`` splits the weight evenly over tasks."""
    columns: list[ObjectiveColumn] = []
    for objective in objectives:
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


def to_probability(values: np.ndarray, column: ObjectiveColumn) -> np.ndarray:
    """Map predictions to [0, 1]: probabilities as is, regression via ``sigmoid((y - mean) / std)``."""
    values = np.asarray(values, dtype=np.float64)
    if column.task_type == "classification":
        return np.clip(values, 0.0, 1.0)
    z = (values - column.mean) / column.std
    return 1.0 / (1.0 + np.exp(-z))


def desirability(values: np.ndarray, column: ObjectiveColumn) -> np.ndarray:
    """``p`` for maximize, ``1 - p`` for minimize, with ``p`` from :func:`to_probability`."""
    p = to_probability(values, column)
    return p if column.direction == "maximize" else 1.0 - p


def combined_score(pred_df: pd.DataFrame, columns: Sequence[ObjectiveColumn]) -> np.ndarray:
    """Weighted geometric mean ``exp(sum w_i ln d_i / sum w_i)`` of the clipped desirabilities."""
    if not columns:
        raise ValueError("a campaign needs at least one objective")
    missing = [c.column for c in columns if c.column not in pred_df.columns]
    if missing:
        raise KeyError(f"prediction columns missing: {missing}")
    weights = np.array([c.weight for c in columns], dtype=np.float64)
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("objective weights must be >= 0 with a positive sum")
    log_d = np.column_stack(
        [np.log(np.clip(desirability(pred_df[c.column].to_numpy(), c), D_FLOOR, 1.0)) for c in columns]
    )
    return np.exp(log_d @ weights / weights.sum())


def rank_frame(
    pred_df: pd.DataFrame,
    objectives: Sequence[Mapping[str, Any]],
    task_info: Mapping[str, TaskInfo],
) -> pd.DataFrame:
    """Add ``score`` and 1-based ``rank`` (score descending, ties by ``id`` ascending; NaN last).

    Returns a new frame sorted by rank with ``rank`` first and ``score`` after ``id``.
    """
    columns = expand_objectives(objectives, task_info)
    out = pred_df.copy()
    out["score"] = combined_score(out, columns)
    out["_id_key"] = out["id"].astype(str)
    out = out.sort_values(
        ["score", "_id_key"], ascending=[False, True], na_position="last", kind="mergesort"
    ).drop(columns="_id_key")
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype=np.int64))
    order = ["rank", "id", "score"] + [c for c in out.columns if c not in ("rank", "id", "score")]
    return out[order].reset_index(drop=True)
