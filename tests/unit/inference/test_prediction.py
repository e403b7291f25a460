"""``drugnet predict``: standardize, featurize in memory, score, write rejects beside the output."""

from __future__ import annotations

import numpy as np
import pandas as pd

from drugnet.inference.prediction import rejects_path


def test_rejects_path_is_beside_output(tmp_path) -> None:
    assert rejects_path(tmp_path / "scores.csv") == tmp_path / "scores.rejects.csv"
    assert rejects_path(tmp_path / "scores.csv.gz") == tmp_path / "scores.rejects.csv"


def test_predict_command_writes_predictions_and_rejects(tmp_path) -> None:
    from drugnet.cli import main
    from drugnet.features.build import store_from_smiles
    from drugnet.features.dataset import Dataset
    from drugnet.inference.checkpoint import save_model_dir
    from drugnet.train.fit_ensemble import train_ensemble

    train_smiles = [
        "CC(=O)Oc1ccccc1C(=O)O",
        "c1ccncc1",
        "CCO",
        "OC(=O)c1cccnc1",
        "CCCCCCCCO",
        "c1ccc(cc1)-c1ccccn1",
        "O=C1CCCCC1",
        "Nc1ncnc2[nH]cnc12",
    ]
    y = np.array([[0], [1], [0], [1], [0], [1], [0], [1]], np.float32)
    store = store_from_smiles(train_smiles, {}, n_jobs=1)
    data = Dataset(
        [str(i) for i in range(8)],
        train_smiles,
        ["arom_n"],
        y,
        store,
        np.array(["train"] * 6 + ["val"] * 2),
    )
    ens, hist = train_ensemble(
        data,
        "snn",
        "classification",
        {"epochs": 3, "hidden": 16, "depth": 2},
        n_members=2,
        threads=1,
    )
    save_model_dir(ens, tmp_path / "model", hist)

    inp = tmp_path / "library.csv"
    pd.DataFrame(
        {
            "name": ["a", "bad", "c", "empty"],
            "smiles": ["c1ccncc1", "C1CC(", "CC(=O)Nc1ccc(O)cc1.Cl", ""],
        }
    ).to_csv(inp, index=False)
    out = tmp_path / "scores.csv"
    assert (
        main(
            [
                "predict",
                "--model",
                str(tmp_path / "model"),
                "--input",
                str(inp),
                "--output",
                str(out),
                "--id-column",
                "name",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    pred = pd.read_csv(out, dtype={"id": str})
    assert list(pred.columns) == ["id", "smiles", "arom_n", "arom_n.std"]
    assert sorted(pred["id"]) == ["a", "c"]
    assert pred["arom_n"].between(0, 1).all() and (pred["arom_n.std"] >= 0).all()
    rejects = pd.read_csv(tmp_path / "scores.rejects.csv", dtype=str)
    assert len(rejects) == 2
