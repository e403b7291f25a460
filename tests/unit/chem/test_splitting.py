"""split_frame and `drugnet split` on real BACE molecules."""

from __future__ import annotations

import argparse
import gzip

import numpy as np
import pandas as pd
import pytest

from drugnet.chem.splitting import murcko_scaffold, split_frame
from drugnet.commands import split as split_cmd
from helpers.paths import DATA


@pytest.fixture(scope="module")
def bace() -> pd.DataFrame:
    with gzip.open(DATA / "bace.csv.gz", "rt") as fh:
        raw = pd.read_csv(fh)
    return pd.DataFrame(
        {
            "id": [f"bace{i}" for i in range(len(raw))],
            "smiles": raw["mol"],
            "inchikey": [f"KEY{i}" for i in range(len(raw))],
            "Class": raw["Class"].astype(float),
        }
    )


@pytest.mark.parametrize("method", ["scaffold", "random", "stratified"])
def test_deterministic_and_sizes(bace, method):
    a = split_frame(bace, method=method, seed=3, targets=["Class"])
    b = split_frame(bace, method=method, seed=3, targets=["Class"])
    c = split_frame(bace, method=method, seed=4, targets=["Class"])
    assert a.equals(b) and not a.equals(c)
    assert a.index.equals(bace.index) and set(a) == {"train", "val", "test"}
    fractions = a.value_counts(normalize=True)
    np.testing.assert_allclose(
        [fractions["train"], fractions["val"], fractions["test"]], [0.8, 0.1, 0.1], atol=0.02
    )


def test_scaffold_sets_do_not_cross_splits(bace):
    split = split_frame(bace, method="scaffold", seed=0)
    scaffolds = bace["smiles"].map(murcko_scaffold)
    per_scaffold = (
        pd.DataFrame({"scaffold": scaffolds, "split": split}).groupby("scaffold")["split"].nunique()
    )
    assert (per_scaffold == 1).all()
    assert (
        murcko_scaffold("CCCCO") == "" and murcko_scaffold("Cc1ccccc1CC1CC1") == "c1ccc(CC2CC2)cc1"
    )


def test_scaffold_big_sets_go_to_train():
    # one scaffold with 30 members (> half of val/test size 10), 70 singletons with unique scaffolds
    rings = [f"C1CC{'C' * k}C1" for k in range(1, 8)]
    singletons = [f"{r}c1ccc({'C' * n}O)cc1" for r in rings for n in range(1, 11)]
    df = pd.DataFrame({"smiles": ["Cc1ccccc1"] * 30 + singletons})
    split = split_frame(df, method="scaffold", sizes=(0.8, 0.1, 0.1), seed=1)
    assert (split[:30] == "train").all()


def test_stratified_keeps_class_balance(bace):
    labels = bace["Class"].copy()
    labels[:100] = np.nan  # missing labels form their own stratum
    split = split_frame(bace.assign(Class=labels), method="stratified", targets=["Class"])
    table = pd.crosstab(split, labels.fillna(-1), normalize="columns")
    np.testing.assert_allclose(table.loc["test"], 0.1, atol=0.02)
    regression = split_frame(
        bace.assign(y=np.linspace(0, 1, len(bace))), method="stratified", targets=["y"]
    )
    assert regression.value_counts()["val"] == pytest.approx(0.1 * len(bace), abs=5)


def test_column_method():
    df = pd.DataFrame(
        {"smiles": ["C"] * 6, "set": ["Train", "training", "VALID", "validation ", "test", "val"]}
    )
    assert split_frame(df, method="column", column="set").tolist() == [
        "train",
        "train",
        "val",
        "val",
        "test",
        "val",
    ]
    with pytest.raises(ValueError, match="'holdout'"):
        split_frame(
            df.assign(set=["train", "holdout", "test", "val", "val", "val"]),
            method="column",
            column="set",
        )
    with pytest.raises(ValueError, match="not in table"):
        split_frame(df, method="column", column="fold")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "random", "sizes": (0.8, 0.1, 0.2)}, "sum to 1"),
        ({"method": "random", "sizes": (0.9, 0.1)}, "three fractions"),
        ({"method": "kfold"}, "unknown split method"),
        ({"method": "stratified"}, "at least one target"),
        ({"method": "column"}, "column="),
    ],
)
def test_errors(bace, kwargs, match):
    with pytest.raises(ValueError, match=match):
        split_frame(bace, **kwargs)


def test_duplicate_inchikey_across_splits_is_refused(bace):
    dup = bace.assign(inchikey="SAMEKEY")
    with pytest.raises(ValueError, match="more than one split"):
        split_frame(dup, method="random")


def test_command_writes_id_inchikey_split(bace, tmp_path, capsys):
    csv = tmp_path / "standardized.csv"
    bace.assign(input_smiles=bace["smiles"], n_merged=1, merged_ids="").to_csv(csv, index=False)
    parser = argparse.ArgumentParser()
    split_cmd.add_arguments(parser)
    out = tmp_path / "split.csv"
    args = parser.parse_args(
        ["--input", str(csv), "--output", str(out), "--method", "stratified", "--seed", "1"]
    )
    assert split_cmd.main(args) == 0
    written = pd.read_csv(out, dtype=str)
    assert (
        list(written.columns) == ["id", "inchikey", "split"]
        and written["id"].tolist() == bace["id"].tolist()
    )
    expected = split_frame(bace, method="stratified", seed=1, targets=["Class"])
    assert written["split"].tolist() == expected.tolist()
    assert "train=" in capsys.readouterr().out
    args = parser.parse_args(
        ["--input", str(csv), "--output", str(tmp_path / "x.csv"), "--sizes", "0.5", "0.5", "0.5"]
    )
    assert split_cmd.main(args) == 2 and not (tmp_path / "x.csv").exists()
