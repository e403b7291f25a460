"""Morgan (ECFP) count fingerprints and bit vectors."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator


@lru_cache(maxsize=8)
def morgan_generator(
    radius: int = 2, n_bits: int = 2048
) -> rdFingerprintGenerator.FingerprintGenerator64:
    """The Morgan generator for ``radius``/``n_bits``, built once per process."""
    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)


def ecfp_counts(mol: Chem.Mol, radius: int = 2, n_bits: int = 2048) -> np.ndarray:
    """Folded Morgan count fingerprint of ``mol``, uint8 ``[n_bits]`` (counts clipped at 255)."""
    counts = morgan_generator(radius, n_bits).GetCountFingerprintAsNumPy(mol)
    return np.minimum(counts, 255).astype(np.uint8)


def ecfp_bitvects(
    mols: Iterable[Chem.Mol], radius: int = 2, n_bits: int = 2048
) -> list[DataStructs.ExplicitBitVect]:
    """Morgan bit vectors (for ``DataStructs.BulkTanimotoSimilarity``)."""
    gen = morgan_generator(radius, n_bits)
    return [gen.GetFingerprint(m) for m in mols]
