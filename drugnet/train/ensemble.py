"""Ensembles of k members (seeds seed..seed+k-1): training and mean/std prediction in label units."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from drugnet.models.base import build_model, default_hparams
from drugnet.train.baseline import RFEcfp
from drugnet.train.data import Dataset, FeatureSource, input_dims, model_inputs
from drugnet.train.loop import fit, predict_raw, resolve_device, seed_everything
from drugnet.train.metrics import selection_score

log = logging.getLogger("drugnet.train")


@dataclass
class Ensemble:
    """Trained members plus what is needed to turn their outputs into predictions.

    Classification: members' sigmoid probabilities are averaged; regression: standardized
    outputs are mapped back with ``target_mean``/``target_std`` and averaged. ``std`` is the
    spread across members (0 for a single member).
    """

    kind: str
    task: str
    targets: list[str]
    hparams: dict[str, Any]
    members: list[Any]
    target_mean: list[float] | None = None
    target_std: list[float] | None = None
    feature_settings: dict = field(default_factory=dict)
    member_info: list[dict] = field(default_factory=list)
    calibration: dict | None = None  # drugnet.train.calibration params (classification), fitted on validation

    @property
    def use_descriptors(self) -> bool:
        return bool(self.hparams.get("use_descriptors", False))

    def _member_predict(self, member: Any, store: FeatureSource, indices: np.ndarray, device: torch.device, batch_size: int) -> np.ndarray:
        if self.kind == "rf_ecfp":
            parts = [member.predict(model_inputs(store, indices[i : i + batch_size], "rf_ecfp", False).numpy()) for i in range(0, len(indices), batch_size)]
            return np.concatenate(parts) if parts else np.zeros((0, len(self.targets)), np.float32)
        member.to(device)
        out = predict_raw(member, lambda idx: model_inputs(store, idx, self.kind, self.use_descriptors), indices, device, batch_size)
        if self.task == "classification":
            return 1.0 / (1.0 + np.exp(-out))
        return out * np.asarray(self.target_std, np.float32) + np.asarray(self.target_mean, np.float32)

    def predict_members(self, store: FeatureSource, indices: np.ndarray | None = None, device: str = "auto", batch_size: int = 1024) -> np.ndarray:
        """Per-member predictions ``[k, n, T]`` (probabilities or label units)."""
        indices = np.arange(store.n) if indices is None else np.asarray(indices)
        dev = resolve_device(device)
        return np.stack([self._member_predict(m, store, indices, dev, batch_size) for m in self.members])

    def predict(
        self, store: FeatureSource, indices: np.ndarray | None = None, device: str = "auto", batch_size: int = 1024,
        similarity: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ensemble mean and std, each ``[n, T]``; calibrated when the ensemble has a calibration
        (and shrunk toward the training prevalence when ``similarity`` to the training set is given)."""
        preds = self.predict_members(store, indices, device, batch_size)
        if not self.calibration:
            return preds.mean(0), preds.std(0)
        from drugnet.train.calibration import calibrated_moments

        return calibrated_moments(self.calibration, preds, similarity)


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
    data: Dataset, kind: str, task: str, hparams: dict[str, Any], y_model: np.ndarray, seed: int, device: str, threads: int,
    rows: tuple[np.ndarray, np.ndarray] | None = None, stop_epoch: int | None = None,
):
    """Train one member on ``rows`` = (fit rows, early-stopping rows), by default the train and val
    splits; ``stop_epoch`` (refit, no early-stopping rows) stops there. Returns ``(member, info, history)``."""
    train_idx, val_idx = rows if rows is not None else (data.indices("train"), data.indices("val"))
    if kind == "rf_ecfp":
        X = model_inputs(data.store, train_idx, "rf_ecfp", False).numpy()
        member = RFEcfp(task, hparams, seed=seed, threads=threads).fit(X, data.y[train_idx])
        val = float("nan")
        if len(val_idx):
            val = selection_score(task, data.y[val_idx], member.predict(model_inputs(data.store, val_idx, "rf_ecfp", False).numpy()))
        return member, {"seed": seed, "val_score": val, "best_epoch": None}, []
    seed_everything(seed)
    model = build_model(hparams)
    use_desc = bool(hparams.get("use_descriptors", False))
    if kind == "snn":
        model.fit_scaling(model_inputs(data.store, train_idx, "snn", use_desc))
    elif use_desc:
        model.fit_scaling(data.store.descriptors(torch.as_tensor(train_idx)).float())
    result = fit(
        model, lambda idx: model_inputs(data.store, idx, kind, use_desc), y_model, train_idx, val_idx, task, hparams,
        seed=seed, device=device, threads=threads, stop_epoch=stop_epoch,
    )
    info = {"seed": seed, "val_score": result.best_val, "best_epoch": result.best_epoch}
    return result.model.cpu(), info, result.history


def _scaled_targets(data: Dataset, task: str, rows: np.ndarray) -> tuple[np.ndarray, list[float] | None, list[float] | None]:
    """Model-space targets: labels as they are (classification) or standardized with ``rows``' statistics."""
    if task != "regression":
        return data.y, None, None
    mean, std = target_scaling(data.y[rows])
    return ((data.y - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)).astype(np.float32), mean, std


def refit_ensemble(data: Dataset, selection: Ensemble, device: str = "auto", threads: int = 1) -> tuple[Ensemble, list[dict]]:
    """Refit every member of ``selection`` on all labelled rows (train + val + test) with its hyperparameters,
    seed and selected epoch count (deep members: the early-stopping epoch; forests: same settings)."""
    rows = labelled_rows(data.y)
    y_model, mean, std = _scaled_targets(data, selection.task, rows)
    members, infos, history = [], [], []
    for k, sel_info in enumerate(selection.member_info):
        seed, epochs = int(sel_info["seed"]), sel_info.get("best_epoch")
        member, _, hist = train_member(data, selection.kind, selection.task, selection.hparams, y_model, seed, device, threads,
                                       rows=(rows, rows[:0]), stop_epoch=epochs)
        log.info("refit member %d (seed %d) on %d labelled rows, %s epochs", k, seed, len(rows), epochs)
        members.append(member)
        # val_score stays the selection fit's (the refit has no held-out rows); say where it came from
        infos.append({"seed": seed, "val_score": sel_info.get("val_score"), "best_epoch": epochs, "fit": "refit",
                      "rows": int(len(rows))})
        history += [{"member": k, **row} for row in hist]
    refit = Ensemble(selection.kind, selection.task, selection.targets, selection.hparams, members, mean, std,
                     selection.feature_settings, infos)
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
    """Train ``n_members`` members with seeds ``seed + k``; returns the ensemble and history rows (with ``member``)."""
    if threads:
        torch.set_num_threads(int(threads))
    hparams = default_hparams(kind, overrides, task)
    hparams["n_tasks"] = len(data.targets)
    if kind != "rf_ecfp":
        hparams.update(input_dims(data.store, kind, bool(hparams.get("use_descriptors", False))))
    y_model, mean, std = _scaled_targets(data, task, data.indices("train"))
    members, infos, history = [], [], []
    for k in range(n_members):
        member, info, hist = train_member(data, kind, task, hparams, y_model, seed + k, device, threads)
        log.info("member %d (seed %d): validation score %.4f", k, seed + k, info["val_score"])
        members.append(member)
        infos.append(info)
        history += [{"member": k, **row} for row in hist]
    ensemble = Ensemble(kind, task, list(data.targets), hparams, members, mean, std, data.feature_settings, infos)
    return ensemble, history
