"""Interaction centers: atom labels for every feature family of RDKit's ``BaseFeatures.fdef``."""

from __future__ import annotations

import os
from functools import lru_cache

from rdkit import Chem, RDConfig
from rdkit.Chem import ChemicalFeatures

from drugnet.concepts.matrix import ConceptMatrix, at_level, atom_matrix, check_mols

FAMILY = "interaction_center"


@lru_cache(maxsize=1)
def feature_factory() -> ChemicalFeatures.MolChemicalFeatureFactory:
    """RDKit's feature factory built from ``BaseFeatures.fdef``."""
    fdef = os.path.join(RDConfig.RDDataDir, "BaseFeatures.fdef")
    return ChemicalFeatures.BuildFeatureFactory(fdef)  # type: ignore[attr-defined]  # not in rdkit stubs


def feature_families() -> list[str]:
    """Donor, Acceptor, NegIonizable, PosIonizable, ZnBinder, Aromatic, Hydrophobe,
    LumpedHydrophobe."""
    return list(feature_factory().GetFeatureFamilies())


def concept_labels(mols: list[Chem.Mol], *, level: str = "atom") -> ConceptMatrix:
    """An atom is positive for a family when it belongs to any feature of that family
    (all atoms of multi-atom features such as rings or acid groups); a molecule when it has one."""
    check_mols(mols)
    factory = feature_factory()
    names = feature_families()
    column = {name: i for i, name in enumerate(names)}
    atom_sets = []
    for mol in mols:
        sets: list[set[int]] = [set() for _ in names]
        for feat in factory.GetFeaturesForMol(mol):
            sets[column[feat.GetFamily()]].update(feat.GetAtomIds())
        atom_sets.append(sets)
    return at_level(atom_matrix(mols, names, FAMILY, atom_sets), level, len(mols))
