"""Training loop, ensembles, rf_ecfp baseline and checkpoints on a tiny real-molecule set."""

from __future__ import annotations

import json

import numpy as np
import pytest

from drugnet.features.dataset import Dataset
from drugnet.inference.checkpoint import load_model_dir, save_model_dir
from drugnet.train.fit_ensemble import train_ensemble
from drugnet.train.metrics import roc_auc
from helpers.tiny_store import SMILES, TinyStore, aromatic_n_label

FAST = {"epochs": 30, "patience": 30, "warmup_epochs": 0, "batch_size": 12}


@pytest.fixture(scope="module")
def store() -> TinyStore:
    return TinyStore(SMILES)


def classification_data(store: TinyStore, all_train: bool = False) -> Dataset:
    y = np.array(
        [
            [aromatic_n_label(s), float(i % 3 == 0) if i % 4 else np.nan]
            for i, s in enumerate(SMILES)
        ],
        np.float32,
    )
    split = (
        np.array(["train"] * 18 + ["val"] * 3 + ["test"] * 3)
        if not all_train
        else np.array(["train"] * len(SMILES))
    )
    if all_train:
        split[-2:] = "val"
    return Dataset(
        [f"m{i}" for i in range(len(SMILES))], SMILES, ["arom_n", "mod3"], y, store, split
    )


@pytest.mark.parametrize(
    "kind,overrides",
    [
        ("gnn", {"hidden": 32, "head_hidden": 32, "dropout": 0.0, "lr": 1e-2, "epochs": 60}),
        ("snn", {"hidden": 64, "depth": 3, "dropout": 0.0, "input_dropout": 0.0, "lr": 3e-3}),
    ],
)
def test_overfits_tiny_set(store: TinyStore, kind: str, overrides: dict) -> None:
    data = classification_data(store)
    data.split[:] = "train"  # no validation rows: all epochs run and the last weights are kept
    ens, history = train_ensemble(data, kind, "classification", {**FAST, **overrides}, threads=1)
    mean, _ = ens.predict(store, data.indices("train"), device="cpu")
    assert roc_auc(data.y[data.indices("train")], mean)[0] == 1.0
    assert history[-1]["train_loss"] < 0.05 < history[0]["train_loss"]
    assert {"member", "epoch", "train_loss", "val_metric", "lr", "seconds"} <= set(history[0])


def test_same_seed_same_predictions_and_checkpoint_round_trip(store: TinyStore, tmp_path) -> None:
    data = classification_data(store)
    hp = {**FAST, "epochs": 4, "hidden": 32, "head_hidden": 32, "readout": "attention"}
    a, hist = train_ensemble(data, "gnn", "classification", hp, n_members=2, seed=3, threads=1)
    b, _ = train_ensemble(data, "gnn", "classification", hp, n_members=2, seed=3, threads=1)
    c, _ = train_ensemble(data, "gnn", "classification", hp, n_members=2, seed=4, threads=1)
    pa, sa = a.predict(store, device="cpu")
    assert np.array_equal(pa, b.predict(store, device="cpu")[0])
    assert not np.allclose(pa, c.predict(store, device="cpu")[0])
    assert (sa > 0).any() and pa.shape == (len(SMILES), 2)
    assert [m["seed"] for m in a.member_info] == [3, 4]
    save_model_dir(a, tmp_path / "gnn", hist)
    meta = json.loads((tmp_path / "gnn" / "model.json").read_text())
    assert (
        meta["kind"] == "gnn"
        and meta["ensemble_size"] == 2
        and meta["targets"] == ["arom_n", "mod3"]
    )
    loaded = load_model_dir(tmp_path / "gnn")
    pl, sl = loaded.predict(store, device="cpu")
    assert np.array_equal(pa, pl) and np.array_equal(sa, sl)
    assert (
        (tmp_path / "gnn" / "history.csv")
        .read_text()
        .startswith("member,epoch,train_loss,val_metric,lr,seconds")
    )


def test_snn_regression_round_trip_in_label_units(store: TinyStore, tmp_path) -> None:
    y = store.desc[:, 1:2].numpy() * 2 + 5  # logP-derived target with non-zero mean
    data = Dataset(
        [str(i) for i in range(store.n)],
        SMILES,
        ["t"],
        y.astype(np.float32),
        store,
        np.array(["train"] * 20 + ["test"] * 4),
    )
    ens, hist = train_ensemble(
        data,
        "snn",
        "regression",
        {
            **FAST,
            "epochs": 40,
            "hidden": 64,
            "depth": 2,
            "dropout": 0.0,
            "input_dropout": 0.0,
            "lr": 3e-3,
        },
        threads=1,
    )
    assert abs(ens.target_mean[0] - float(y[:20].mean())) < 1e-4
    pred, _ = ens.predict(store, device="cpu")
    assert np.sqrt(np.mean((pred[:20] - y[:20]) ** 2)) < 0.5 * y[:20].std()
    save_model_dir(ens, tmp_path / "snn", hist)
    assert np.array_equal(pred, load_model_dir(tmp_path / "snn").predict(store, device="cpu")[0])


