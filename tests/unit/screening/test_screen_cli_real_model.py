"""End to end with a real (tiny) trained GNN: `drugnet screen score` sharded and unsharded, then
`screen rank`."""

import json

import numpy as np
import pandas as pd
from rdkit import Chem


def test_screen_cli_sharded_equals_unsharded_with_trained_gnn(tmp_path, bace_head):
    import torch

    from drugnet.cli import main
    from drugnet.features.build import store_from_smiles
    from drugnet.features.dataset import Dataset
    from drugnet.inference.checkpoint import save_model_dir
    from drugnet.train.fit_ensemble import train_ensemble

    torch.set_num_threads(1)
    train = bace_head.iloc[:40]
    results = tmp_path / "results"
    (results / "bace").mkdir(parents=True)
    train.to_csv(results / "bace" / "standardized.csv", index=False)
    pd.DataFrame({"id": train["id"], "split": ["train"] * 32 + ["val"] * 8}).to_csv(
        results / "bace" / "split.csv", index=False
    )
    store = store_from_smiles(train["smiles"].tolist(), {}, n_jobs=1)
    data = Dataset(
        train["id"].tolist(),
        train["smiles"].tolist(),
        ["Class"],
        train[["Class"]].to_numpy(np.float32),
        store,
        np.array(["train"] * 32 + ["val"] * 8),
    )
    ens, hist = train_ensemble(
        data,
        "gnn",
        "classification",
        {"epochs": 2, "hidden": 16, "depth": 2},
        n_members=2,
        threads=1,
    )
    save_model_dir(ens, results / "bace" / "models" / "gnn", hist)

    lib = bace_head.iloc[40:100]
    library = pd.DataFrame(
        {
            "id": [f"L{i:03d}" for i in range(len(lib))],
            "input_smiles": lib["smiles"],
            "smiles": lib["smiles"],
            "inchikey": [Chem.MolToInchiKey(Chem.MolFromSmiles(s)) for s in lib["smiles"]],
            "n_merged": 1,
            "merged_ids": "",
            "Class": lib["Class"],
        }
    )
    lib_path = tmp_path / "standardized.csv"
    library.to_csv(lib_path, index=False)
    campaign = json.dumps(
        {
            "library": "mini",
            "model": "gnn",
            "top_n": 5,
            "annotate_top": 20,
            "objectives": [
                {"dataset": "bace", "target": "Class", "direction": "maximize", "weight": 1.0}
            ],
        }
    )
    common = [
        "--campaign-json",
        campaign,
        "--library",
        str(lib_path),
        "--results-dir",
        str(results),
    ]
    if not torch.cuda.is_available():  # a clear refusal, not a silent CPU run
        assert (
            main(
                [
                    "screen",
                    "score",
                    *common,
                    "--device",
                    "cuda",
                    "--output",
                    str(tmp_path / "gpu.csv"),
                ]
            )
            == 2
        )
    assert (
        main(
            [
                "screen",
                "score",
                *common,
                "--device",
                "cuda:x",
                "--output",
                str(tmp_path / "gpu.csv"),
            ]
        )
        == 2
    )
    assert not (tmp_path / "gpu.csv").exists()
    ranked = []
    for n_shards in (1, 3):
        shards = [tmp_path / f"n{n_shards}_shard{i}.csv" for i in range(n_shards)]
        for i, path in enumerate(shards):
            device = ["--device", "cpu"] if n_shards == 1 else []  # explicit cpu == the default
            assert (
                main(
                    [
                        "screen",
                        "score",
                        *common,
                        "--shard",
                        str(i),
                        "--n-shards",
                        str(n_shards),
                        "--chunk-size",
                        "8",
                        "--output",
                        str(path),
                        *device,
                    ]
                )
                == 0
            )
        out = tmp_path / f"screen{n_shards}"
        assert (
            main(
                ["screen", "rank", *common, "--inputs", *map(str, shards), "--output-dir", str(out)]
            )
            == 0
        )
        ranked.append((out / "ranked.csv").read_text())
    assert ranked[0] == ranked[1]
    table = pd.read_csv(tmp_path / "screen1" / "ranked.csv")
    assert len(table) == 60 and table["bace.Class"].between(0, 1).all()
    assert (
        json.loads((tmp_path / "screen1" / "enrichment.json").read_text())["bace.Class"]["n"] == 60
    )
    # the 20 annotated rows are explained by integrated gradients on the trained GNN, the rest are
    # not
    text = pd.read_csv(tmp_path / "screen1" / "ranked.csv", keep_default_na=False)
    assert (text["explanation"].iloc[:20] != "").all() and (
        text["explanation"].iloc[20:] == ""
    ).all()
    atoms = text["explanation_atoms"].iloc[:20]
    assert atoms.str.fullmatch(r"\d+:[+-]\d+\.\d{4}(;\d+:[+-]\d+\.\d{4})*").all()
    for smiles, entry in zip(text["smiles"].iloc[:20], atoms, strict=False):
        n_atoms = Chem.MolFromSmiles(smiles).GetNumAtoms()
        assert all(0 <= int(item.split(":")[0]) < n_atoms for item in entry.split(";"))
