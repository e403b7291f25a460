"""drugnet's QED gives exactly RDKit's ``QED.qed`` (and its structural-alert count)."""

from __future__ import annotations

import pandas as pd
import pytest
from rdkit import Chem
from rdkit.Chem import QED

from drugnet.chem.qed import n_alerts, qed, qed_properties
from drugnet.chem.substructure_screen import pattern_bits
from helpers.paths import DATA


@pytest.fixture(scope="module")
def drugs() -> list[Chem.Mol]:
    """The first 400 DrugCentral structures (salts, charged drugs, many QED alerts)."""
    frame = pd.read_csv(DATA / "quick" / "drugcentral_head400.tsv.gz", sep="\t")
    mols = [Chem.MolFromSmiles(s) for s in frame["SMILES"] if isinstance(s, str)]
    return [m for m in mols if m is not None]


def test_qed_equals_rdkit_on_real_drugs(drugs):
    with_alerts = 0
    for mol in drugs:
        assert qed(mol) == QED.qed(mol), Chem.MolToSmiles(mol)
        with_alerts += QED.properties(mol).ALERTS > 0
    assert with_alerts > 100  # the screened alert count is exercised, not only zeros


def test_given_pattern_fingerprint_gives_the_same_value(drugs):
    for mol in drugs[:100]:
        assert qed(mol, pattern_bits(mol)) == QED.qed(mol)


def test_alert_count_equals_searching_every_alert(drugs):
    for mol in drugs:
        expected = sum(1 for a in QED.StructuralAlerts if mol.HasSubstructMatch(a))
        assert n_alerts(mol) == expected, Chem.MolToSmiles(mol)


def test_molecule_with_hydrogen_atoms_is_computed_without_them(drugs):
    """RDKit removes H atoms first; so does drugnet (ignoring a fingerprint taken with them)."""
    for smiles in ("[2H]C([2H])([2H])Oc1ccc(CC(N)=O)cc1", "OC(=O)c1ccccc1O"):
        mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
        assert mol.GetNumAtoms() > mol.GetNumHeavyAtoms()
        assert qed_properties(mol, pattern_bits(mol)) == QED.properties(mol)
        assert qed(mol, pattern_bits(mol)) == QED.qed(mol)
    for mol in drugs[:50]:
        with_hs = Chem.AddHs(mol)
        assert qed(with_hs, pattern_bits(with_hs)) == QED.qed(with_hs)


def test_cached_crippen_of_the_molecule_is_the_value_qed_uses():
    """``clogp`` computed first (RDKit caches it on the molecule) does not change the QED."""
    from rdkit.Chem import Crippen

    mol = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
    Crippen.MolLogP(mol)  # type: ignore[attr-defined]
    assert qed(mol) == QED.qed(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))
