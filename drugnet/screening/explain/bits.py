"""From ECFP bits to atoms: an SNN's attribution per fingerprint bit is spread over the atoms of
the bit's Morgan environments (RDKit ``bitInfo`` of the generator the model was featurized with)."""

from __future__ import annotations

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

from drugnet.features.fingerprints import morgan_generator


def bit_atoms(mol: Chem.Mol, radius: int, n_bits: int) -> dict[int, list[tuple[int, ...]]]:
    """ECFP bit -> atoms of each of its environments in ``mol`` (same generator as the
    featurization)."""
    ao = rdFingerprintGenerator.AdditionalOutput()
    ao.AllocateBitInfoMap()
    morgan_generator(radius, n_bits).GetCountFingerprintAsNumPy(mol, additionalOutput=ao)
    out: dict[int, list[tuple[int, ...]]] = {}
    for bit, envs in ao.GetBitInfoMap().items():
        atom_lists = []
        for center, r in envs:
            atoms = {center}
            if r > 0:
                for b in Chem.FindAtomEnvironmentOfRadiusN(mol, r, center, enforceSize=False):
                    bond = mol.GetBondWithIdx(b)
                    atoms.update((bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()))
            atom_lists.append(tuple(sorted(atoms)))
        out[int(bit)] = atom_lists
    return out


def bits_to_atoms(mol: Chem.Mol, bit_attr: np.ndarray, radius: int, n_bits: int) -> np.ndarray:
    """Per-atom attribution from per-bit attribution: a bit's value is split equally over its
    occurrences, each occurrence's share equally over the atoms of its environment."""
    phi = np.zeros(mol.GetNumAtoms())
    envs = bit_atoms(mol, radius, n_bits)
    for bit in np.flatnonzero(bit_attr):
        occurrences = envs.get(int(bit))
        if not occurrences:  # cannot happen for the model's own featurization; keep the sum honest
            phi += bit_attr[bit] / len(phi)
            continue
        share = bit_attr[bit] / len(occurrences)
        for atoms in occurrences:
            phi[list(atoms)] += share / len(atoms)
    return phi
