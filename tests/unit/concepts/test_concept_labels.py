"""Hand-checked concept labels on small real molecules."""

import numpy as np
import pytest
from rdkit import Chem

from drugnet.concepts import (
    all_concepts,
    functional_groups,
    interaction_centers,
    pharmacophores,
)
from drugnet.concepts.matrix import atom_items, subsample_atoms


def _atoms_with(matrix, name, mol_index=0):
    col = matrix.column(name)
    return sorted(matrix.item_atom[(matrix.item_mol == mol_index) & col].tolist())


ACETIC = Chem.MolFromSmiles("CC(=O)O")  # atoms: 0 CH3, 1 C, 2 =O, 3 OH
PYRIDINE = Chem.MolFromSmiles("c1ccncc1")  # atom 3 is N
BENZENE = Chem.MolFromSmiles("c1ccccc1")
ETHANOL = Chem.MolFromSmiles("CCO")


def test_carboxylic_acid_atoms():
    fg = functional_groups.concept_labels([ACETIC, ETHANOL], level="atom")
    assert _atoms_with(fg, "CarboxylicAcid") == [1, 2, 3]
    assert _atoms_with(fg, "fr_C=O") == [1, 2]
    assert _atoms_with(fg, "CarboxylicAcid", mol_index=1) == []
    mol = functional_groups.concept_labels([ACETIC, ETHANOL], level="molecule")
    assert mol.column("CarboxylicAcid").tolist() == [True, False]
    assert mol.column("fr_Al_OH").tolist() == [False, True]


def test_functional_groups_are_many_and_unique():
    patterns = functional_groups.functional_group_patterns()
    assert len(patterns) >= 100
    smarts = [Chem.MolToSmarts(q) for _, q in patterns]
    assert len(set(smarts)) == len(smarts)
    names = [g.name for g, _ in patterns]
    assert len(set(names)) == len(names)


def test_interaction_centers_hand_checked():
    ic = interaction_centers.concept_labels([ACETIC, PYRIDINE, BENZENE], level="atom")
    assert 2 in _atoms_with(ic, "Acceptor")  # carbonyl O
    assert _atoms_with(ic, "NegIonizable") == [1, 2, 3]
    assert _atoms_with(ic, "Acceptor", mol_index=1) == [3]  # pyridine N
    assert _atoms_with(ic, "Aromatic", mol_index=2) == [0, 1, 2, 3, 4, 5]
    assert _atoms_with(ic, "Donor", mol_index=2) == []
    assert set(ic.names) == {
        "Donor",
        "Acceptor",
        "PosIonizable",
        "NegIonizable",
        "Aromatic",
        "Hydrophobe",
        "LumpedHydrophobe",
        "ZnBinder",
    }


def test_pharmacophore_pair_labels_both_features():
    # 4-hydroxybutanoic acid: OH donor (atom 0) is 4 bonds from the acid carbon (atom 4, Gobbi AG)
    mol = Chem.MolFromSmiles("OCCCC(=O)O")
    ph = pharmacophores.concept_labels([mol], level="atom")
    assert _atoms_with(ph, "AG-HD:4") == [0, 4]
    assert _atoms_with(ph, "AG-HA:4") == [0, 4]
    molecule = pharmacophores.concept_labels([mol], level="molecule")
    # atom-level labels reduce to the Pharm2D bits
    np.testing.assert_array_equal(ph.to_molecule_level(1).values, molecule.values)
    assert pharmacophores.concept_labels([mol], level="molecule", max_points=3).n_concepts > 1000


def test_atom_order_matches_rdkit_parse():
    mol = Chem.MolFromSmiles("OC(=O)c1ccccc1N")
    item_mol, item_atom = atom_items([mol, ETHANOL])
    assert item_mol.tolist() == [0] * 10 + [1] * 3
    assert item_atom.tolist() == list(range(10)) + [0, 1, 2]


def test_subsample_atoms_per_molecule():
    item_mol = np.repeat(np.arange(5), [1, 4, 7, 2, 9])
    keep = subsample_atoms(item_mol, 3, seed=1)
    assert np.bincount(item_mol[keep]).tolist() == [1, 3, 3, 2, 3]
    np.testing.assert_array_equal(keep, subsample_atoms(item_mol, 3, seed=1))


def test_all_concepts_filters_and_reports():
    smiles = ["CC(=O)O", "CCC(=O)O", "c1ccncc1", "CCO", "OCCCC(=O)O", "c1ccccc1O"]
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    result = all_concepts(mols, min_positives=2)
    for _level, matrix in result.matrices.items():
        assert (matrix.positive_molecules() >= 2).all()
        assert matrix.values.shape[1] == len(matrix.names) == len(set(matrix.names))
        assert set(matrix.family) <= {"functional_group", "interaction_center", "pharmacophore"}
    skipped = result.skipped
    assert {"concept", "family", "level", "n_pos", "n_neg", "reason"} <= set(skipped.columns)
    assert (skipped[skipped.reason.str.startswith("fewer than 2 positive")].n_pos < 2).all()
    # in this set every carbonyl is an acid: the acid column duplicates fr_C=O and is skipped
    assert "fr_C=O" in result.matrices["molecule"].names
    dup = skipped[(skipped.concept == "CarboxylicAcid") & (skipped.level == "molecule")]
    assert dup.reason.tolist() == ["duplicate of fr_C=O"]
    with pytest.raises(ValueError):
        all_concepts([mols[0], None])
