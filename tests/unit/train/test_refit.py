"""Refit on all labels: final members see every labelled row with the selected epochs and seeds;
internal metrics stay with the selection fit, external_test uses the refitted members."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import drugnet.models.forest as baseline
import drugnet.train.fit_ensemble as ensemble_mod
from drugnet.features.dataset import load_dataset
from drugnet.inference.checkpoint import load_model_dir
from helpers.bace_dataset import bace_dataset, train_models


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return bace_dataset(tmp_path_factory.mktemp("refit") / "ds")


def _spy(monkeypatch):
    calls = []
    real_fit, real_rf_fit = ensemble_mod.fit, baseline.RFEcfp.fit

    def fit(model, make_inputs, y, train_idx, val_idx, task, settings, **kw):
        calls.append(
            {
                "kind": "deep",
                "train": np.array(train_idx),
                "val": np.array(val_idx),
                "stop": kw.get("stop_epoch"),
            }
        )
        return real_fit(model, make_inputs, y, train_idx, val_idx, task, settings, **kw)

    def rf_fit(self, X, y):
        calls.append({"kind": "rf", "n": len(X)})
        return real_rf_fit(self, X, y)

    monkeypatch.setattr(ensemble_mod, "fit", fit)
    monkeypatch.setattr(baseline.RFEcfp, "fit", rf_fit)
    return calls


@pytest.mark.slow
@pytest.mark.parametrize("model", ["gnn", "snn", "rf_ecfp"])
def test_refit_members_saw_every_labelled_row(dataset, model, monkeypatch) -> None:
    calls = _spy(monkeypatch)
    train_models(dataset, [model])
    data = load_dataset(dataset, ["Class", "heavy"])
    labelled = np.flatnonzero(~np.isnan(data.y).all(axis=1))
    assert len(labelled) < data.n  # the fixture has unlabelled rows: they must stay out
    assert set(data.split[labelled]) == {"train", "val", "test"}
    meta = json.loads((dataset / "models" / model / "model.json").read_text())
    assert meta["refit"] is True and len(meta["members"]) == len(meta["selection_members"]) == 2
    if model == "rf_ecfp":
        n_train = len(data.indices("train"))
        assert [c["n"] for c in calls] == [n_train, n_train, len(labelled), len(labelled)]
        return
    selection, refit = calls[:2], calls[2:]
    for sel, ref, info, sel_info in zip(
        selection, refit, meta["members"], meta["selection_members"], strict=False
    ):
        assert set(sel["train"]) == set(data.indices("train"))
        assert sorted(ref["train"]) == sorted(labelled) and len(ref["val"]) == 0
        assert ref["stop"] == sel_info["best_epoch"] == info["best_epoch"]
        assert (
            info["seed"] == sel_info["seed"]
            and info["fit"] == "refit"
            and info["rows"] == len(labelled)
        )
    history = pd.read_csv(dataset / "models" / model / "refit_history.csv")
    assert history.groupby("member")["epoch"].max().tolist() == [
        m["best_epoch"] for m in meta["members"]
    ]
    # the refitted SNN's input scaling is fitted on the refit rows, not on the training split
    if model == "snn":
        from drugnet.features.dataset import model_inputs

        final = load_model_dir(dataset / "models" / model).members[0]
        scaler = type(final.scaler)(
            final.scaler.mean.shape[0], n_log=final.scaler.n_log, min_count=final.scaler.min_count
        )
        scaler.fit(model_inputs(data.store, labelled, "snn", True))
        assert np.allclose(final.scaler.mean.numpy(), scaler.mean.numpy(), atol=1e-5)


@pytest.mark.slow
def test_selection_and_final_members_differ_and_are_loaded_on_request(dataset) -> None:
    train_models(dataset, ["snn"])
    data = load_dataset(dataset, ["Class", "heavy"])
    sel = load_model_dir(dataset / "models" / "snn", fit="selection")
    final = load_model_dir(dataset / "models" / "snn")
    idx = data.indices("test")
    assert not np.allclose(sel.predict(data.store, idx)[0], final.predict(data.store, idx)[0])
    with pytest.raises(ValueError, match="fit must be one of"):
        load_model_dir(dataset / "models" / "snn", fit="latest")


@pytest.mark.slow
def test_no_refit_keeps_one_set_of_members(dataset, tmp_path) -> None:
    train_models(dataset, ["rf_ecfp"], refit=False)
    meta = json.loads((dataset / "models" / "rf_ecfp" / "model.json").read_text())
    assert meta["refit"] is False and "selection_members" not in meta
    assert not (
        dataset / "models" / "rf_ecfp" / "selection"
    ).exists()  # a stale one from an earlier refit is removed


@pytest.mark.slow
def test_external_test_is_scored_by_the_refitted_members(dataset, tmp_path) -> None:
    from drugnet.cli import main
    from drugnet.features.build import featurize_file

    train_models(dataset, ["snn"])
    ext = dataset / "external_test"
    if not ext.exists():
        ext.mkdir()
        frame = pd.read_csv(dataset / "standardized.csv").head(30)
        frame.to_csv(ext / "standardized.csv", index=False)
        featurize_file(ext / "standardized.csv", ext / "features", n_bits=512)
    out = tmp_path / "metrics.json"
    assert (
        main(
            [
                "evaluate",
                "--dataset-dir",
                str(dataset),
                "--models",
                "snn",
                "--output",
                str(out),
                "--predictions-dir",
                str(tmp_path / "pred"),
                "--threads",
                "1",
            ]
        )
        == 0
    )
    metrics = json.loads(out.read_text())["snn"]
    assert {s: m["fit"] for s, m in metrics.items()} == {
        "train": "selection",
        "val": "selection",
        "test": "selection",
        "external_test": "refit",
    }
    final = load_model_dir(dataset / "models" / "snn")
    ext_data = load_dataset(ext, ["Class", "heavy"], with_split=False)
    table = pd.read_csv(tmp_path / "pred" / "snn_external_test.csv")
    # the domain shrinkage measures similarity to the rows the refit was trained on: every
    # labelled row
    from drugnet.features.tanimoto import ecfp4_bits, max_tanimoto
    from drugnet.train.fit_ensemble import labelled_rows

    data = load_dataset(dataset, ["Class", "heavy"])
    seen = ecfp4_bits([data.smiles[i] for i in labelled_rows(data.y)])
    similarity = max_tanimoto(ecfp4_bits(list(ext_data.smiles)), seen)[0]
    expected = final.predict(ext_data.store, similarity=similarity)[0][:, 0]
    assert np.allclose(table["Class"].to_numpy(), expected, atol=1e-5)
