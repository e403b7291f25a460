"""Causal use: does the model rely on its concept detectors? Mean-ablate the top-k detector units of
a concept family in one layer (or k random units of that layer) and measure each task's validation
ROC-AUC drop, through the model's public ``forward_ablated`` hook."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from drugnet.concepts.matrix import ConceptMatrix
from drugnet.io.atomic import atomic_path
from drugnet.train.metrics import roc_auc

ABLATION_COLUMNS = [
    "member",
    "level",
    "layer",
    "family",
    "units",
    "draw",
    "k",
    "task",
    "base_auc",
    "auc",
    "drop",
    "unit_ids",
]


def top_family_units(aucs: np.ndarray, concepts: ConceptMatrix, family: str, k: int) -> np.ndarray:
    """The ``k`` units with the strongest single-concept AUC (max(AUC, 1-AUC), `neurons.unit_auc`
    ``[n_concepts, n_units]``) for any concept of ``family``, strongest first."""
    rows = np.asarray(concepts.family) == family
    strength = np.nan_to_num(np.fmax(aucs[rows], 1 - aucs[rows]), nan=0.0).max(axis=0)
    return np.argsort(-strength, kind="stable")[:k]


def random_unit_draws(n_units: int, k: int, draws: int, seed: int) -> list[np.ndarray]:
    """``draws`` seeded sets of ``k`` distinct units of a layer."""
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(n_units, size=min(k, n_units), replace=False)) for _ in range(draws)]


@torch.no_grad()
def predict_ablated(
    model: torch.nn.Module,
    inputs: Callable[[np.ndarray], Any],
    n: int,
    replace: dict[int, tuple[torch.Tensor, torch.Tensor]],
    batch_size: int = 512,
) -> np.ndarray:
    """Model outputs ``[n, T]`` over items ``0..n-1`` with ``model.forward_ablated``
    (``replace={}``: the unablated forward)."""
    model.eval()
    parts = [
        model.forward_ablated(inputs(np.arange(s, min(s + batch_size, n))), replace).float().numpy()
        for s in range(0, n, batch_size)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def ablation_table(
    model: torch.nn.Module,
    inputs: Callable[[np.ndarray], Any],
    y: np.ndarray,
    targets: list[str],
    unit_aucs: list[np.ndarray],
    unit_means: list[np.ndarray],
    concepts: ConceptMatrix,
    *,
    member: int,
    k: int,
    draws: int,
    seed: int,
    first_layer: int = 1,
    batch_size: int = 512,
) -> pd.DataFrame:
    """``ABLATION_COLUMNS`` rows: per hidden layer (``first_layer + i`` for ``unit_aucs[i]``) and
    family, the top-``k`` detector units and ``draws`` sets of ``k`` random units mean-replaced
    (``unit_means[i]``, the unit's mean over the probed items), each task's ROC-AUC on ``y``
    (validation labels, NaN = missing) against the unablated ``base_auc``;
    ``drop = base - ablated``."""
    base = roc_auc(y, predict_ablated(model, inputs, len(y), {}, batch_size))
    rows = []
    families = sorted(set(concepts.family))
    for offset, (aucs, means) in enumerate(zip(unit_aucs, unit_means, strict=False)):
        layer = first_layer + offset
        randoms = random_unit_draws(aucs.shape[1], k, draws, seed + layer)
        sets = [(fam, "top", 0, top_family_units(aucs, concepts, fam, k)) for fam in families]
        sets += [("", "random", d, units) for d, units in enumerate(randoms)]
        for family, kind, draw, units in sets:
            replace = {
                layer: (torch.as_tensor(units), torch.as_tensor(means[units], dtype=torch.float32))
            }
            auc = roc_auc(y, predict_ablated(model, inputs, len(y), replace, batch_size))
            ids = ";".join(str(int(u)) for u in units)
            rows += [
                (
                    member,
                    concepts.level,
                    layer,
                    family,
                    kind,
                    draw,
                    len(units),
                    task,
                    base[t],
                    auc[t],
                    base[t] - auc[t],
                    ids,
                )
                for t, task in enumerate(targets)
            ]
    return pd.DataFrame(rows, columns=ABLATION_COLUMNS)


def excess_drops(table: pd.DataFrame) -> pd.DataFrame:
    """Per member, layer, family and task: the top-k drop, the mean and max drop of the random
    draws, and ``excess = top - random mean`` (what the family's detectors cost beyond any k
    units)."""
    top = table[table.units == "top"].set_index(["member", "layer", "task"])
    random = (
        table[table.units == "random"]
        .groupby(["member", "layer", "task"])["drop"]
        .agg(["mean", "max"])
    )
    out = top[["family", "drop"]].join(random).reset_index()
    out = out.rename(
        columns={"drop": "top_drop", "mean": "random_mean_drop", "max": "random_max_drop"}
    )
    out["excess_drop"] = out["top_drop"] - out["random_mean_drop"]
    return out


def plot_ablation(table: pd.DataFrame, png: Path, svg: Path) -> None:
    """Heatmap task x (family, layer) of the excess drop (top-k minus random-k, mean over
    members)."""
    # matplotlib only when plotting: a heavy import that the probing tables do not need, and the
    # headless backend must be chosen before pyplot loads
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    excess = (
        excess_drops(table)
        if len(table)
        else pd.DataFrame(columns=["task", "family", "layer", "excess_drop"])
    )
    grid = (
        excess.groupby(["task", "family", "layer"])["excess_drop"]
        .mean()
        .unstack(["family", "layer"])
    )
    fig, ax = plt.subplots(
        figsize=(2 + 0.45 * max(grid.shape[1], 1), 1.5 + 0.28 * max(grid.shape[0], 1))
    )
    if grid.size:
        limit = max(float(np.nanmax(np.abs(grid.to_numpy()))), 0.01)
        image = ax.imshow(
            grid.to_numpy(dtype=float), aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit
        )
        ax.set_xticks(
            range(grid.shape[1]),
            [f"{f.replace('_', ' ')} L{layer}" for f, layer in grid.columns],
            rotation=60,
            ha="right",
            fontsize=7,
        )
        ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=7)
        fig.colorbar(image, ax=ax, label="ROC-AUC drop, top-k minus random-k", shrink=0.8)
    else:
        ax.text(0.5, 0.5, "no ablation results", ha="center", va="center")
    ax.set_title("mean ablation of detector units (validation ROC-AUC)", fontsize=9)
    fig.tight_layout()
    for path in (png, svg):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:], dpi=150)
    plt.close(fig)
