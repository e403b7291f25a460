"""Fit a classification ensemble's calibration on its dataset's validation split and store it in
model.json."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from drugnet.features.dataset import Dataset, load_dataset
from drugnet.features.tanimoto import ecfp4_bits, max_tanimoto
from drugnet.inference.calibration import (
    apply_calibration,
    fit_calibration,
    fit_shrinkage,
)
from drugnet.inference.checkpoint import _clean, load_model_dir
from drugnet.io.atomic import atomic_path

log = logging.getLogger("drugnet.train")


def train_similarity(data: Dataset, indices: np.ndarray) -> np.ndarray:
    """Max ECFP4 Tanimoto of rows ``indices`` to the training rows (the screening applicability
    domain's measure)."""
    train = data.indices("train")
    query = ecfp4_bits([data.smiles[i] for i in indices])
    return max_tanimoto(query, ecfp4_bits([data.smiles[i] for i in train]))[0]


def training_prevalence(data: Dataset) -> np.ndarray:
    """Fraction of actives per task among the labelled training rows (0.5 where there are none)."""
    y = data.y[data.indices("train")]
    with np.errstate(invalid="ignore"):
        prevalence = np.nanmean(y, axis=0) if len(y) else np.full(y.shape[1], np.nan)
    return np.nan_to_num(prevalence, nan=0.5)


def fit_from_predictions(
    member_probs: np.ndarray, labels: np.ndarray, similarity: np.ndarray, prevalence: np.ndarray
) -> dict[str, Any]:
    """``model.json`` ``calibration`` block from validation member probabilities ``[k, n, T]``."""
    raw = np.asarray(member_probs, dtype=np.float64).mean(0)
    cal_map = fit_calibration(raw, labels)
    shrinkage = fit_shrinkage(apply_calibration(cal_map, raw), labels, similarity, prevalence)
    return {"fitted_on": "val", "n_val": int(len(labels)), "map": cal_map, "shrinkage": shrinkage}


def _validation_probs(model: Any, data: Dataset, val: np.ndarray, device: str) -> np.ndarray:
    """Uncalibrated probabilities ``[k, n_val, T]``: the members', or a consensus's combined one."""
    if model.kind != "consensus":
        return model.predict_members(data.store, val, device=device)
    model.calibration = None
    return model.predict(data.store, val, device)[0][None]


def fit_ensemble_calibration(
    ensemble: Any, data: Dataset, device: str = "auto"
) -> dict[str, Any] | None:
    """Calibration of a classification ``ensemble`` from ``data``'s ``val`` rows only (None for
    regression or without validation rows)."""
    val = data.indices("val")
    if ensemble.task != "classification" or data.split is None or not len(val):
        return None
    members = _validation_probs(ensemble, data, val, device)
    block = fit_from_predictions(
        members, data.y[val], train_similarity(data, val), training_prevalence(data)
    )
    methods = [t["method"] for t in block["map"]["tasks"]]
    log.info(
        "calibration on %d validation rows: %s; domain threshold %.3f",
        len(val),
        methods,
        block["shrinkage"]["threshold"],
    )
    return block


def calibrate_model_dir(
    dataset_dir: str | Path, model_dir: str | Path, device: str = "auto"
) -> dict[str, Any] | None:
    """Fit the calibration of an existing model directory and rewrite its ``model.json`` with it."""
    ensemble = load_model_dir(model_dir, fit="selection")  # a refit has seen the validation labels
    data = load_dataset(dataset_dir, ensemble.targets)
    block = fit_ensemble_calibration(ensemble, data, device)
    meta = json.loads((Path(model_dir) / "model.json").read_text())
    meta.pop("calibration", None)
    if block is not None:
        meta["calibration"] = block
    with atomic_path(Path(model_dir) / "model.json") as tmp:
        Path(tmp).write_text(json.dumps(_clean(meta), indent=2))
    return block
