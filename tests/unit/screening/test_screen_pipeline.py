import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from drugnet.screening.ordering import sort_by_rank
from drugnet.screening.rank import rank_shards
from drugnet.screening.score import (
    load_dataset_model,
    objective_model_names,
    resolve_model_dir,
    score_library,
    shard_bounds,
)

CAMPAIGN = {
    "library": "mini",
    "objectives": [
        {"dataset": "bace", "target": "Class", "direction": "maximize", "weight": 1.0},
        {"dataset": "esol", "target": "log_solubility", "direction": "maximize", "weight": 0.5},
    ],
    "filters": {"max_alerts": 1, "in_domain_only": False},
    "top_n": 10,
    "annotate_top": 30,
}


def write_dataset(root: Path, name: str, frame: pd.DataFrame, meta: dict, n_train: int) -> None:
    d = root / name
    (d / "models" / "gnn").mkdir(parents=True)
    (d / "models" / "snn").mkdir(parents=True)
    frame.to_csv(d / "standardized.csv", index=False)
    split = ["train"] * n_train + ["val"] * (len(frame) - n_train)
    pd.DataFrame({"id": frame["id"], "split": split}).to_csv(d / "split.csv", index=False)
    (d / "models" / "gnn" / "model.json").write_text(
        json.dumps({**meta, "members": [{"val_score": 0.8}, {"val_score": 0.7}]})
    )
    (d / "models" / "snn" / "model.json").write_text(
        json.dumps({**meta, "members": [{"val_score": 0.5}]})
    )


@pytest.fixture()
def workspace(tmp_path, bace_head, esol_head):
    results = tmp_path / "results"
    write_dataset(
        results, "bace", bace_head.iloc[:80], {"task": "classification", "targets": ["Class"]}, 60
    )
    write_dataset(
        results,
        "esol",
        esol_head.iloc[:50],
        {
            "task": "regression",
            "targets": ["log_solubility"],
            "target_mean": [-3.0],
            "target_std": [2.0],
        },
        40,
    )
    lib_src = pd.concat([bace_head.iloc[40:100], esol_head.iloc[50:80]], ignore_index=True)
    library = pd.DataFrame(
        {
            "id": [f"L{i:03d}" for i in range(len(lib_src))],
            "input_smiles": lib_src["smiles"],
            "smiles": lib_src["smiles"],
            "inchikey": [Chem.MolToInchiKey(Chem.MolFromSmiles(s)) for s in lib_src["smiles"]],
            "n_merged": 1,
            "merged_ids": "",
            "Class": lib_src["Class"],
        }
    )
    lib_path = tmp_path / "standardized.csv"
    library.to_csv(lib_path, index=False)
    return results, lib_path, library


def chunk_sensitive_predictor(kind: str):
    """Deterministic per molecule, plus a tiny term that depends on the batch it is predicted in."""

    def predict(smiles):
        mols = [Chem.MolFromSmiles(s) for s in smiles]
        heavy = np.array([m.GetNumHeavyAtoms() for m in mols], dtype=float)
        rings = np.array([m.GetRingInfo().NumRings() for m in mols], dtype=float)
        batch_term = 1e-9 * len(smiles) + 1e-10 * len(smiles[0])
        value = (rings / (rings + 2.0)) if kind == "clf" else (-0.1 * heavy + rings * 0.3)
        return (value + batch_term)[:, None], np.full((len(smiles), 1), 0.01)

    return predict


PREDICTORS = {"bace": chunk_sensitive_predictor("clf"), "esol": chunk_sensitive_predictor("reg")}


def load_models(results):
    return [
        load_dataset_model(results / ds, ds, m) for ds, m in objective_model_names(CAMPAIGN).items()
    ]


def test_shard_bounds_cover_rows_in_whole_chunks():
    for n_rows, n_shards in [(0, 3), (10, 1), (100, 3), (100, 8), (1025, 2)]:
        bounds = [shard_bounds(n_rows, i, n_shards, chunk_size=8) for i in range(n_shards)]
        assert bounds[0][0] == 0 and bounds[-1][1] == n_rows
        assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
        assert all(start % 8 == 0 for start, _ in bounds)


