"""Training ensembles of k members (seeds seed..seed+k-1), and refitting them on every labelled
row."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from drugnet.features.dataset import Dataset, input_dims, model_inputs
from drugnet.inference.ensemble import Ensemble
from drugnet.models.encoder import init_from_encoder
from drugnet.models.forest import RFEcfp
from drugnet.models.gnn import GNN
from drugnet.models.registry import build_model, default_hparams, split_hparams
from drugnet.train.loop import fit, seed_everything
from drugnet.train.metrics import selection_score
from drugnet.train.settings import TrainSettings

log = logging.getLogger("drugnet.train")


def target_scaling(y_train: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-task mean and std of the labelled training values (std 1 where undefined)."""
    mean = np.nan_to_num(np.nanmean(y_train, axis=0), nan=0.0)
    std = np.nan_to_num(np.nanstd(y_train, axis=0), nan=1.0)
    std = np.where(std > 1e-8, std, 1.0)
    return mean.astype(float).tolist(), std.astype(float).tolist()


def labelled_rows(y: np.ndarray) -> np.ndarray:
    """Rows with at least one label: what a refit trains on."""
    return np.flatnonzero(~np.isnan(y).all(axis=1))


def train_member(
    data: Dataset,
    kind: str,
    task: str,
    hparams: dict[str, Any],
    y_model: np.ndarray,
    seed: int,
    device: str,
    threads: int,
    rows: tuple[np.ndarray, np.ndarray] | None = None,
    stop_epoch: int | None = None,
):
    """Train one member on ``rows`` = (fit rows, early-stopping rows), by default the train and val
    splits; ``stop_epoch`` (refit, no early-stopping rows) stops there. Returns
    ``(member, info, history)``."""
    train_idx, val_idx = rows if rows is not None else (data.indices("train"), data.indices("val"))
    if kind == "rf_ecfp":
        X = model_inputs(data.store, train_idx, "rf_ecfp", False).numpy()
        member = RFEcfp(task, hparams, seed=seed, threads=threads).fit(X, data.y[train_idx])
        val = float("nan")
        if len(val_idx):
            val = selection_score(
                task,
                data.y[val_idx],
                member.predict(model_inputs(data.store, val_idx, "rf_ecfp", False).numpy()),
            )
        return member, {"seed": seed, "val_score": val, "best_epoch": None}, []
    architecture, training = split_hparams(hparams)
    settings = TrainSettings.from_hparams(training)
    seed_everything(seed)
    model = build_model(architecture)
    if settings.pretrained is not None:
        assert isinstance(model, GNN)  # only the GNN's defaults have the key
        init_from_encoder(model, architecture, settings.pretrained)
    use_desc = bool(architecture.get("use_descriptors", False))
    if kind == "snn":
        model.fit_scaling(model_inputs(data.store, train_idx, "snn", use_desc))
    elif use_desc:
        model.fit_scaling(data.store.descriptors(torch.as_tensor(train_idx)).float())
    result = fit(
        model,
        lambda idx: model_inputs(data.store, idx, kind, use_desc),
        y_model,
        train_idx,
        val_idx,
        task,
        settings,
        seed=seed,
        device=device,
        threads=threads,
        stop_epoch=stop_epoch,
    )
    info = {"seed": seed, "val_score": result.best_val, "best_epoch": result.best_epoch}
    return result.model.cpu(), info, result.history


def _scaled_targets(
    data: Dataset, task: str, rows: np.ndarray
) -> tuple[np.ndarray, list[float] | None, list[float] | None]:
    """Model-space targets: labels as they are (classification) or standardized with ``rows``'
    statistics."""
    if task != "regression":
        return data.y, None, None
    mean, std = target_scaling(data.y[rows])
    return (
        ((data.y - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)).astype(np.float32),
        mean,
        std,
    )


def refit_ensemble(
    data: Dataset, selection: Ensemble, device: str = "auto", threads: int = 1
) -> tuple[Ensemble, list[dict]]:
    """Refit every member of ``selection`` on all labelled rows (train + val + test) with its
    hyperparameters, seed and selected epoch count (deep members: the early-stopping epoch; forests:
    same settings)."""
    rows = labelled_rows(data.y)
    y_model, mean, std = _scaled_targets(data, selection.task, rows)
    members, infos, history = [], [], []
    for k, sel_info in enumerate(selection.member_info):
        seed, epochs = int(sel_info["seed"]), sel_info.get("best_epoch")
        member, _, hist = train_member(
            data,
            selection.kind,
            selection.task,
            selection.hparams,
            y_model,
            seed,
            device,
            threads,
            rows=(rows, rows[:0]),
            stop_epoch=epochs,
        )
        log.info(
            "refit member %d (seed %d) on %d labelled rows, %s epochs", k, seed, len(rows), epochs
        )
        members.append(member)
        # val_score stays the selection fit's (the refit has no held-out rows); say where it came
        # from
        infos.append(
            {
                "seed": seed,
                "val_score": sel_info.get("val_score"),
                "best_epoch": epochs,
                "fit": "refit",
                "rows": int(len(rows)),
            }
        )
        history += [{"member": k, **row} for row in hist]
    refit = Ensemble(
        selection.kind,
        selection.task,
        selection.targets,
        selection.hparams,
        members,
        mean,
        std,
        selection.feature_settings,
        infos,
    )
    return refit, history


def train_ensemble(
    data: Dataset,
    kind: str,
    task: str,
    overrides: dict[str, Any] | None = None,
    n_members: int = 1,
    seed: int = 0,
    device: str = "auto",
    threads: int = 1,
) -> tuple[Ensemble, list[dict]]:
    """Train ``n_members`` members with seeds ``seed + k``; returns the ensemble and history rows
    (with ``member``)."""
    if threads:
        torch.set_num_threads(int(threads))
    hparams = default_hparams(kind, overrides, task)
    hparams["n_tasks"] = len(data.targets)
    if kind != "rf_ecfp":
        hparams.update(input_dims(data.store, kind, bool(hparams.get("use_descriptors", False))))
    y_model, mean, std = _scaled_targets(data, task, data.indices("train"))
    members, infos, history = [], [], []
    for k in range(n_members):
        member, info, hist = train_member(
            data, kind, task, hparams, y_model, seed + k, device, threads
        )
        log.info("member %d (seed %d): validation score %.4f", k, seed + k, info["val_score"])
        members.append(member)
        infos.append(info)
        history += [{"member": k, **row} for row in hist]
    ensemble = Ensemble(
        kind, task, list(data.targets), hparams, members, mean, std, data.feature_settings, infos
    )
    return ensemble, history