def test_rf_ecfp_baseline_round_trip(store: TinyStore, tmp_path) -> None:
    data = classification_data(store)
    ens, hist = train_ensemble(
        data, "rf_ecfp", "classification", {"n_estimators": 30}, seed=1, threads=1
    )
    p, _ = ens.predict(store, device="cpu")
    assert roc_auc(data.y[data.indices("train")], p[data.indices("train")])[0] > 0.95
    save_model_dir(ens, tmp_path / "rf", hist)
    assert (tmp_path / "rf" / "member_0.npz").exists() and not list(
        (tmp_path / "rf").glob("*.joblib")
    )
    assert np.array_equal(p, load_model_dir(tmp_path / "rf").predict(store, device="cpu")[0])
    again, _ = train_ensemble(
        data, "rf_ecfp", "classification", {"n_estimators": 30}, seed=1, threads=1
    )
    assert np.array_equal(p, again.predict(store)[0])


def test_early_stopping_restores_best_epoch(store: TinyStore) -> None:
    data = classification_data(store)
    ens, history = train_ensemble(
        data,
        "snn",
        "classification",
        {"epochs": 30, "patience": 3, "hidden": 32, "depth": 2, "lr": 1e-2, "batch_size": 8},
        threads=1,
    )
    best = ens.member_info[0]["best_epoch"]
    vals = [h["val_metric"] for h in history]
    assert len(history) <= 30 and vals[best - 1] == max(v for v in vals if not np.isnan(v))
    assert len(history) == 30 or len(history) - best == 3


def test_regression_snn_defaults_to_no_dropout_unless_asked(store: TinyStore) -> None:
    y = (store.desc[:, 1:2].numpy() * 2 + 5).astype(np.float32)
    data = Dataset(
        [str(i) for i in range(store.n)],
        SMILES,
        ["t"],
        y,
        store,
        np.array(["train"] * 20 + ["val"] * 4),
    )
    ens, _ = train_ensemble(data, "snn", "regression", {**FAST, "epochs": 2}, threads=1)
    assert ens.hparams["dropout"] == 0.0 and ens.hparams["input_dropout"] == 0.0
    ens, _ = train_ensemble(
        data, "snn", "regression", {**FAST, "epochs": 2, "dropout": 0.3}, threads=1
    )
    assert ens.hparams["dropout"] == 0.3 and ens.hparams["input_dropout"] == 0.0
    classification = classification_data(store)
    ens, _ = train_ensemble(
        classification, "snn", "classification", {**FAST, "epochs": 2}, threads=1
    )
    assert ens.hparams["dropout"] > 0.0


def test_stop_epoch_replays_the_first_epochs_of_the_full_schedule() -> None:
    """A refit stops at the selected epoch with the learning-rate schedule of the full run."""
    import numpy as np
    import torch

    from drugnet.train.loop import fit
    from drugnet.train.settings import TrainSettings

    rng = np.random.default_rng(0)
    X = torch.tensor(rng.normal(size=(64, 5)), dtype=torch.float32)
    y = (X[:, :1].numpy() > 0).astype(np.float32)
    hp = TrainSettings(epochs=6, batch_size=16, lr=1e-2, warmup_epochs=1)
    make = lambda idx: X[torch.as_tensor(idx)]  # noqa: E731
    idx, none = np.arange(64), np.arange(0)
    torch.manual_seed(0)
    full = fit(
        torch.nn.Linear(5, 1), make, y, idx, none, "classification", hp, seed=0, device="cpu"
    )
    torch.manual_seed(0)
    short = fit(
        torch.nn.Linear(5, 1),
        make,
        y,
        idx,
        none,
        "classification",
        hp,
        seed=0,
        device="cpu",
        stop_epoch=3,
    )
    assert len(full.history) == 6 and len(short.history) == 3
    assert [r["lr"] for r in short.history] == [r["lr"] for r in full.history[:3]]
    assert [r["train_loss"] for r in short.history] == [r["train_loss"] for r in full.history[:3]]
