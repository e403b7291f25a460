"""FeatureStore: vectorised graph batching, round trip through disk, in-memory construction."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest
import torch
from rdkit import Chem
from torch_geometric.data import Batch, Data

from drugnet.features.build import featurize_smiles, store_from_smiles
from drugnet.features.graph import mol_to_graph
from drugnet.features.store import FILES, FeatureStore, save_features
from helpers.paths import DATA


@pytest.fixture(scope="module")
def bace_smiles() -> list[str]:
    with gzip.open(DATA / "bace.csv.gz", "rt") as fh:
        return pd.read_csv(fh, nrows=40)["mol"].tolist() + [
            "[Na+]",
            "C",
        ]  # incl. bond-less molecules


@pytest.fixture(scope="module")
def store(bace_smiles) -> FeatureStore:
    return store_from_smiles(bace_smiles, {"radius": 2, "n_bits": 512})


def _naive_batch(smiles: list[str]) -> Batch:
    data = []
    for smi in smiles:
        x, ei, ea = mol_to_graph(Chem.MolFromSmiles(smi))
        data.append(
            Data(
                x=torch.from_numpy(x).float(),
                edge_index=torch.from_numpy(ei),
                edge_attr=torch.from_numpy(ea).float(),
            )
        )
    return Batch.from_data_list(data)


@pytest.mark.parametrize("indices", [[0, 1, 2], [41, 5, 40, 5, 17], list(range(42)), []])
def test_graph_batch_equals_pyg_batch(store, bace_smiles, indices):
    batch = store.graph_batch(indices)
    assert batch.n_mols == len(indices)
    if not indices:
        assert batch.x.shape == (0, len(store.atom_feature_names)) and batch.edge_index.shape == (
            2,
            0,
        )
        return
    ref = _naive_batch([bace_smiles[i] for i in indices])
    assert (
        batch.x.dtype == batch.edge_attr.dtype == torch.float32
        and batch.edge_index.dtype == torch.int64
    )
    assert torch.equal(batch.x, ref.x)
    assert torch.equal(batch.edge_index, ref.edge_index)
    assert torch.equal(batch.edge_attr, ref.edge_attr)
    assert torch.equal(batch.batch, ref.batch)


def test_mol_features_pass_through(store):
    feats = store.descriptors([3, 4])
    batch = store.graph_batch(torch.tensor([3, 4]), mol_features=feats)
    assert batch.mol_features.dtype == torch.float32 and torch.equal(batch.mol_features, feats)
    with pytest.raises(ValueError, match="rows"):
        store.graph_batch([3, 4, 5], mol_features=feats)
    with pytest.raises(IndexError):
        store.graph_batch([store.n])


def test_round_trip_with_weights_only(store, bace_smiles, tmp_path):
    features = featurize_smiles(bace_smiles, n_bits=512)
    save_features(features, tmp_path / "features")
    for name in FILES.values():  # plain tensors/lists: loadable without unpickling code
        torch.load(tmp_path / "features" / name, weights_only=True)
    loaded = FeatureStore(tmp_path / "features")
    meta = json.loads((tmp_path / "features" / "meta.json").read_text())
    assert loaded.n == len(bace_smiles) == meta["n"] and meta["settings"]["n_bits"] == 512
    assert loaded.descriptor_names == store.descriptor_names and "rdkit_version" in meta
    assert torch.equal(loaded.ecfp(), store.ecfp()) and loaded.ecfp().dtype == torch.uint8
    assert torch.equal(loaded.descriptors([0, 2]), store.descriptors()[[0, 2]])
    a, b = loaded.graph_batch([7, 1]), store.graph_batch([7, 1])
    assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index)


def test_missing_cache_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        FeatureStore(tmp_path)
