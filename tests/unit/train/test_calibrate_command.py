"""``drugnet train`` fits the calibration on validation rows only; ``drugnet calibrate`` refits
it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from drugnet.cli import main
from helpers.paths import DATA


@pytest.fixture(scope="module")
def bace_dir(tmp_path_factory) -> Path:
    from drugnet.chem.curation import standardize_file, write_standardize_outputs
    from drugnet.features.build import featurize_file

    root = tmp_path_factory.mktemp("bace")
    raw = pd.read_csv(DATA / "bace.csv.gz").sample(360, random_state=0)
    raw[["mol", "Class"]].to_csv(root / "raw.csv", index=False)
    out = standardize_file(
        root / "raw.csv", smiles_column="mol", targets=["Class"], task="classification"
    )
    write_standardize_outputs(out, root / "standardized.csv", root / "rejects.csv")
    frame = out.standardized
    split = np.array(["train", "val", "test"])[np.arange(len(frame)) % 3]
    pd.DataFrame({"id": frame["id"], "inchikey": frame["inchikey"], "split": split}).to_csv(
        root / "split.csv", index=False
    )
    featurize_file(root / "standardized.csv", root / "features", n_bits=512)
    assert (
        main(
            [
                "train",
                "--dataset-dir",
                str(root),
                "--model",
                "rf_ecfp",
                "--task",
                "classification",
                "--targets",
                "Class",
                "--hparams",
                json.dumps({"n_estimators": 30}),
                "--output-dir",
                str(root / "models" / "rf_ecfp"),
                "--threads",
                "1",
            ]
        )
        == 0
    )
    return root


def _calibration(root: Path) -> dict:
    return json.loads((root / "models" / "rf_ecfp" / "model.json").read_text())["calibration"]


def _flip_labels(root: Path, split_name: str) -> None:
    frame = pd.read_csv(root / "standardized.csv", dtype=str, keep_default_na=False)
    split = pd.read_csv(root / "split.csv")["split"].to_numpy()
    rows = split == split_name
    frame.loc[rows, "Class"] = np.where(frame.loc[rows, "Class"] == "1", "0", "1")
    frame.to_csv(root / "standardized.csv", index=False)


def test_train_records_calibration_fitted_on_validation(bace_dir):
    block = _calibration(bace_dir)
    assert block["fitted_on"] == "val" and block["n_val"] == 120
    assert block["map"]["tasks"][0]["method"] in ("identity", "platt", "isotonic")
    assert 0.0 <= block["shrinkage"]["threshold"] <= 1.0
    assert block["shrinkage"]["prevalence"][0] == pytest.approx(0.45, abs=0.1)


def test_test_labels_never_change_the_calibration_but_validation_labels_do(bace_dir):
    before = _calibration(bace_dir)
    _flip_labels(bace_dir, "test")
    assert (
        main(
            [
                "calibrate",
                "--dataset-dir",
                str(bace_dir),
                "--model-dir",
                str(bace_dir / "models" / "rf_ecfp"),
            ]
        )
        == 0
    )
    assert _calibration(bace_dir) == before
    _flip_labels(bace_dir, "val")
    assert (
        main(
            [
                "calibrate",
                "--dataset-dir",
                str(bace_dir),
                "--model-dir",
                str(bace_dir / "models" / "rf_ecfp"),
            ]
        )
        == 0
    )
    assert _calibration(bace_dir)["map"] != before["map"]


def test_evaluate_reports_ece_and_brier_per_split(bace_dir):
    out = bace_dir / "metrics.json"
    assert (
        main(
            [
                "evaluate",
                "--dataset-dir",
                str(bace_dir),
                "--models",
                "rf_ecfp",
                "--output",
                str(out),
                "--threads",
                "1",
            ]
        )
        == 0
    )
    metrics = json.loads(out.read_text())["rf_ecfp"]
    for split in ("train", "val", "test"):
        assert set(metrics[split]["mean"]) == {"roc_auc", "pr_auc", "ece", "brier"}
        assert (
            0 <= metrics[split]["per_task"]["Class"]["ece"] <= 1
            and 0 <= metrics[split]["mean"]["brier"] <= 1
        )
