"""Streamed torch.save files (drugnet.features.stream) and the streamed feature cache."""

from __future__ import annotations

import gzip
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch

from drugnet.features.build import featurize_file, featurize_smiles
from drugnet.features.store import FeatureStore, save_features
from drugnet.features.stream import StreamedTensor, save_streamed
from helpers.paths import DATA

# not `from conftest import DATA`: with tests/unit/probing collected too, "conftest" is that one


def _assert_same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for key, value in a.items():
        if isinstance(value, torch.Tensor):
            assert value.dtype == b[key].dtype and value.shape == b[key].shape, key
            assert torch.equal(value, b[key]) or torch.allclose(value, b[key], equal_nan=True), key
        else:
            assert value == b[key], key


def test_streamed_file_loads_as_torch_save(tmp_path):
    rng = np.random.default_rng(0)
    blocks = [rng.integers(0, 255, (k, 5), dtype=np.uint8) for k in (3, 0, 7)]
    pairs = [rng.integers(0, 99, (2, k)) for k in (4, 1)]
    streamed = {
        "x": StreamedTensor(tmp_path, "x", np.uint8, (5,)),
        "name": "demo",
        "pairs": StreamedTensor(tmp_path, "pairs", np.int64, parts=2),
        "empty": StreamedTensor(tmp_path, "empty", np.float32, (3,)),
    }
    for block in blocks:
        streamed["x"].append(block)
    for pair in pairs:
        streamed["pairs"].append(pair)
    save_streamed(streamed, tmp_path / "s.pt")
    expected = {
        "x": torch.from_numpy(np.concatenate(blocks)),
        "name": "demo",
        "pairs": torch.from_numpy(np.concatenate(pairs, axis=1)),
        "empty": torch.zeros(0, 3),
    }
    _assert_same(torch.load(tmp_path / "s.pt", weights_only=True), expected)
    with zipfile.ZipFile(tmp_path / "s.pt") as zf:
        assert zf.testzip() is None  # every record's CRC-32 is right


def test_in_memory_tensors_are_refused(tmp_path):
    with pytest.raises(TypeError, match="StreamedTensor"):
        save_streamed({"a": torch.zeros(2)}, tmp_path / "a.pt")


@pytest.fixture(scope="module")
def standardized(tmp_path_factory):
    with gzip.open(DATA / "bace.csv.gz", "rt") as fh:
        smiles = pd.read_csv(fh, nrows=45)["mol"].tolist()
    path = tmp_path_factory.mktemp("std") / "standardized.csv"
    pd.DataFrame({"id": range(len(smiles)), "smiles": smiles}).to_csv(path, index=False)
    return path, smiles


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_featurize_file_equals_in_memory_features(standardized, tmp_path, n_jobs):
    path, smiles = standardized
    meta = featurize_file(
        path, tmp_path / "streamed", n_bits=256, n_jobs=n_jobs, chunk_size=4, block_rows=10
    )
    save_features(featurize_smiles(smiles, n_bits=256), tmp_path / "memory")
    for name in ("graphs.pt", "ecfp.pt", "descriptors.pt"):
        _assert_same(
            torch.load(tmp_path / "streamed" / name, weights_only=True),
            torch.load(tmp_path / "memory" / name, weights_only=True),
        )
    store = FeatureStore(tmp_path / "streamed")
    assert meta["n"] == store.n == len(smiles) and meta["n_atoms"] == store._graphs["x"].shape[0]


def test_featurize_file_names_the_bad_row(tmp_path):
    path = tmp_path / "standardized.csv"
    pd.DataFrame({"smiles": ["CCO"] * 5 + ["C1CC"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="row 5"):
        featurize_file(path, tmp_path / "out", n_bits=64, chunk_size=2, block_rows=3)
    assert not (tmp_path / "out" / "meta.json").exists()


def test_featurize_file_with_no_rows(tmp_path):
    """A library whose every row was rejected still gives a loadable, empty cache."""
    path = tmp_path / "standardized.csv"
    path.write_text("id,smiles\n")
    meta = featurize_file(path, tmp_path / "out", n_bits=64)
    store = FeatureStore(tmp_path / "out")
    assert meta["n"] == store.n == 0 and store.ecfp().shape == (0, 64)
    assert store._graphs["atom_ptr"].tolist() == [0] and store._graphs["edge_index"].shape == (2, 0)
