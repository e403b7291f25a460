"""Atom/bond features and mol_to_graph on real molecules."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from drugnet.features.graph import ATOM_FEATURE_NAMES, BOND_FEATURE_NAMES, mol_to_graph

DRUGS = [
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "CN1CCC[C@H]1c1cccnc1",  # nicotine
    "C[N+](C)(C)CC(=O)[O-]",  # betaine (zwitterion)
    "O=C1C[C@@H]2OCC=C3CN4CC[C@]56[C@@H]4C[C@@H]3[C@@H]2[C@@H]5N1c1ccccc16",  # strychnine
    "Clc1ccc2c(c1)C(c1ccccc1)=NCC(=O)N2",  # nordazepam-like
    "F/C=C/Br",
    "[Na+].[Cl-]",
]


def _named(row: np.ndarray, names: list[str]) -> set[str]:
    return {names[j] for j in np.flatnonzero(row)}


def _group(names: list[str], prefix: str) -> list[int]:
    return [i for i, n in enumerate(names) if n.startswith(prefix + "=")]


def test_names_match_documented_layout():
    assert (
        len(ATOM_FEATURE_NAMES)
        == len(set(ATOM_FEATURE_NAMES))
        == 14 + 7 + 5 + 5 + 7 + 1 + 1 + 7 + 4
    )
    assert len(BOND_FEATURE_NAMES) == len(set(BOND_FEATURE_NAMES)) == 4 + 1 + 1 + 6
    for name in (
        "element=C",
        "element=Cl",
        "element=other",
        "degree=2",
        "formal_charge=-1",
        "total_h=3",
        "hybridization=SP3",
        "aromatic",
        "in_ring",
        "ring_size=5",
        "ring_size=none",
        "chirality=CW",
    ):
        assert name in ATOM_FEATURE_NAMES
    for name in ("bond_type=aromatic", "conjugated", "in_ring", "stereo=E", "stereo=cis"):
        assert name in BOND_FEATURE_NAMES


def test_known_atoms_of_nicotine():
    mol = Chem.MolFromSmiles("CN1CCC[C@H]1c1cccnc1")
    x, _, _ = mol_to_graph(mol)
    assert x.dtype == np.uint8 and x.shape == (mol.GetNumAtoms(), len(ATOM_FEATURE_NAMES))
    assert _named(x[0], ATOM_FEATURE_NAMES) == {
        "element=C",
        "degree=1",
        "formal_charge=0",
        "total_h=3",
        "hybridization=SP3",
        "ring_size=none",
        "chirality=none",
    }
    stereo = _named(x[5], ATOM_FEATURE_NAMES)
    assert {"in_ring", "ring_size=5", "total_h=1"} <= stereo and stereo & {
        "chirality=CW",
        "chirality=CCW",
    }
    pyridine_n = _named(x[10], ATOM_FEATURE_NAMES)
    assert {"element=N", "aromatic", "ring_size=6", "hybridization=SP2", "total_h=0"} <= pyridine_n


def test_charges_implicit_and_explicit_hydrogens():
    x, ei, ea = mol_to_graph(Chem.MolFromSmiles("C"))
    assert x.shape[0] == 1 and "total_h=4" in _named(x[0], ATOM_FEATURE_NAMES)
    assert ei.shape == (2, 0) and ea.shape == (0, len(BOND_FEATURE_NAMES))
    x, _, _ = mol_to_graph(Chem.MolFromSmiles("C[N+](C)(C)CC(=O)[O-]"))
    assert "formal_charge=+1" in _named(x[1], ATOM_FEATURE_NAMES)
    assert "formal_charge=-1" in _named(x[7], ATOM_FEATURE_NAMES)
    x, _, _ = mol_to_graph(Chem.MolFromSmiles("[2H]C([2H])([2H])O"))
    assert sum("element=H" in _named(r, ATOM_FEATURE_NAMES) for r in x) == 3
    x, _, _ = mol_to_graph(Chem.MolFromSmiles("[Fe]"))
    assert "element=other" in _named(x[0], ATOM_FEATURE_NAMES)


def test_ring_sizes_use_smallest_ring():
    # bicyclo[1.1.0]butane-fused: atoms in the 3-ring and a 4-ring report 3
    x, _, _ = mol_to_graph(Chem.MolFromSmiles("C1CC2CC12"))
    sizes = [_named(r, ATOM_FEATURE_NAMES) & {f"ring_size={k}" for k in range(3, 9)} for r in x]
    assert sizes[2] == {"ring_size=3"} and sizes[0] == {"ring_size=4"}


@pytest.mark.parametrize("smiles", DRUGS)
def test_one_hot_groups_and_edges_match_rdkit(smiles):
    mol = Chem.MolFromSmiles(smiles)
    x, edge_index, edge_attr = mol_to_graph(mol)
    for prefix in ("element", "hybridization", "ring_size", "chirality"):  # groups with a catch-all
        assert (x[:, _group(ATOM_FEATURE_NAMES, prefix)].sum(1) == 1).all(), prefix
    for prefix in ("bond_type", "stereo"):
        assert (edge_attr[:, _group(BOND_FEATURE_NAMES, prefix)].sum(1) == 1).all(), prefix
    assert edge_index.dtype == np.int64 and edge_index.shape == (2, 2 * mol.GetNumBonds())
    adjacency = np.zeros((mol.GetNumAtoms(),) * 2, dtype=int)
    adjacency[edge_index[0], edge_index[1]] = 1
    assert (adjacency == Chem.GetAdjacencyMatrix(mol)).all()
    assert (edge_attr[0::2] == edge_attr[1::2]).all()
    for k, bond in enumerate(mol.GetBonds()):
        names = _named(edge_attr[2 * k], BOND_FEATURE_NAMES)
        assert ("in_ring" in names) == bond.IsInRing()
        assert ("conjugated" in names) == bond.GetIsConjugated()


def test_double_bond_stereo():
    _, _, ea = mol_to_graph(Chem.MolFromSmiles("F/C=C/Br"))
    assert "stereo=E" in _named(ea[2], BOND_FEATURE_NAMES)
    _, _, ea = mol_to_graph(Chem.MolFromSmiles("F/C=C\\Br"))
    assert "stereo=Z" in _named(ea[2], BOND_FEATURE_NAMES)


def test_chunk_of_graphs_equals_each_graph():
    """``mols_to_graphs`` (one one-hot encoding per chunk) is the concatenation of the single
    graphs, edge indices molecule-local; counts per molecule as in the cache's pointers."""
    from drugnet.features.graph import mols_to_graphs

    mols = [Chem.MolFromSmiles(s) for s in DRUGS]
    x, edge_index, edge_attr, n_atoms, n_edges = mols_to_graphs(mols)
    singles = [mol_to_graph(m) for m in mols]
    assert n_atoms.tolist() == [m.GetNumAtoms() for m in mols] and n_edges.tolist() == [
        2 * m.GetNumBonds() for m in mols
    ]
    np.testing.assert_array_equal(x, np.concatenate([g[0] for g in singles]))
    np.testing.assert_array_equal(edge_index, np.concatenate([g[1] for g in singles], axis=1))
    np.testing.assert_array_equal(edge_attr, np.concatenate([g[2] for g in singles]))
    nicotine_first_bond = mols[1].GetBondWithIdx(0)
    start = n_edges[0]
    assert edge_index[:, start].tolist() == [
        nicotine_first_bond.GetBeginAtomIdx(),
        nicotine_first_bond.GetEndAtomIdx(),
    ]
    empty = mols_to_graphs([])
    assert empty[0].shape == (0, len(ATOM_FEATURE_NAMES)) and empty[1].shape == (2, 0)
