"""The streaming rank step: sorted shards k-way merged equal the in-memory ranking."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from drugnet.features.tanimoto import ecfp4_bits
from drugnet.screening import rank as rank_mod
from drugnet.screening.desirability import TaskInfo, expand_objectives, rank_frame
from drugnet.screening.enrichment import (
    enrichment_metrics,
    rf_ecfp_scores,
    similarity_baseline_scores,
)
from drugnet.screening.ordering import merge_ranked_csvs, rank_key, sort_by_rank
from drugnet.screening.rank import annotate_top_block, rank_shards, ranked_column_order
from drugnet.screening.score import DatasetModel, score_library, score_shard_file

CAMPAIGN = {
    "library": "hand",
    "objectives": [{"dataset": "bace", "target": "Class", "direction": "maximize", "weight": 1.0}],
    "filters": {"max_alerts": 1, "in_domain_only": False},
    "top_n": 6,
    "annotate_top": 12,
}
OUTPUTS = ("ranked.csv", "top.csv", "top.sdf", "enrichment.json")


def model(train: pd.DataFrame) -> DatasetModel:
    return DatasetModel(
        "bace",
        None,
        TaskInfo("classification", ("Class",)),
        train["id"].tolist(),
        train["smiles"].tolist(),
        train[["Class"]].reset_index(drop=True),
    )


@pytest.fixture()
def predictions(bace_head) -> pd.DataFrame:
    """40 compounds with many exact ties, a NaN prediction, and ids whose string order is not
    their numeric order; one objective, so every score equals its prediction exactly."""
    rows = bace_head.iloc[60:100].reset_index(drop=True)
    values = np.array([0.9, 0.5, 0.5, 0.7, 0.5, 0.9, 0.1, 0.7] * 5)
    values[13] = np.nan
    ids = [str(i) for i in range(8, 48)]  # "10" < "9" as strings
    ids[5], ids[21] = "b,with comma", 'q"uote'
    frame = pd.DataFrame(
        {
            "id": ids,
            "smiles": rows["smiles"],
            "n_merged": 1,
            "bace.Class": values,
            "bace.Class.std": 0.01,
            "ad_similarity": np.linspace(0, 1, 40),
            "nearest_train_id": [f"0{i:03d}" for i in range(40)],
            "in_domain": np.arange(40) % 3 == 0,
        }
    )
    frame.insert(3, "score", frame["bace.Class"])
    return frame


def write_sorted_shards(frame: pd.DataFrame, tmp_path, n_shards: int, seed: int = 0) -> list:
    """Rows dealt randomly to shards, each written in rank order as `drugnet screen score` does."""
    owner = np.random.default_rng(seed).integers(0, n_shards, len(frame))
    paths = []
    for k in range(n_shards):
        path = tmp_path / f"shard{k}.csv"
        sort_by_rank(frame[owner == k]).to_csv(path, index=False)
        paths.append(path)
    return paths


def in_memory_ranked(predictions: pd.DataFrame, campaign, models) -> pd.DataFrame:
    """Reference ``ranked.csv`` table built in memory from one frame, without the streaming
    merge: rank order, ``rank``, :func:`annotate_top_block` for the first ``annotate_top`` rows
    (empty below), the ranked column order."""
    ranked = sort_by_rank(predictions)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1, dtype=np.int64))
    n_annotate = min(len(ranked), int(campaign["annotate_top"]))
    block = annotate_top_block(ranked.iloc[:n_annotate], campaign, models)
    block = block[[c for c in block.columns if c not in ranked.columns]].reindex(ranked.index)
    for column in ("cluster", "lipinski_violations"):
        block[column] = block[column].astype("Int64")
    ranked = pd.concat([ranked, block], axis=1)
    info = {m.dataset: m.task_info for m in models}
    objectives = [c.column for c in expand_objectives(campaign["objectives"], info)]
    return ranked[ranked_column_order(ranked, objectives)]


def test_rank_key_is_the_order_of_rank_frame(predictions):
    info = {"bace": TaskInfo("classification", ("Class",))}
    reference = rank_frame(predictions.drop(columns="score"), CAMPAIGN["objectives"], info)[
        "id"
    ].tolist()
    assert sort_by_rank(predictions)["id"].tolist() == reference
    keys = [rank_key(s, i) for s, i in zip(predictions["score"], predictions["id"], strict=False)]
    assert max(keys)[0] is True  # NaN last
    assert rank_key(0.5, "10") < rank_key(0.5, "9") < rank_key(0.4, "1")


@pytest.mark.parametrize("n_shards", [1, 3, 7])
def test_merged_shards_equal_in_memory_ranking(predictions, bace_head, tmp_path, n_shards):
    models = [model(bace_head.iloc[:40])]
    paths = write_sorted_shards(predictions, tmp_path, n_shards, seed=n_shards)
    n = rank_shards(paths, CAMPAIGN, models, tmp_path / "out")
    assert n == len(predictions)
    streamed = (tmp_path / "out" / "ranked.csv").read_text()
    reference = in_memory_ranked(predictions, CAMPAIGN, models)
    assert streamed == reference.to_csv(index=False, lineterminator="\n")
    disk = pd.read_csv(
        tmp_path / "out" / "ranked.csv",
        dtype={"id": str, "nearest_train_id": str},
        keep_default_na=False,
    )
    assert disk["rank"].tolist() == list(range(1, 41))
    assert disk["nearest_train_id"].str.startswith("0").all()  # shard text is copied, not re-parsed
    assert (disk["cluster"] != "").sum() == CAMPAIGN["annotate_top"]
    assert disk["id"].iloc[-1] == predictions["id"].iloc[13]  # the NaN score ranks last
    # top.csv holds the very lines of ranked.csv
    top_lines = (tmp_path / "out" / "top.csv").read_text().splitlines()
    ranked_lines = set(streamed.splitlines())
    assert 0 < len(top_lines) - 1 <= CAMPAIGN["top_n"] and all(
        line in ranked_lines for line in top_lines
    )


def test_sharding_does_not_change_any_output(predictions, bace_head, tmp_path):
    models = [model(bace_head.iloc[:40])]
    library = pd.DataFrame(
        {"id": predictions["id"], "Class": bace_head["Class"].iloc[60:100].to_numpy()}
    )
    texts = []
    for n_shards in (1, 5):
        (tmp_path / f"s{n_shards}").mkdir()
        paths = write_sorted_shards(predictions, tmp_path / f"s{n_shards}", n_shards)
        rank_shards(paths, CAMPAIGN, models, tmp_path / f"out{n_shards}", library)
        texts.append({f: (tmp_path / f"out{n_shards}" / f).read_text() for f in OUTPUTS})
    assert texts[0] == texts[1]


def test_enrichment_in_batches_equals_all_at_once(predictions, bace_head, tmp_path, monkeypatch):
    """The baselines are computed over labelled rows in batches; equal to one pass over all rows."""
    monkeypatch.setattr(rank_mod, "ENRICHMENT_BATCH", 7)
    train = bace_head.iloc[:40]
    models = [model(train)]
    labels = bace_head["Class"].iloc[60:100].to_numpy(dtype=float)
    labels[[2, 17, 30]] = np.nan  # unlabelled rows are ignored
    library = pd.DataFrame({"id": predictions["id"], "Class": labels})
    rank_shards(
        write_sorted_shards(predictions, tmp_path, 3), CAMPAIGN, models, tmp_path / "out", library
    )
    report = json.loads((tmp_path / "out" / "enrichment.json").read_text())

    ranked = sort_by_rank(predictions)  # reference: the former in-memory computation
    y = pd.Series(labels, index=predictions["id"]).loc[ranked["id"]].to_numpy()
    query, train_fps = ecfp4_bits(ranked["smiles"]), ecfp4_bits(train["smiles"])
    train_y = train["Class"].to_numpy(dtype=float)
    expected = {
        "model": enrichment_metrics(ranked["bace.Class"].to_numpy(), y),
        "similarity": enrichment_metrics(similarity_baseline_scores(query, train_fps, train_y), y),
        "rf_ecfp": enrichment_metrics(rf_ecfp_scores(query, train_fps, train_y, seed=0), y),
    }
    expected = json.loads(
        json.dumps({**expected, "n": 36, "n_actives": expected["model"]["n_actives"]})
    )
    assert report == {"bace.Class": expected}


def test_unsorted_or_duplicated_shards_are_rejected(predictions, bace_head, tmp_path):
    models = [model(bace_head.iloc[:40])]
    unsorted = tmp_path / "unsorted.csv"
    predictions.to_csv(unsorted, index=False)
    with pytest.raises(ValueError, match="out of rank order"):
        rank_shards([unsorted], CAMPAIGN, models, tmp_path / "out")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    sort_by_rank(predictions.iloc[:30]).to_csv(a, index=False)
    twice = predictions.iloc[25:].copy()
    twice.loc[25, "score"] = 0.05  # same id, another score: not adjacent in the merge
    sort_by_rank(twice).to_csv(b, index=False)
    with pytest.raises(ValueError, match="more than once"):
        rank_shards([a, b], CAMPAIGN, models, tmp_path / "out")
    assert not (tmp_path / "out" / "ranked.csv").exists()
    no_score = tmp_path / "no_score.csv"
    predictions.drop(columns="score").to_csv(no_score, index=False)
    with pytest.raises(ValueError, match="score"):
        rank_shards([no_score], CAMPAIGN, models, tmp_path / "out")


def test_merge_keeps_field_text(tmp_path, predictions):
    paths = write_sorted_shards(predictions, tmp_path, 4)
    out = tmp_path / "merged.csv"
    assert merge_ranked_csvs(paths, out) == len(predictions)
    assert out.read_text() == sort_by_rank(predictions).to_csv(index=False, lineterminator="\n")


def test_nothing_annotated_and_empty_shards(predictions, bace_head, tmp_path):
    models = [model(bace_head.iloc[:40])]
    empty = tmp_path / "empty.csv"
    predictions.iloc[:0].to_csv(empty, index=False)
    paths = [empty, *write_sorted_shards(predictions, tmp_path, 2)]
    rank_shards(paths, {**CAMPAIGN, "annotate_top": 0}, models, tmp_path / "out")
    disk = pd.read_csv(tmp_path / "out" / "ranked.csv", keep_default_na=False)
    assert len(disk) == 40 and (disk["cluster"] == "").all() and "explanation" in disk.columns
    assert len(pd.read_csv(tmp_path / "out" / "top.csv")) == 0
    rank_shards([empty], CAMPAIGN, models, tmp_path / "none")
    assert len(pd.read_csv(tmp_path / "none" / "ranked.csv")) == 0


def chunk_sensitive(smiles):
    """Deterministic per molecule plus a term that depends on the batch it is predicted in."""
    lengths = np.array([len(s) for s in smiles], dtype=float)
    value = (lengths % 7) / 7.0 + 1e-9 * len(smiles)
    return value[:, None], np.full((len(smiles), 1), 0.01)


def test_score_job_in_runs_equals_one_sorted_table(bace_head, tmp_path):
    """A scoring job scores and sorts `run_rows` at a time, then merges its runs: same file as
    sorting the whole shard at once, and the runs do not change the prediction batches."""
    rows = bace_head.iloc[40:120].reset_index(drop=True)
    library = pd.DataFrame(
        {
            "id": [f"L{i:03d}" for i in range(len(rows))],
            "input_smiles": rows["smiles"],
            "smiles": rows["smiles"],
            "inchikey": "",
            "n_merged": 1,
            "merged_ids": "",
        }
    )
    lib_path = tmp_path / "standardized.csv"
    library.to_csv(lib_path, index=False)
    models = [model(bace_head.iloc[:40])]
    predictors = {"bace": chunk_sensitive}
    for shard, n_shards in [(0, 1), (1, 3)]:
        texts = []
        for run_rows in (8, 24, 1000):
            out = tmp_path / f"shard{shard}_{run_rows}.csv"
            score_shard_file(
                lib_path,
                out,
                CAMPAIGN,
                models,
                predictors,
                shard,
                n_shards,
                chunk_size=8,
                run_rows=run_rows,
            )
            texts.append(out.read_text())
        assert texts[0] == texts[1] == texts[2]
        whole = score_library(library, models, predictors, shard, n_shards, 8, campaign=CAMPAIGN)
        assert texts[0] == sort_by_rank(whole).to_csv(index=False, lineterminator="\n")
    assert not list(tmp_path.glob(".*run*"))  # temporary runs are removed
