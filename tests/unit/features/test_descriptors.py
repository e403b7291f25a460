"""RDKit descriptor vectors."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors

from drugnet.features import descriptors as D

SMILES = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "C[N+](C)(C)CC(=O)[O-]",
    "Clc1ccc2c(c1)C(c1ccccc1)=NCC(=O)N2",
    "[Na+].[Cl-]",
]


def test_sets_resolve_and_are_known():
    default = D.descriptor_names("default")
    assert 40 <= len(default) <= 60 and len(set(default)) == len(default)
    assert D.descriptor_names("all") == [n for n, _ in Descriptors._descList]
    with pytest.raises(ValueError, match="unknown descriptor set"):
        D.descriptor_names("fast")
    with pytest.raises(ValueError, match="NotADescriptor"):
        D.descriptor_names(["MolWt", "NotADescriptor"])


@pytest.mark.parametrize("smiles", SMILES)
def test_values_equal_rdkit_functions(smiles):
    mol = Chem.MolFromSmiles(smiles)
    names = D.descriptor_names("all")
    values = D.compute_descriptors(mol, "all")
    functions = dict(Descriptors._descList)
    ref = np.array([functions[n](Chem.Mol(mol)) for n in names], dtype=np.float64).astype(
        np.float32
    )
    ref[~np.isfinite(ref)] = np.nan
    assert values.dtype == np.float32 and values.shape == (len(names),)
    np.testing.assert_allclose(values, ref, rtol=1e-5, atol=1e-5, equal_nan=True)


def test_charge_counts():
    betaine = Chem.MolFromSmiles("C[N+](C)(C)CC(=O)[O-]")
    values = dict(zip(D.descriptor_names("default"), D.compute_descriptors(betaine), strict=False))
    assert (values["FormalCharge"], values["NumPositiveAtoms"], values["NumNegativeAtoms"]) == (
        0,
        1,
        1,
    )


def test_failures_and_non_finite_become_nan(monkeypatch):
    def boom(mol):
        raise RuntimeError("descriptor failed")

    monkeypatch.setitem(D._FUNCTIONS, "Boom", boom)
    monkeypatch.setitem(D._FUNCTIONS, "Huge", lambda mol: 1e300)
    D._plan.cache_clear()
    values = D.compute_descriptors(Chem.MolFromSmiles("CCO"), ["MolWt", "Boom", "Huge"])
    D._plan.cache_clear()
    assert values[0] == pytest.approx(46.069, abs=1e-3)
    assert np.isnan(values[1]) and np.isnan(values[2])


def test_matrix_rows_equal_rdkit_functions():
    """The per-chunk matrix (one float32 conversion for all rows) holds each molecule's RDKit
    values."""
    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    names = D.descriptor_names("default")
    matrix = D.descriptor_matrix(mols, "default")
    functions = {**dict(Descriptors._descList), **D.EXTRA_DESCRIPTORS}
    ref = np.array(
        [[functions[n](Chem.Mol(m)) for n in names] for m in mols], dtype=np.float64
    ).astype(np.float32)
    ref[~np.isfinite(ref)] = np.nan
    assert matrix.dtype == np.float32 and matrix.shape == (len(mols), len(names))
    np.testing.assert_allclose(matrix, ref, rtol=1e-5, atol=1e-5, equal_nan=True)
    assert D.descriptor_matrix([], "default").shape == (0, len(names))
