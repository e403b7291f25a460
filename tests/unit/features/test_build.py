"""featurize_smiles / featurize_file and the `drugnet featurize` command."""

from __future__ import annotations

import argparse
import gzip

import numpy as np
import pandas as pd
import pytest
import torch

from drugnet.commands import featurize as featurize_cmd
from drugnet.features.build import featurize_file, featurize_smiles
from drugnet.features.store import FeatureStore
from helpers.paths import DATA


@pytest.fixture(scope="module")
def smiles() -> list[str]:
    with gzip.open(DATA / "bace.csv.gz", "rt") as fh:
        return pd.read_csv(fh, nrows=30)["mol"].tolist()


def test_parallel_chunks_equal_serial(smiles):
    serial = featurize_smiles(smiles, n_bits=256, chunk_size=1000)
    parallel = featurize_smiles(smiles, n_bits=256, n_jobs=2, chunk_size=7)
    for part in ("graphs", "ecfp", "descriptors"):
        a, b = getattr(serial, part), getattr(parallel, part)
        for key, value in a.items():
            if isinstance(value, torch.Tensor):
                assert torch.equal(value, b[key]) or torch.allclose(
                    value, b[key], equal_nan=True
                ), (part, key)
    assert serial.n == len(smiles) and serial.graphs["atom_ptr"][-1] == serial.graphs["x"].shape[0]


def test_shapes_and_settings(smiles):
    f = featurize_smiles(smiles[:5], radius=1, n_bits=128, descriptors=["MolWt", "TPSA"])
    assert f.ecfp["counts"].shape == (5, 128) and f.ecfp["radius"] == 1
    assert f.descriptors["values"].shape == (5, 2) and f.descriptors["names"] == ["MolWt", "TPSA"]
    assert f.meta["settings"] == {"radius": 1, "n_bits": 128, "descriptors": ["MolWt", "TPSA"]}
    assert f.graphs["edge_ptr"].tolist()[:2] == [0, f.graphs["edge_ptr"][1].item()]


def test_unparsable_smiles_is_a_hard_error(smiles):
    with pytest.raises(ValueError, match="row 2"):
        featurize_smiles(smiles[:2] + ["C1CC"], n_bits=64)


def test_empty_input():
    f = featurize_smiles([], n_bits=64)
    assert f.n == 0 and f.ecfp["counts"].shape == (0, 64)


def _standardized_csv(path, smiles):
    pd.DataFrame(
        {
            "id": [f"m{i}" for i in range(len(smiles))],
            "input_smiles": smiles,
            "smiles": smiles,
            "inchikey": [f"K{i}" for i in range(len(smiles))],
            "n_merged": 1,
            "merged_ids": "",
            "Class": 1.0,
        }
    ).to_csv(path, index=False)
    return path


def test_featurize_file_and_command(smiles, tmp_path):
    csv = _standardized_csv(tmp_path / "standardized.csv", smiles[:12])
    featurize_file(csv, tmp_path / "a", n_bits=256)
    parser = argparse.ArgumentParser()
    featurize_cmd.add_arguments(parser)
    args = parser.parse_args(
        ["--input", str(csv), "--output-dir", str(tmp_path / "b"), "--n-bits", "256"]
    )
    assert featurize_cmd.main(args) == 0
    a, b = FeatureStore(tmp_path / "a"), FeatureStore(tmp_path / "b")
    assert a.n == b.n == 12 and torch.equal(a.ecfp(), b.ecfp())
    assert np.isfinite(a.descriptors()[:, a.descriptor_names.index("MolWt")].numpy()).all()
    bad = _standardized_csv(tmp_path / "bad.csv", ["CCO", "not a smiles"])
    args = parser.parse_args(["--input", str(bad), "--output-dir", str(tmp_path / "c")])
    assert featurize_cmd.main(args) == 2 and not (tmp_path / "c" / "meta.json").exists()
