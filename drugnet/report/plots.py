"""Matplotlib (Agg) figures for the report, returned as inline SVG text."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

from drugnet.report.html import inline_svg

_RC = {"svg.fonttype": "none", "svg.hashsalt": "drugnet", "font.size": 8, "axes.titlesize": 9}


def to_svg(fig: plt.Figure) -> str:
    """Close ``fig`` and return it as inline SVG (text kept as text, no date metadata)."""
    buffer = io.StringIO()
    with plt.rc_context(_RC):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return inline_svg(buffer.getvalue())


def _grid(
    n: int, ncols: int = 4, size: tuple[float, float] = (2.6, 2.3)
) -> tuple[plt.Figure, np.ndarray]:
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False
        )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def learning_curves(history: pd.DataFrame, title: str = "") -> str:
    """Train loss and validation metric per epoch, one line per ensemble member."""
    with plt.rc_context(_RC):
        fig, (left, right) = plt.subplots(1, 2, figsize=(8, 2.6))
        for member, rows in history.groupby("member", sort=True):
            rows = rows.sort_values("epoch")
            left.plot(rows["epoch"], rows["train_loss"], label=f"member {member}", lw=1)
            if "val_metric" in rows and rows["val_metric"].notna().any():
                right.plot(rows["epoch"], rows["val_metric"], label=f"member {member}", lw=1)
        left.set(xlabel="epoch", ylabel="train loss", title=f"{title} train loss".strip())
        right.set(xlabel="epoch", ylabel="validation metric", title=f"{title} validation".strip())
        for ax in (left, right):
            ax.grid(alpha=0.3)
        if history["member"].nunique() <= 10:
            right.legend(fontsize=7)
        fig.tight_layout()
    return to_svg(fig)


def classification_curves(
    curves: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]], kind: str
) -> str:
    """ROC (``kind='roc'``) or precision-recall (``'pr'``) curves, one panel per task, one line per
    model.

    ``curves[task][model] = (y_true, y_score)`` with missing labels already removed.
    """
    tasks = list(curves)
    fig, axes = _grid(len(tasks))
    with plt.rc_context(_RC):
        for ax, task in zip(axes, tasks, strict=False):
            for model, (y, s) in curves[task].items():
                if len(np.unique(y)) < 2:
                    continue
                if kind == "roc":
                    fpr, tpr, _ = roc_curve(y, s)
                    ax.plot(fpr, tpr, lw=1, label=model)
                else:
                    precision, recall, _ = precision_recall_curve(y, s)
                    ax.step(recall, precision, where="post", lw=1, label=model)
            if kind == "roc":
                ax.plot([0, 1], [0, 1], color="grey", lw=0.6, ls="--")
                ax.set(xlabel="false positive rate", ylabel="true positive rate")
            else:
                base = _positive_rate(curves[task])
                if base is not None:
                    ax.axhline(base, color="grey", lw=0.6, ls="--")
                ax.set(xlabel="recall", ylabel="precision", ylim=(0, 1.02))
            ax.set_title(task)
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend(fontsize=6, loc="lower right" if kind == "roc" else "upper right")
        fig.tight_layout()
    return to_svg(fig)


def _positive_rate(per_model: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> float | None:
    for y, _ in per_model.values():
        if len(y):
            return float(np.mean(y))
    return None


def parity_plots(points: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]]) -> str:
    """Predicted vs true per task (regression), one colour per model."""
    tasks = list(points)
    fig, axes = _grid(len(tasks))
    with plt.rc_context(_RC):
        for ax, task in zip(axes, tasks, strict=False):
            lo, hi = math.inf, -math.inf
            for model, (y, p) in points[task].items():
                ax.scatter(y, p, s=6, alpha=0.6, label=model)
                if len(y):
                    lo, hi = min(lo, np.min(y), np.min(p)), max(hi, np.max(y), np.max(p))
            if math.isfinite(lo):
                ax.plot([lo, hi], [lo, hi], color="grey", lw=0.6, ls="--")
            ax.set(xlabel="true", ylabel="predicted", title=task)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6)
        fig.tight_layout()
    return to_svg(fig)


def label_balance(balance: pd.DataFrame) -> str:
    """Stacked bars of positives, negatives and missing labels per task (classification)."""
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(max(3.0, 0.45 * len(balance) + 1.5), 2.6))
        x = np.arange(len(balance))
        bottom = np.zeros(len(balance))
        for column, colour in (
            ("positive", "#c0392b"),
            ("negative", "#2980b9"),
            ("missing", "#bdc3c7"),
        ):
            values = balance[column].to_numpy(dtype=float)
            ax.bar(x, values, bottom=bottom, color=colour, label=column)
            bottom += values
        ax.set_xticks(x, balance["task"], rotation=45, ha="right")
        ax.set_ylabel("molecules")
        ax.legend(fontsize=7)
        fig.tight_layout()
    return to_svg(fig)


def reliability_points(
    y: np.ndarray, p: np.ndarray, bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean predicted probability, fraction positive and count per non-empty equal-width bin."""
    idx = np.minimum((np.clip(p, 0, 1) * bins).astype(int), bins - 1)
    keep = [b for b in range(bins) if (idx == b).any()]
    return (
        np.array([p[idx == b].mean() for b in keep]),
        np.array([y[idx == b].mean() for b in keep]),
        np.array([(idx == b).sum() for b in keep]),
    )


def reliability_diagrams(curves: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]]) -> str:
    """Observed fraction of actives vs mean predicted probability (10 bins), one panel per task,
    one line per model; marker area ~ rows in the bin; the diagonal is perfect calibration."""
    tasks = list(curves)
    fig, axes = _grid(len(tasks))
    with plt.rc_context(_RC):
        for ax, task in zip(axes, tasks, strict=False):
            for model, (y, p) in curves[task].items():
                if not len(y):
                    continue
                mean_p, frac, n = reliability_points(np.asarray(y, float), np.asarray(p, float))
                ax.plot(mean_p, frac, lw=1, marker="o", markersize=2, label=model)
                ax.scatter(mean_p, frac, s=4 + 40 * n / n.max(), alpha=0.4)
            ax.plot([0, 1], [0, 1], color="grey", lw=0.6, ls="--")
            ax.set(
                xlabel="mean predicted probability",
                ylabel="fraction active",
                xlim=(0, 1),
                ylim=(0, 1),
                title=task,
            )
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend(fontsize=6, loc="upper left")
        fig.tight_layout()
    return to_svg(fig)
