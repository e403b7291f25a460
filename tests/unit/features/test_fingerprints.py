"""ECFP count fingerprints."""

from __future__ import annotations

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from drugnet.features.fingerprints import ecfp_bitvects, ecfp_counts


def test_counts_match_rdkit_and_are_uint8():
    mol = Chem.MolFromSmiles("CN1CCC[C@H]1c1cccnc1")
    counts = ecfp_counts(mol, radius=2, n_bits=1024)
    ref = rdFingerprintGenerator.GetMorganGenerator(
        radius=2, fpSize=1024
    ).GetCountFingerprintAsNumPy(mol)
    assert counts.dtype == np.uint8 and counts.shape == (1024,)
    assert (counts == ref).all()
    assert (
        ecfp_counts(mol, radius=0, n_bits=1024).sum() == mol.GetNumAtoms()
    )  # one radius-0 environment per atom


def test_counts_clip_at_255():
    mol = Chem.MolFromSmiles("C" * 400)
    assert ecfp_counts(mol, radius=0, n_bits=64).max() == 255


def test_bitvects_support_tanimoto():
    mols = [Chem.MolFromSmiles(s) for s in ("CCO", "CCO", "c1ccccc1")]
    fps = ecfp_bitvects(mols)
    sims = DataStructs.BulkTanimotoSimilarity(fps[0], fps)
    assert sims[0] == sims[1] == 1.0 and sims[2] < 0.2
