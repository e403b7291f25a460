"""`ConceptMatrix`: boolean concept labels for atoms or molecules, shared by every concept
family."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rdkit import Chem

LEVELS = ("atom", "molecule")


@dataclass
class ConceptMatrix:
    """Labels of ``n_items`` items (atoms or molecules) for ``n_concepts`` concepts.

    ``values[i, c]`` is True when item ``i`` carries concept ``c``; ``item_mol[i]`` is the index of
    the item's molecule in the input list; ``item_atom[i]`` its RDKit atom index (atom level only,
    same order as ``Chem.MolFromSmiles`` of the standardized SMILES). ``family[c]`` is the concept
    family (``functional_group``, ``interaction_center``, ``pharmacophore``).
    """

    names: list[str]
    family: list[str]
    level: str
    values: np.ndarray
    item_mol: np.ndarray
    item_atom: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")
        if self.values.shape != (len(self.item_mol), len(self.names)):
            raise ValueError(f"values shape {self.values.shape} does not match items/names")
        if len(self.family) != len(self.names):
            raise ValueError("one family per concept name is required")

    @property
    def n_concepts(self) -> int:
        return len(self.names)

    def column(self, name: str) -> np.ndarray:
        """Labels of one concept by name."""
        return self.values[:, self.names.index(name)]

    def positive_molecules(self) -> np.ndarray:
        """Per concept, the number of molecules with at least one positive item."""
        if self.level == "molecule":
            return self.values.sum(axis=0)
        n_mols = int(self.item_mol.max()) + 1 if len(self.item_mol) else 0
        per_mol = np.zeros((n_mols, self.n_concepts), dtype=bool)
        np.logical_or.at(per_mol, self.item_mol, self.values)
        return per_mol.sum(axis=0)

    def select(self, columns: np.ndarray | list[int]) -> ConceptMatrix:
        """Keep the given concept columns (indices or boolean mask)."""
        idx = (
            np.flatnonzero(columns)
            if np.asarray(columns).dtype == bool
            else np.asarray(columns, int)
        )
        return ConceptMatrix(
            names=[self.names[i] for i in idx],
            family=[self.family[i] for i in idx],
            level=self.level,
            values=self.values[:, idx],
            item_mol=self.item_mol,
            item_atom=self.item_atom,
        )

    def take_items(self, items: np.ndarray) -> ConceptMatrix:
        """Keep the given items (indices or boolean mask), all concepts."""
        return ConceptMatrix(
            names=list(self.names),
            family=list(self.family),
            level=self.level,
            values=self.values[items],
            item_mol=self.item_mol[items],
            item_atom=None if self.item_atom is None else self.item_atom[items],
        )

    def to_molecule_level(self, n_mols: int) -> ConceptMatrix:
        """Molecule-level presence: a molecule carries a concept when any of its atoms does."""
        if self.level == "molecule":
            return self
        values = np.zeros((n_mols, self.n_concepts), dtype=bool)
        np.logical_or.at(values, self.item_mol, self.values)
        return ConceptMatrix(
            list(self.names), list(self.family), "molecule", values, np.arange(n_mols)
        )


def atom_items(mols: list[Chem.Mol]) -> tuple[np.ndarray, np.ndarray]:
    """``(item_mol, item_atom)`` for every heavy atom of every molecule, molecule by molecule."""
    counts = np.array([m.GetNumAtoms() for m in mols], dtype=np.int64)
    item_mol = np.repeat(np.arange(len(mols), dtype=np.int64), counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    item_atom = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)
    return item_mol, item_atom


def atom_matrix(
    mols: list[Chem.Mol], names: list[str], family: str, atom_sets: list[list[set[int]]]
) -> ConceptMatrix:
    """Atom-level matrix from ``atom_sets[m][c]`` (atoms of molecule ``m`` carrying concept
    ``c``)."""
    item_mol, item_atom = atom_items(mols)
    offsets = np.concatenate([[0], np.cumsum([m.GetNumAtoms() for m in mols])])
    values = np.zeros((len(item_mol), len(names)), dtype=bool)
    for m, sets in enumerate(atom_sets):
        for c, atoms in enumerate(sets):
            if atoms:
                values[offsets[m] + np.fromiter(atoms, dtype=np.int64), c] = True
    return ConceptMatrix(names, [family] * len(names), "atom", values, item_mol, item_atom)


def check_mols(mols: list[Chem.Mol]) -> None:
    """Concept labelling needs parsed molecules; fail loudly on ``None``."""
    bad = [i for i, m in enumerate(mols) if m is None]
    if bad:
        raise ValueError(f"molecules {bad[:5]} are None; parse/standardize and drop them first")


def hstack(matrices: list[ConceptMatrix]) -> ConceptMatrix:
    """Concatenate concept columns of matrices over the same items."""
    first = matrices[0]
    for other in matrices[1:]:
        if other.level != first.level or not np.array_equal(other.item_mol, first.item_mol):
            raise ValueError("matrices must share level and items")
    return ConceptMatrix(
        names=[n for m in matrices for n in m.names],
        family=[f for m in matrices for f in m.family],
        level=first.level,
        values=np.concatenate([m.values for m in matrices], axis=1),
        item_mol=first.item_mol,
        item_atom=first.item_atom,
    )


def at_level(matrix: ConceptMatrix, level: str, n_mols: int) -> ConceptMatrix:
    """Return an atom-level matrix as is (``level='atom'``) or reduced to molecules."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    return matrix if level == "atom" else matrix.to_molecule_level(n_mols)


def subsample_atoms(item_mol: np.ndarray, per_molecule: int | None, *, seed: int = 0) -> np.ndarray:
    """Sorted item indices keeping at most ``per_molecule`` random items of each molecule (all if
    None).

    ``item_mol`` must be grouped by molecule (as built by `atom_items`); seeded, so every network
    and concept of a run sees the same atoms.
    """
    if per_molecule is None:
        return np.arange(len(item_mol))
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(item_mol)), item_mol))  # by molecule, random within
    sorted_mol = item_mol[order]
    rank = np.arange(len(order)) - np.searchsorted(sorted_mol, sorted_mol, side="left")
    return np.sort(order[rank < per_molecule])