def test_best_model_is_highest_mean_validation_score(workspace):
    results, _, _ = workspace
    assert resolve_model_dir(results / "bace").name == "gnn"
    assert resolve_model_dir(results / "bace", "snn").name == "snn"
    with pytest.raises(FileNotFoundError):
        resolve_model_dir(results / "bace", "rf_ecfp")
    dm = load_dataset_model(results / "bace", "bace")
    assert len(dm.train_ids) == 60 and dm.task_info.targets == ("Class",)


def _model_json(folder: Path, meta: dict) -> None:
    folder.mkdir(parents=True)
    (folder / "model.json").write_text(json.dumps(meta))


def test_best_chooses_among_the_candidates_only(tmp_path):
    models = tmp_path / "models"
    _model_json(models / "gnn", {"members": [{"val_score": 0.80}, {"val_score": 0.84}]})
    _model_json(models / "snn", {"members": [{"val_score": 0.81}]})
    _model_json(models / "consensus", {"val_score": 0.83, "members": [{"val_score": 0.5}]})
    _model_json(models / "gnn_depth8", {"members": [{"val_score": 0.99}]})  # a study model
    _model_json(models / "broken", {"members": [{"val_score": float("nan")}]})
    assert resolve_model_dir(tmp_path).name == "gnn_depth8"  # no candidates: every folder
    best = resolve_model_dir(tmp_path, "best", ["gnn", "snn", "consensus", "broken"])
    assert best.name == "consensus"  # its own 0.83 beats gnn's mean 0.82, members ignored
    assert resolve_model_dir(tmp_path, "best", ["broken", "snn"]).name == "snn"  # NaN ranks last
    assert resolve_model_dir(tmp_path, "snn", ["gnn"]).name == "snn"  # a named model wins
    with pytest.raises(FileNotFoundError, match="rf_ecfp"):
        resolve_model_dir(tmp_path, "best", ["gnn", "rf_ecfp"])


def test_best_of_option_is_parsed_and_checked():
    from drugnet.commands.screen import _best_of

    assert _best_of("bace=gnn,snn,consensus") == ("bace", ["gnn", "snn", "consensus"])
    for bad in ("bace", "=gnn", "bace="):
        with pytest.raises(argparse.ArgumentTypeError, match="DATASET=M1,M2"):
            _best_of(bad)


def score_to_files(results, library, out: Path, n_shards: int, chunk_size: int) -> list[Path]:
    """Shard CSVs as `drugnet screen score` writes them: with the campaign score, in rank order."""
    models = load_models(results)
    paths = []
    for shard in range(n_shards):
        path = out / f"shard_{shard}.csv"
        table = score_library(
            library, models, PREDICTORS, shard, n_shards, chunk_size, campaign=CAMPAIGN
        )
        sort_by_rank(table).to_csv(path, index=False)
        paths.append(path)
    return paths


OUTPUTS = ("ranked.csv", "top.csv", "top.sdf", "enrichment.json")


def one_sorted_shard(shards: list[Path], path: Path) -> Path:
    """The shards read into one DataFrame and written back as a single shard in rank order."""
    text = {"id": str, "smiles": str}
    frames = [pd.read_csv(p, dtype=text, keep_default_na=False, na_values=[""]) for p in shards]
    sort_by_rank(pd.concat(frames, ignore_index=True)).to_csv(path, index=False)
    return path


def test_sharded_and_unsharded_ranking_identical(workspace, tmp_path):
    results, _lib_path, library = workspace
    models = load_models(results)
    texts = []
    for n_shards in (1, 4):
        out = tmp_path / f"run{n_shards}"
        out.mkdir()
        shards = score_to_files(results, library, out, n_shards, chunk_size=8)
        rank_shards(shards, CAMPAIGN, models, out / "screen", library)
        texts.append({f: (out / "screen" / f).read_text() for f in OUTPUTS})
        # the shards concatenated in memory and ranked as one shard give the same files
        one = one_sorted_shard(shards, out / "all.csv")
        rank_shards([one], CAMPAIGN, models, out / "memory", library)
        assert {f: (out / "memory" / f).read_text() for f in OUTPUTS} == texts[-1]
    assert texts[0] == texts[1]
    # the check has teeth: another chunking changes the batch-dependent predictions
    other = score_library(library, models, PREDICTORS, 0, 1, chunk_size=7)
    assert not np.array_equal(
        other["bace.Class"], score_library(library, models, PREDICTORS, 0, 1, 8)["bace.Class"]
    )


