"""Shard reading: each scoring job reads only its own rows, and the shards tile the library."""

from __future__ import annotations

import pandas as pd
import pytest

from drugnet.screening.score import (
    read_standardized,
    read_standardized_shard,
    shard_bounds,
)


@pytest.fixture
def library_csv(tmp_path):
    smiles = ["CCO", "c1ccccc1", "CC(=O)O", "CCN", "c1ccncc1", "OCCO", "CCCl"] * 5
    frame = pd.DataFrame(
        {
            "id": [f"0{i}" for i in range(len(smiles))],
            "input_smiles": smiles,
            "smiles": smiles,
            "inchikey": [f"K{i}" for i in range(len(smiles))],
            "n_merged": 1,
            "merged_ids": "",
        }
    )
    path = tmp_path / "standardized.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("n_shards", [1, 2, 3, 8])
def test_shards_tile_the_library_in_order(library_csv, n_shards):
    whole = read_standardized(library_csv)
    parts = [
        read_standardized_shard(library_csv, k, n_shards, chunk_size=4, block_rows=3)
        for k in range(n_shards)
    ]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    for k, part in enumerate(parts):
        start, stop = shard_bounds(len(whole), k, n_shards, chunk_size=4)
        assert len(part) == stop - start and start % 4 == 0
    assert parts[0]["id"].iloc[0] == "00"  # ids stay strings


def test_empty_shard_keeps_columns(library_csv):
    part = read_standardized_shard(
        library_csv, 0, 10, chunk_size=64
    )  # one chunk: shards 0-8 are empty
    assert part.empty and "smiles" in part.columns
