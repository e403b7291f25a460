"""All concept families at once, with a minimum-positive filter and duplicate-column removal."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rdkit import Chem

from drugnet.concepts import functional_groups, interaction_centers, pharmacophores
from drugnet.concepts.matrix import ConceptMatrix, check_mols, hstack, subsample_atoms

FAMILIES = ("functional_group", "interaction_center", "pharmacophore")
SKIPPED_COLUMNS = ["concept", "family", "level", "n_pos", "n_neg", "reason"]


@dataclass
class ConceptSet:
    """Kept concepts per level (``atom``, ``molecule``) and the skipped ones with their counts."""

    matrices: dict[str, ConceptMatrix]
    skipped: pd.DataFrame


def _counts(matrix: ConceptMatrix) -> tuple[np.ndarray, np.ndarray]:
    """Positive molecules and negative items per concept (the two sides a probe needs)."""
    n_pos = matrix.positive_molecules()
    n_neg = len(matrix.item_mol) - matrix.values.sum(axis=0)
    return n_pos, n_neg


def filter_concepts(
    matrix: ConceptMatrix, min_positives: int
) -> tuple[ConceptMatrix, pd.DataFrame]:
    """Drop concepts with fewer than ``min_positives`` positive molecules or negative items, and
    concepts whose label column duplicates an earlier one (same labels on every item)."""
    n_pos, n_neg = _counts(matrix)
    keep = np.zeros(matrix.n_concepts, dtype=bool)
    reasons: list[str | None] = []
    seen: dict[bytes, str] = {}
    for c in range(matrix.n_concepts):
        if n_pos[c] < min_positives:
            reasons.append(f"fewer than {min_positives} positive molecules")
            continue
        if n_neg[c] < min_positives:
            reasons.append(f"fewer than {min_positives} negative {matrix.level}s")
            continue
        key = np.packbits(matrix.values[:, c]).tobytes()
        if key in seen:
            reasons.append(f"duplicate of {seen[key]}")
            continue
        seen[key] = matrix.names[c]
        keep[c] = True
        reasons.append(None)
    skipped = pd.DataFrame(
        [
            (
                matrix.names[c],
                matrix.family[c],
                matrix.level,
                int(n_pos[c]),
                int(n_neg[c]),
                reasons[c],
            )
            for c in np.flatnonzero(~keep)
        ],
        columns=SKIPPED_COLUMNS,
    )
    return matrix.select(keep), skipped


def all_concepts(
    mols: list[Chem.Mol],
    *,
    min_positives: int = 30,
    levels: tuple[str, ...] = ("atom", "molecule"),
    families: tuple[str, ...] = FAMILIES,
    pharmacophore_points: int = 2,
    atoms_per_molecule: int | None = None,
    seed: int = 0,
) -> ConceptSet:
    """Every family's labels at each level, filtered by ``filter_concepts``.

    Atom-level labels are computed once and reduced to molecules; with
    ``pharmacophore_points=3`` molecule level also gets the 3-point pharmacophores. With
    ``atoms_per_molecule`` the atom level keeps that many random atoms per molecule (seeded,
    `subsample_atoms`) before filtering, so counts refer to the items that will be probed.
    """
    check_mols(mols)
    modules = {
        "functional_group": functional_groups,
        "interaction_center": interaction_centers,
        "pharmacophore": pharmacophores,
    }
    atom_level = hstack([modules[f].concept_labels(mols, level="atom") for f in families])
    raw = {}
    if "atom" in levels:
        raw["atom"] = atom_level.take_items(
            subsample_atoms(atom_level.item_mol, atoms_per_molecule, seed=seed)
        )
    if "molecule" in levels:
        mol_level = atom_level.to_molecule_level(len(mols))
        if "pharmacophore" in families and pharmacophore_points == 3:
            three = pharmacophores.concept_labels(mols, level="molecule", max_points=3)
            three = three.select([":" in n and n.count("-") == 2 for n in three.names])
            mol_level = hstack([mol_level, three])
        raw["molecule"] = mol_level
    matrices, skipped = {}, []
    for level, matrix in raw.items():
        matrices[level], dropped = filter_concepts(matrix, min_positives)
        skipped.append(dropped)
    return ConceptSet(matrices, pd.concat(skipped, ignore_index=True))
