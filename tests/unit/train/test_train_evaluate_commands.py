"""``drugnet train`` / ``drugnet evaluate`` end to end on a dataset directory built by the real
pipeline steps."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from drugnet.cli import main
from helpers.tiny_store import SMILES, aromatic_n_label


def _dataset_dir(root, smiles: list[str], split: list[str] | None):
    from drugnet.chem.curation import standardize_file, write_standardize_outputs
    from drugnet.features.build import featurize_file

    root.mkdir(parents=True)
    raw = root / "raw.csv"
    pd.DataFrame(
        {
            "cid": [f"c{i}" for i in range(len(smiles))],
            "smiles": smiles,
            "arom_n": [aromatic_n_label(s) for s in smiles],
            "other": [i % 2 for i in range(len(smiles))],
        }
    ).to_csv(raw, index=False)
    out = standardize_file(raw, id_column="cid", targets=["arom_n", "other"], task="classification")
    write_standardize_outputs(out, root / "standardized.csv", root / "rejects.csv")
    if split is not None:
        frame = out.standardized
        pd.DataFrame(
            {"id": frame["id"], "inchikey": frame["inchikey"], "split": split[: len(frame)]}
        ).to_csv(root / "split.csv", index=False)
    featurize_file(root / "standardized.csv", root / "features", n_bits=512)
    return root


@pytest.mark.slow
def test_train_then_evaluate_writes_metrics_and_predictions(tmp_path) -> None:
    ds = _dataset_dir(tmp_path / "ds", SMILES, ["train"] * 16 + ["val"] * 4 + ["test"] * 4)
    _dataset_dir(ds / "external_test", SMILES[:6], None)
    for model, hp in (
        ("snn", {"epochs": 3, "hidden": 16, "depth": 2}),
        ("gnn", {"epochs": 2, "hidden": 16, "head_hidden": 16}),
        ("rf_ecfp", {"n_estimators": 10}),
    ):
        rc = main(
            [
                "train",
                "--dataset-dir",
                str(ds),
                "--model",
                model,
                "--task",
                "classification",
                "--targets",
                "arom_n",
                "other",
                "--hparams",
                json.dumps(hp),
                "--output-dir",
                str(ds / "models" / model),
                "--ensemble",
                "2",
                "--threads",
                "1",
            ]
        )
        assert rc == 0
    meta = json.loads((ds / "models" / "snn" / "model.json").read_text())
    assert meta["feature_settings"]["n_bits"] == 512 and meta["ensemble_size"] == 2
    assert (
        main(
            [
                "evaluate",
                "--dataset-dir",
                str(ds),
                "--models",
                "snn",
                "gnn",
                "rf_ecfp",
                "--output",
                str(ds / "metrics.json"),
                "--threads",
                "1",
            ]
        )
        == 0
    )
    metrics = json.loads((ds / "metrics.json").read_text())
    assert set(metrics) == {"snn", "gnn", "rf_ecfp"}
    assert set(metrics["gnn"]) == {"train", "val", "test", "external_test"}
    assert set(metrics["rf_ecfp"]["train"]["mean"]) == {"roc_auc", "pr_auc", "ece", "brier"}
    assert metrics["rf_ecfp"]["train"]["per_task"]["arom_n"]["roc_auc"] > 0.9
    pred = pd.read_csv(ds / "predictions" / "snn_test.csv")
    assert list(pred.columns) == [
        "id",
        "smiles",
        "arom_n",
        "arom_n.std",
        "arom_n.true",
        "other",
        "other.std",
        "other.true",
    ]
    assert len(pred) == 4 and (pred["arom_n.std"] > 0).any()
    assert len(pd.read_csv(ds / "predictions" / "gnn_external_test.csv")) == 6
