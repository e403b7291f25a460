"""Self-supervised pretraining of the GNN encoder on unlabelled molecules.

The CheMeleon recipe with RDKit instead of Mordred: a GNN learns to predict each molecule's 2D
descriptors (robustly standardized) from its graph. Only the message-passing layers are kept
(`drugnet.models.encoder`); fine-tuning puts a new head on them. The loop is the supervised one
(`drugnet.train.loop.fit`: masked MSE, early stopping on a held-out fraction of the corpus).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from drugnet.features.dataset import FeatureSource, input_dims, model_inputs
from drugnet.models.gnn import GNN
from drugnet.models.registry import build_model, default_hparams, split_hparams
from drugnet.train.loop import fit, seed_everything
from drugnet.train.settings import TrainSettings

log = logging.getLogger("drugnet.train")

#: Standardized descriptor values are clipped here: heavy tails (Ipc, counts of rare groups)
#: would otherwise dominate the squared error.
CLIP = 6.0


@dataclass(frozen=True)
class DescriptorTargets:
    """Robustly standardized descriptor targets ``[n, k]`` (NaN missing) and how they were made."""

    values: np.ndarray
    names: list[str]
    center: list[float]
    scale: list[float]


def descriptor_targets(
    raw: np.ndarray, names: list[str], rows: np.ndarray, max_missing: float = 0.5
) -> DescriptorTargets:
    """``(x - median) / (IQR / 1.349)`` per descriptor, clipped to ``±CLIP``, statistics from
    ``rows``; descriptors with no spread or more than ``max_missing`` missing there are dropped."""
    raw = np.where(np.isfinite(raw), raw, np.nan).astype(np.float64)
    fit = raw[rows]
    missing = np.isnan(fit).mean(axis=0)
    q25, median, q75 = np.nanpercentile(np.where(missing[None] < 1, fit, 0.0), [25, 50, 75], axis=0)
    scale = (q75 - q25) / 1.349
    std = np.nanstd(fit, axis=0)
    scale = np.where(scale > 1e-8, scale, std)  # mostly-zero counts: IQR 0, std > 0
    keep = np.flatnonzero((missing <= max_missing) & (scale > 1e-8))
    values = np.clip((raw[:, keep] - median[keep]) / scale[keep], -CLIP, CLIP).astype(np.float32)
    return DescriptorTargets(
        values,
        [names[j] for j in keep],
        median[keep].astype(float).tolist(),
        scale[keep].astype(float).tolist(),
    )


def holdout_rows(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A random ``(fit, held-out)`` partition of ``n`` rows for early stopping."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(n * fraction))) if n > 1 else 0
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def pretrain_gnn(
    store: FeatureSource,
    descriptor_names: list[str],
    overrides: dict[str, Any] | None = None,
    holdout: float = 0.05,
    seed: int = 0,
    device: str = "auto",
    threads: int = 1,
) -> tuple[GNN, dict[str, Any], dict[str, Any], list[dict]]:
    """Pretrain a GNN (default architecture and training settings, then ``overrides``; never with
    descriptor inputs) to predict the store's descriptors.

    Returns ``(model, hparams, summary, history)``; ``summary`` holds the targets, row counts and
    the held-out RMSE (standardized units) of the kept epoch."""
    # the descriptors are the targets, never an input; the encoder layers do not depend on them
    hparams = {**default_hparams("gnn", overrides, "regression"), "use_descriptors": False}
    hparams.pop("pretrained", None)
    hparams.update(input_dims(store, "gnn", False))
    fit_rows, val_rows = holdout_rows(store.n, holdout, seed)
    targets = descriptor_targets(store.descriptors().numpy(), descriptor_names, fit_rows)
    hparams["n_tasks"] = len(targets.names)
    architecture, training = split_hparams(hparams)
    seed_everything(seed)
    model = build_model(architecture)
    assert isinstance(model, GNN)
    result = fit(
        model,
        lambda idx: model_inputs(store, idx, "gnn", False),
        targets.values,
        fit_rows,
        val_rows,
        "regression",
        TrainSettings.from_hparams(training),
        seed=seed,
        device=device,
        threads=threads,
    )
    summary = {
        "targets": targets.names,
        "target_center": targets.center,
        "target_scale": targets.scale,
        "rows_fit": int(len(fit_rows)),
        "rows_holdout": int(len(val_rows)),
        "best_epoch": result.best_epoch,
        "holdout_rmse": -result.best_val,
    }
    log.info(
        "pretrained on %d molecules, %d descriptor targets: held-out RMSE %.4f at epoch %d",
        len(fit_rows),
        len(targets.names),
        -result.best_val,
        result.best_epoch,
    )
    return result.model.cpu(), hparams, summary, result.history
