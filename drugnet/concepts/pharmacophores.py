"""2D pharmacophores: pairs/triplets of Gobbi-Poppinger features at topological distance bins.

Molecule level: the ``Chem.Pharm2D`` bit (``Gen2DFingerprint`` with ``Gobbi_Pharm2D``'s feature
definitions and distance bins) is on. Atom level (2-point pharmacophores only): every atom of
either feature in a feature pair that realizes the bit (the shortest path between the two
features falls in the bin) is positive. 3-point pharmacophores are molecule-level only: a
triplet has no single atom that carries it, so atom labels would be arbitrary.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rdkit import Chem
from rdkit.Chem.Pharm2D import Generate, Gobbi_Pharm2D, SigFactory

from drugnet.concepts.matrix import LEVELS, ConceptMatrix, atom_matrix, check_mols

FAMILY = "pharmacophore"


@lru_cache(maxsize=2)
def signature_factory(max_points: int = 2) -> SigFactory.SigFactory:
    """Gobbi 2D pharmacophore factory with 2..``max_points`` points and Gobbi's distance bins."""
    if max_points not in (2, 3):
        raise ValueError("max_points must be 2 or 3")
    gobbi = Gobbi_Pharm2D.factory
    factory = SigFactory.SigFactory(
        gobbi.featFactory,  # type: ignore[attr-defined]  # set at runtime, not in rdkit stubs
        minPointCount=2,
        maxPointCount=max_points,
        trianglePruneBins=max_points == 3,
    )
    factory.SetBins(list(Gobbi_Pharm2D.defaultBins))
    factory.Init()
    return factory


def _bin_label(lo: int, hi: int) -> str:
    return f"{lo}+" if hi >= 100 else (str(lo) if hi - lo == 1 else f"{lo}-{hi - 1}")


def bit_name(factory: SigFactory.SigFactory, bit: int) -> str:
    """Readable name, e.g. ``HA-HD:4`` (acceptor and donor 4 bonds apart) or ``AR-HA-HD:2|3|5``
    (3-point: distances of pairs 0-1, 0-2, 1-2)."""
    _, feats, bins = factory.GetBitInfo(bit)
    families = factory.GetFeatFamilies()
    labels = [_bin_label(*factory.GetBins()[b]) for b in bins]
    return "-".join(families[f] for f in feats) + ":" + "|".join(labels)


def _points(factory: SigFactory.SigFactory, bit: int) -> int:
    return factory.GetBitInfo(bit)[0]


def concept_labels(
    mols: list[Chem.Mol], *, level: str = "atom", max_points: int = 2
) -> ConceptMatrix:
    """Pharmacophore labels for every bit of the factory (empty columns included; filter with
    ``all_concepts``). Atom level is restricted to 2-point bits (see module docstring)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    check_mols(mols)
    factory = signature_factory(max_points)
    n_bits = factory.GetSigSize()
    bits = [b for b in range(n_bits) if level == "molecule" or _points(factory, b) == 2]
    column = {b: i for i, b in enumerate(bits)}
    names = [bit_name(factory, b) for b in bits]
    if level == "molecule":
        values = np.zeros((len(mols), len(bits)), dtype=bool)
        for m, mol in enumerate(mols):
            on = list(Generate.Gen2DFingerprint(mol, factory).GetOnBits())
            values[m, [column[b] for b in on]] = True
        return ConceptMatrix(names, [FAMILY] * len(names), "molecule", values, np.arange(len(mols)))
    atom_sets = []
    for mol in mols:
        info: dict[int, list] = {}
        Generate.Gen2DFingerprint(mol, factory, bitInfo=info)
        sets: list[set[int]] = [set() for _ in bits]
        for bit, matches in info.items():
            if bit in column:
                sets[column[bit]].update(
                    a for match in matches for feature in match for a in feature
                )
        atom_sets.append(sets)
    return atom_matrix(mols, names, FAMILY, atom_sets)
