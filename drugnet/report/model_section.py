"""Report section "Models": metrics beside the rf_ecfp baseline, learning curves, ROC/PR or parity
plots."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from drugnet.report import html as H
from drugnet.report import plots
from drugnet.report.inputs import (
    datasets,
    model_names,
    read_csv,
    read_json,
    task_and_targets,
)

HIGHER_IS_BETTER = {
    "roc_auc": True,
    "pr_auc": True,
    "r2": True,
    "rmse": False,
    "mae": False,
    "ece": False,
    "brier": False,
}
SPLIT_ORDER = ("train", "val", "test", "external_test")
BASELINE = "rf_ecfp"


def mean_metrics_table(metrics: Mapping) -> pd.DataFrame:
    """One row per model, one column ``<split> <metric>`` per split and metric (mean over tasks)."""
    rows = []
    for model, by_split in metrics.items():
        row: dict[str, object] = {"model": model}
        for split in sorted(
            by_split, key=lambda s: SPLIT_ORDER.index(s) if s in SPLIT_ORDER else 99
        ):
            for metric, value in (by_split[split].get("mean") or {}).items():
                row[f"{split} {metric}"] = value
        rows.append(row)
    return pd.DataFrame(rows)


def per_task_table(
    metrics: Mapping, split: str = "test", metric: str | None = None
) -> pd.DataFrame:
    """Rows = tasks, one column per model for ``metric`` on ``split`` (default: the first metric
    reported), plus ``<model> - rf_ecfp`` differences when the baseline is there (positive =
    better)."""
    models = [m for m in metrics if split in metrics[m]]
    if not models:
        return pd.DataFrame()
    if metric is None:
        first = metrics[models[0]][split].get("per_task") or {}
        metric = next(iter(next(iter(first.values()), {})), None)
        if metric is None:
            return pd.DataFrame()
    tasks = list(
        dict.fromkeys(t for m in models for t in (metrics[m][split].get("per_task") or {}))
    )
    frame = pd.DataFrame({"task": tasks})
    for m in models:
        per_task = metrics[m][split].get("per_task") or {}
        frame[m] = [_num((per_task.get(t) or {}).get(metric)) for t in tasks]
    if BASELINE in models:
        sign = 1.0 if HIGHER_IS_BETTER.get(metric, True) else -1.0
        for m in models:
            if m != BASELINE:
                frame[f"{m} - {BASELINE}"] = sign * (frame[m] - frame[BASELINE])
    frame.attrs["metric"] = metric
    return frame


def _num(value: object) -> float:
    return float("nan") if value is None else float(value)


def prediction_curves(
    predictions: Mapping[str, pd.DataFrame], targets: list[str]
) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """``{task: {model: (y_true, y_pred)}}`` from prediction tables (``<task>``, ``<task>.true``),
    labelled rows only."""
    out: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for target in targets:
        for model, table in predictions.items():
            if target not in table or f"{target}.true" not in table:
                continue
            y = pd.to_numeric(table[f"{target}.true"], errors="coerce").to_numpy(dtype=float)
            p = pd.to_numeric(table[target], errors="coerce").to_numpy(dtype=float)
            keep = np.isfinite(y) & np.isfinite(p)
            out.setdefault(target, {})[model] = (y[keep], p[keep])
    return out


def _dataset_block(name: str, config: Mapping, results: Path) -> str:
    folder = results / name
    metrics = read_json(folder / "metrics.json")
    found = (
        sorted(p.name for p in (folder / "models").glob("*") if p.is_dir())
        if (folder / "models").is_dir()
        else []
    )
    models = model_names(config, name, [*(metrics or {}), *found])
    task, targets = task_and_targets(config, name, read_json(folder / "standardize_summary.json"))
    parts = [f"<h3>dataset {H.esc(name)}</h3>"]
    if metrics:
        parts.append("<h4>mean metrics over tasks</h4>")
        mean = mean_metrics_table(metrics)
        cols = [c for c in mean.columns if c != "model"]
        parts.append(
            H.table(
                mean,
                highlight_max=[c for c in cols if HIGHER_IS_BETTER.get(c.split()[-1], True)],
                highlight_min=[c for c in cols if not HIGHER_IS_BETTER.get(c.split()[-1], True)],
            )
        )
        for split in ("test", "external_test"):
            tasks = per_task_table(metrics, split)
            if tasks.empty:
                continue
            metric = tasks.attrs["metric"]
            model_cols = [m for m in metrics if m in tasks.columns]
            baseline = (
                f" (difference to {BASELINE}: positive = better)"
                if BASELINE in model_cols and len(model_cols) > 1
                else ""
            )
            parts.append(f"<h4>{H.esc(split)} {H.esc(metric)} per task{H.esc(baseline)}</h4>")
            parts.append(
                H.table(
                    tasks, row_best=model_cols, row_best_is_max=HIGHER_IS_BETTER.get(metric, True)
                )
            )
    else:
        parts.append(H.missing(f"{folder / 'metrics.json'} not found (evaluate)"))
    for model in models:
        history = read_csv(folder / "models" / model / "history.csv")
        if (
            history is not None
            and len(history)
            and {"member", "epoch", "train_loss"} <= set(history.columns)
        ):
            parts.append(f"<h4>learning curves: {H.esc(model)}</h4>")
            parts.append(
                H.figure(
                    plots.learning_curves(history, model),
                    "one line per ensemble member; validation metric = mean ROC-AUC "
                    "(classification) or -RMSE (regression)",
                )
            )
    predictions = {
        m: t
        for m in models
        if (t := read_csv(folder / "predictions" / f"{m}_test.csv")) is not None
    }
    if not predictions:
        parts.append(H.missing(f"no test predictions under {folder / 'predictions'}"))
    else:
        curves = prediction_curves(
            predictions, targets or _targets_of(next(iter(predictions.values())))
        )
        if task == "regression":
            parts.append(
                "<h4>test split: predicted vs true</h4>" + H.figure(plots.parity_plots(curves))
            )
        elif curves:
            parts.append(
                "<h4>test split: ROC curves</h4>"
                + H.figure(plots.classification_curves(curves, "roc"))
            )
            parts.append(
                "<h4>test split: precision-recall curves</h4>"
                + H.figure(
                    plots.classification_curves(curves, "pr"),
                    "dashed: fraction of positives (a random ranking)",
                )
            )
            parts.append(
                "<h4>test split: reliability diagrams</h4>"
                + H.figure(
                    plots.reliability_diagrams(curves),
                    "calibrated probabilities (fitted on validation only) in 10 bins; dashed: "
                    "perfect calibration; ECE and Brier per split are in the metrics tables",
                )
            )
    return "\n".join(parts)


def _targets_of(table: pd.DataFrame) -> list[str]:
    return [c[: -len(".true")] for c in table.columns if c.endswith(".true")]


def model_section(config: Mapping, results: Path) -> H.Section:
    """Per dataset: metric tables, learning curves and test-split curves."""
    names = list(datasets(config, results))
    if not names:
        return H.Section("models", "Models", H.missing("no datasets configured or found"))
    body = "\n".join(_dataset_block(name, config, results) for name in names)
    return H.Section("models", "Models", body)
