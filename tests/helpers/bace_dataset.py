"""Test helper: a small dataset directory of real BACE molecules built with the pipeline's own
steps, and tiny trained gnn / snn / rf_ecfp models in it (for the consensus and refit tests)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.paths import REPO

TINY = {
    "gnn": {"epochs": 4, "hidden": 16, "head_hidden": 16, "depth": 2, "patience": 2},
    "snn": {"epochs": 4, "hidden": 32, "depth": 2, "patience": 2, "min_feature_count": 2},
    "rf_ecfp": {"n_estimators": 20},
}


def bace_dataset(root: Path, n: int = 240, unlabelled: int = 6) -> Path:
    """Every 6th BACE row (both classes), a second target derived from it, a seeded random
    60/20/20 split; the last ``unlabelled`` rows have no label at all."""
    from drugnet.chem.curation import standardize_file, write_standardize_outputs
    from drugnet.features.build import featurize_file

    root.mkdir(parents=True)
    raw = pd.read_csv(REPO / "data" / "bace.csv.gz").iloc[::6].head(n).reset_index(drop=True)
    raw["Class"] = raw["Class"].astype(float)
    raw["heavy"] = (raw["mol"].str.count("Cl|Br|F") > 0).astype(float)  # a second, learnable target
    raw.loc[len(raw) - unlabelled :, ["Class", "heavy"]] = np.nan
    raw.to_csv(root / "raw.csv", index=False)
    out = standardize_file(
        root / "raw.csv", smiles_column="mol", targets=["Class", "heavy"], task="classification"
    )
    write_standardize_outputs(out, root / "standardized.csv", root / "rejects.csv")
    frame = out.standardized
    split = np.random.default_rng(0).choice(
        ["train", "val", "test"], size=len(frame), p=[0.6, 0.2, 0.2]
    )
    pd.DataFrame({"id": frame["id"], "inchikey": frame["inchikey"], "split": split}).to_csv(
        root / "split.csv", index=False
    )
    featurize_file(root / "standardized.csv", root / "features", n_bits=512)
    return root


def train_models(ds: Path, models=("gnn", "snn", "rf_ecfp"), refit: bool = True) -> None:
    from drugnet.cli import main

    for model in models:
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
                "Class",
                "heavy",
                "--hparams",
                json.dumps(TINY[model]),
                "--output-dir",
                str(ds / "models" / model),
                "--ensemble",
                "2",
                "--threads",
                "1",
                "--refit" if refit else "--no-refit",
            ]
        )
        assert rc == 0
