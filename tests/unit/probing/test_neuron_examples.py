"""Per-atom views of units: Morgan-environment occlusion for fingerprint models, concept atoms."""

import numpy as np
import torch
from rdkit import Chem

from drugnet.features.fingerprints import ecfp_counts
from drugnet.models.base import LayerEmbedding
from drugnet.probing import neurons
from drugnet.probing.atlas import (
    atom_fingerprint_drops,
    environment_atoms,
    fingerprint_occlusion,
)

N_BITS = 2048


class LinearUnits(torch.nn.Module):
    """A stand-in fingerprint model whose layer-1 units are linear in the raw input."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.weight = weight

    def embed(self, x: torch.Tensor) -> list[LayerEmbedding]:
        return [LayerEmbedding(None, x), LayerEmbedding(None, x @ self.weight)]


def test_environment_drops_match_the_count_fingerprint():
    mol = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
    drops = atom_fingerprint_drops(mol, 2, N_BITS)
    counts = ecfp_counts(mol, 2, N_BITS)
    assert drops.shape == (mol.GetNumAtoms(), N_BITS)
    assert set(np.flatnonzero(drops.sum(axis=0))) == set(
        np.flatnonzero(counts)
    )  # only bits that are on
    assert (drops <= counts).all()  # an atom cannot remove more occurrences than there are
    # every atom is the centre of a radius-0 environment: each atom removes something
    assert (drops.sum(axis=1) > 0).all()
    assert environment_atoms(mol, 4, 0) == {4}
    assert environment_atoms(mol, 4, 1) == {3, 4, 5, 9}


def test_fingerprint_occlusion_of_a_linear_unit_is_its_weight_on_the_removed_environments():
    mols = [Chem.MolFromSmiles(s) for s in ("c1ccccc1O", "CC(=O)Nc1ccc(O)cc1")]
    n_desc = 3
    x = torch.tensor(
        np.stack([np.concatenate([ecfp_counts(m, 2, N_BITS), [1.0, 2.0, 3.0]]) for m in mols]),
        dtype=torch.float32,
    )
    weight = torch.zeros(N_BITS + n_desc, 2)
    gen = torch.Generator().manual_seed(0)
    weight[:, 0] = torch.rand(N_BITS + n_desc, generator=gen)
    weight[N_BITS:, 1] = 5.0  # unit 1 reads only the descriptors: no atom changes it
    values = fingerprint_occlusion(LinearUnits(weight), x, mols, [(1, 0), (1, 1)], 2, N_BITS)
    assert [v.shape for v in values] == [(m.GetNumAtoms(), 2) for m in mols]
    for mol, v in zip(mols, values, strict=False):
        expected = atom_fingerprint_drops(mol, 2, N_BITS) @ weight[:N_BITS, 0].numpy()
        np.testing.assert_allclose(v[:, 0], expected, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(v[:, 1], 0.0, atol=1e-5)


def test_concept_atom_sets_mark_the_concept_atoms():
    aspirin = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
    phenol = Chem.MolFromSmiles("c1ccccc1O")
    found = neurons.concept_atom_sets(
        [aspirin, phenol], "interaction_center", ["Aromatic", "no_such_concept"]
    )
    assert list(found) == ["Aromatic"]
    assert found["Aromatic"] == [[4, 5, 6, 7, 8, 9], [0, 1, 2, 3, 4, 5]]
    assert neurons.concept_atom_sets([aspirin], "unknown_family", ["Aromatic"]) == {}
