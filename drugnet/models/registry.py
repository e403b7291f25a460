"""Model registry: default hyperparameters per kind and ``build_model(hparams)``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
        "pretrained": None,
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


def default_hparams(
    kind: str, overrides: dict[str, Any] | None = None, task: str | None = None
) -> dict[str, Any]:
    """``DEFAULT_HPARAMS[kind]``, then ``TASK_DEFAULTS[(kind, task)]``, then ``overrides`` (unknown
    keys are an error)."""
    if kind not in DEFAULT_HPARAMS:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {sorted(DEFAULT_HPARAMS)}")
    hparams = {**DEFAULT_HPARAMS[kind], **TASK_DEFAULTS.get((kind, task or ""), {})}
    for key, value in (overrides or {}).items():
        if key not in hparams and key not in _DIMENSION_KEYS:
            raise ValueError(f"unknown hyperparameter {key!r} for {kind}; known: {sorted(hparams)}")
        hparams[key] = value
    return hparams


_DIMENSION_KEYS = {"atom_dim", "bond_dim", "mol_dim", "in_dim", "n_log", "n_tasks"}

# What the model is (read by ``from_hparams`` and by input building: ``use_descriptors``), per kind,
# input dimensions included; everything else in a hparams dict is a training setting.
ARCHITECTURE_KEYS: dict[str, frozenset[str]] = {
    "gnn": frozenset(
        {
            "kind",
            "variant",
            "hidden",
            "depth",
            "aggr",
            "readout",
            "residual",
            "dropout",
            "head_hidden",
            "norm",
            "use_descriptors",
            "atom_dim",
            "bond_dim",
            "mol_dim",
            "n_tasks",
        }
    ),
    "snn": frozenset(
        {
            "kind",
            "variant",
            "hidden",
            "depth",
            "dropout",
            "input_dropout",
            "min_feature_count",
            "norm",
            "use_descriptors",
            "in_dim",
            "n_log",
            "n_tasks",
        }
    ),
    "rf_ecfp": frozenset(
        {
            "kind",
            "n_estimators",
            "min_samples_leaf",
            "max_features",
            "class_weight",
            "n_tasks",
        }
    ),
}

# How a deep model is optimized (``drugnet.train.settings.TrainSettings``), and where a GNN's
# message-passing weights start (``pretrained``: an encoder checkpoint, ``drugnet.models.encoder``).
TRAINING_KEYS: frozenset[str] = frozenset(
    {
        "lr",
        "epochs",
        "patience",
        "batch_size",
        "weight_decay",
        "warmup_epochs",
        "grad_clip",
        "pos_weight",
        "pretrained",
    }
)


def split_hparams(hparams: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(architecture, training)`` parts of a hparams dict of kind ``hparams["kind"]``.

    The dict as a whole is what ``model.json`` stores; the parts are what `build_model` and
    ``TrainSettings`` read. A key that is neither is an error.
    """
    kind = hparams.get("kind")
    if kind not in ARCHITECTURE_KEYS:
        raise ValueError(
            f"unknown model kind {kind!r}; expected one of {sorted(ARCHITECTURE_KEYS)}"
        )
    architecture, training = {}, {}
    for key, value in hparams.items():
        if key in ARCHITECTURE_KEYS[kind]:
            architecture[key] = value
        elif key in TRAINING_KEYS:
            training[key] = value
        else:
            raise ValueError(
                f"hyperparameter {key!r} is neither an architecture nor a training "
                f"setting for {kind}"
            )
    return architecture, training


def build_model(hparams: Mapping[str, Any]) -> GNN | SNN:
    """Build a torch model from plain-JSON ``hparams`` (kind, architecture and input dimensions;
    training keys are ignored)."""
    kind = hparams.get("kind")
    if kind == "gnn":
        return GNN.from_hparams(hparams)
    if kind == "snn":
        return SNN.from_hparams(hparams)
    raise ValueError(f"build_model: unknown kind {kind!r} (gnn|snn)")
