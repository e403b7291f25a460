"""One-line ``why`` for a ranked compound: objectives met or missed, domain, nearest training
compound."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from drugnet.screening.desirability import (
    ObjectiveColumn,
    desirability,
    expand_objectives,
)
from drugnet.screening.score import DatasetModel, ad_column_names


def campaign_threshold(campaign: Mapping[str, Any]) -> float | None:
    """The campaign's numeric ``in_domain_threshold``, None for ``auto`` (each model's own)."""
    value = campaign.get("in_domain_threshold", "auto")
    return None if value in (None, "auto") else float(value)


def _fmt(value: Any, digits: int = 2) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "NA"
    return "NA" if not np.isfinite(v) else f"{v:.{digits}f}"


def _label_text(dm: DatasetModel, train_id: str, index: Mapping[str, int]) -> str:
    """``Class=1`` (labels of a training compound; single-task) or ``k/T active`` (multi-task)."""
    if (
        not train_id
        or dm.train_labels is None
        or not len(dm.train_labels.columns)
        or train_id not in index
    ):
        return ""
    values = dm.train_labels.iloc[index[train_id]]
    if len(values) == 1:
        return (
            f", {values.index[0]}="
            f"{_fmt(values.iloc[0], 3 if dm.task_info.task_type == 'regression' else 0)}"
        )
    labelled = values.dropna()
    return f", {int((labelled > 0.5).sum())}/{len(labelled)} labelled tasks active"


def _model_part(
    row: pd.Series,
    dm: DatasetModel,
    cols: Sequence[ObjectiveColumn],
    primary: bool,
    threshold: float,
    index: Mapping[str, int],
) -> str:
    sim_col, id_col = ad_column_names(dm.dataset, primary)
    sim, nearest = row.get(sim_col), str(row.get(id_col) or "")
    if len(cols) == 1:
        c = cols[0]
        pred = f"{c.column} {_fmt(row.get(c.column))}+-{_fmt(row.get(f'{c.column}.std'))}"
    else:
        values = pd.to_numeric(pd.Series([row.get(c.column) for c in cols]), errors="coerce")
        worst = (
            int(np.nanargmax(values))
            if cols[0].direction == "minimize"
            else int(np.nanargmin(values))
        )
        pred = (
            f"{dm.dataset} {'max' if cols[0].direction == 'minimize' else 'min'} "
            f"{_fmt(values.iloc[worst])} ({cols[worst].target})"
        )
    inside = float(sim) >= threshold if pd.notna(sim) else False
    domain = (
        f"{'in' if inside else 'OUT of'} domain: sim {_fmt(sim)} "
        f"{'>=' if inside else '<'} {_fmt(threshold)} to {nearest}"
    )
    return f"{pred} ({domain}{_label_text(dm, nearest, index)})"


def _property_part(row: pd.Series, cols: Sequence[ObjectiveColumn]) -> str:
    met: list[str] = []
    missed: list[str] = []
    for c in cols:
        value = row.get(c.column)
        d = float(
            desirability(np.array([pd.to_numeric(value, errors="coerce")], dtype=float), c)[0]
        )
        (met if d >= 1.0 else missed).append(c.target if d >= 1.0 else f"{c.target} {_fmt(value)}")
    parts = ([f"meets {', '.join(met)}"] if met else []) + (
        [f"misses {', '.join(missed)}"] if missed else []
    )
    return "; ".join(parts)


def why_column(
    frame: pd.DataFrame, campaign: Mapping[str, Any], models: Sequence[DatasetModel]
) -> list[str]:
    """``why`` per row of ``frame`` (ranked rows with the objective, AD and property columns)."""
    columns = expand_objectives(campaign["objectives"], {m.dataset: m.task_info for m in models})
    override = campaign_threshold(campaign)
    props = [c for c in columns if c.kind == "property"]
    indexes = [
        {train_id: i for i, train_id in reversed(list(enumerate(dm.train_ids)))} for dm in models
    ]  # first wins
    out = []
    for _, row in frame.iterrows():
        parts = []
        for i, dm in enumerate(models):
            cols = [c for c in columns if c.kind == "model" and c.dataset == dm.dataset]
            if cols:
                parts.append(
                    _model_part(row, dm, cols, i == 0, dm.domain_threshold(override), indexes[i])
                )
        if props:
            parts.append(_property_part(row, props))
        out.append("; ".join(p for p in parts if p))
    return out