def test_outputs_layout(workspace, tmp_path):
    results, _lib_path, library = workspace
    shards = score_to_files(results, library, tmp_path, 2, chunk_size=16)
    rank_shards(shards, CAMPAIGN, load_models(results), tmp_path / "screen", library)
    ranked = pd.read_csv(
        tmp_path / "screen" / "ranked.csv",
        dtype={"id": str, "smiles": str},
        keep_default_na=False,
        na_values=[""],
    )
    disk = pd.read_csv(tmp_path / "screen" / "ranked.csv", keep_default_na=False)
    assert list(disk.columns) == [
        "rank",
        "id",
        "smiles",
        "n_merged",
        "score",
        "bace.Class",
        "bace.Class.std",
        "esol.log_solubility",
        "esol.log_solubility.std",
        "ad_similarity",
        "nearest_train_id",
        "ad_weight",
        "esol.ad_similarity",
        "esol.nearest_train_id",
        "esol.ad_weight",
        "in_domain",
        "qed",
        "mw",
        "clogp",
        "hbd",
        "hba",
        "tpsa",
        "rotatable_bonds",
        "lipinski_violations",
        "alerts",
        "cluster",
        "explanation",
        "explanation_atoms",
        "why",
    ]
    assert disk["rank"].tolist() == list(range(1, len(library) + 1))
    assert (np.diff(ranked["score"].to_numpy()) <= 0).all()
    assert ranked["cluster"].notna().sum() == 30 and ranked["cluster"].iloc[0] == 1
    # library rows 0..19 are BACE training compounds (bace rows 40..59): their nearest training
    # neighbour is themselves
    first = ranked.set_index("id").loc[[f"L{i:03d}" for i in range(20)]]
    assert (first["ad_similarity"] == 1.0).all()
    assert first["nearest_train_id"].tolist() == [f"bace{i:04d}" for i in range(40, 60)]
    # in_domain needs every objective dataset: BACE inhibitors are far from the ESOL training set
    assert (first["in_domain"] == (first["esol.ad_similarity"] >= 0.35)).all() and not first[
        "in_domain"
    ].all()
    top = pd.read_csv(tmp_path / "screen" / "top.csv", keep_default_na=False)
    assert 0 < len(top) <= 10 and top["cluster"].value_counts().max() <= 3
    assert len(Chem.SDMolSupplier(str(tmp_path / "screen" / "top.sdf"))) == len(top)
    report = json.loads((tmp_path / "screen" / "enrichment.json").read_text())
    assert list(report) == ["bace.Class"]
    entry = report["bace.Class"]
    assert set(entry) == {"model", "similarity", "rf_ecfp", "n_actives", "n"}
    assert entry["n"] == 60 and entry["n_actives"] == int(library["Class"].sum())
    assert set(entry["model"]) >= {"roc_auc", "pr_auc", "ef_1", "ef_5", "bedroc_20"}


def test_cli_rank_step(workspace, tmp_path):
    from drugnet.cli import main

    results, lib_path, library = workspace
    shards = score_to_files(results, library, tmp_path, 3, chunk_size=8)
    code = main(
        [
            "screen",
            "rank",
            "--campaign-json",
            json.dumps(CAMPAIGN),
            "--library",
            str(lib_path),
            "--results-dir",
            str(results),
            "--inputs",
            *map(str, shards),
            "--output-dir",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "ranked.csv",
        "top.csv",
        "top.sdf",
        "enrichment.json",
    }


def test_refitted_model_domain_is_every_labelled_row(workspace):
    """A refit has seen val and test: they count as training compounds for the domain."""
    results, _, _ = workspace
    model_json = results / "bace" / "models" / "gnn" / "model.json"
    meta = json.loads(model_json.read_text())
    model_json.write_text(json.dumps({**meta, "refit": True}))
    frame = pd.read_csv(results / "bace" / "standardized.csv")
    frame.loc[frame.index[-5:], "Class"] = np.nan  # unlabelled rows: not fitted on
    frame.to_csv(results / "bace" / "standardized.csv", index=False)
    dm = load_dataset_model(results / "bace", "bace", "gnn")
    assert len(dm.train_ids) == 75 and dm.train_labels["Class"].notna().all()
    assert len(load_dataset_model(results / "bace", "bace", "snn").train_ids) == 60
