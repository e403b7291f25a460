"""Model registry: default hyperparameters per kind and ``build_model(hparams)``."""

from __future__ import annotations

from typing import Any

from torch import nn

from drugnet.models.gnn import GNN
from drugnet.models.snn import SNN

# Chosen on validation data only (scaffold splits of Tox21 and BACE); evidence in docs/models.md.
DEFAULT_HPARAMS: dict[str, dict[str, Any]] = {
    "gnn": {
        "kind": "gnn",
        "variant": "relu",
        "hidden": 128,
        "depth": 4,
        "aggr": "mean",
        "readout": "sum",
        "residual": False,
        "dropout": 0.1,
        "head_hidden": 128,
        "norm": "batch",
        "use_descriptors": False,
        "lr": 1e-3,
        "weight_decay": 0.0,
        "batch_size": 64,
        "epochs": 30,
        "patience": 8,
        "warmup_epochs": 2,
        "grad_clip": 5.0,
        "pos_weight": False,
    },
    "snn": {
        "kind": "snn",
        "variant": "snn",
        "hidden": 1024,
        "depth": 4,
        "dropout": 0.2,
        "input_dropout": 0.1,
        "min_feature_count": 10,
        "norm": "batch",
        "use_descriptors": True,
        "lr": 1e-3,
        "weight_decay": 0.0,
        "batch_size": 128,
        "epochs": 40,
        "patience": 8,
        "warmup_epochs": 2,
        "grad_clip": 5.0,
        "pos_weight": False,
    },
    "rf_ecfp": {
        "kind": "rf_ecfp",
        "n_estimators": 300,
        "min_samples_leaf": 1,
        "max_features": "sqrt",
        "class_weight": "balanced_subsample",
    },
}


# Task-specific defaults, applied before the user's overrides. Alpha dropout shifts the SNN's
# regression outputs between training and evaluation mode (ESOL: train-set RMSE 2.67 log units
# in eval mode vs 0.21 without dropout), so regression SNNs train without it unless asked.
TASK_DEFAULTS: dict[tuple[str, str], dict[str, Any]] = {
    ("snn", "regression"): {"dropout": 0.0, "input_dropout": 0.0},
}


def default_hparams(kind: str, overrides: dict[str, Any] | None = None, task: str | None = None) -> dict[str, Any]:
    """``DEFAULT_HPARAMS[kind]``, then ``TASK_DEFAULTS[(kind, task)]``, then ``overrides`` (unknown keys are an error)."""
    if kind not in DEFAULT_HPARAMS:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {sorted(DEFAULT_HPARAMS)}")
    hparams = {**DEFAULT_HPARAMS[kind], **TASK_DEFAULTS.get((kind, task or ""), {})}
    for key, value in (overrides or {}).items():
        if key not in hparams and key not in _DIMENSION_KEYS:
            raise ValueError(f"unknown hyperparameter {key!r} for {kind}; known: {sorted(hparams)}")
        hparams[key] = value
    return hparams


_DIMENSION_KEYS = {"atom_dim", "bond_dim", "mol_dim", "in_dim", "n_log", "n_tasks"}


def build_model(hparams: dict[str, Any]) -> nn.Module:
    """Build a torch model from plain-JSON ``hparams`` (kind, architecture and input dimensions)."""
    kind = hparams.get("kind")
    if kind == "gnn":
        return GNN(hparams)
    if kind == "snn":
        return SNN(hparams)
    raise ValueError(f"build_model: unknown kind {kind!r} (gnn|snn)")
