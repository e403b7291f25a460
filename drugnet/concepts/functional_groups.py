"""Functional groups: RDKit's ``fr_*`` fragment SMARTS and its functional-group hierarchy."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import lru_cache

from rdkit import Chem, RDConfig
from rdkit.Chem import FunctionalGroups

from drugnet.concepts.matrix import ConceptMatrix, at_level, atom_matrix, check_mols

FAMILY = "functional_group"


@dataclass(frozen=True)
class FunctionalGroup:
    """One SMARTS pattern; ``source`` is ``fragment`` (fr_*) or ``hierarchy``."""

    name: str
    smarts: str
    source: str


def _fragment_patterns() -> list[FunctionalGroup]:
    path = os.path.join(RDConfig.RDDataDir, "FragmentDescriptors.csv")
    out = []
    with open(path) as handle:
        rows = csv.reader(
            (line for line in handle if line.strip() and not line.startswith("#")), delimiter="\t"
        )
        for row in rows:
            if len(row) >= 3 and row[0].startswith("fr_"):
                out.append(FunctionalGroup(row[0], row[2], "fragment"))
    return out


def _hierarchy_patterns() -> list[FunctionalGroup]:
    out = []
    stack = list(FunctionalGroups.BuildFuncGroupHierarchy())
    while stack:
        node = stack.pop(0)
        out.append(FunctionalGroup(node.label, node.smarts, "hierarchy"))
        stack[:0] = node.children
    return out


@lru_cache(maxsize=1)
def functional_group_patterns() -> tuple[tuple[FunctionalGroup, Chem.Mol], ...]:
    """All parsable patterns, ``fr_*`` first, deduplicated by canonical SMARTS (first name kept)."""
    seen: set[str] = set()
    out = []
    for group in _fragment_patterns() + _hierarchy_patterns():
        query = Chem.MolFromSmarts(group.smarts)
        if query is None:
            continue
        key = Chem.MolToSmarts(query)
        if key in seen:
            continue
        seen.add(key)
        out.append((group, query))
    return tuple(out)


def concept_labels(mols: list[Chem.Mol], *, level: str = "atom") -> ConceptMatrix:
    """Functional-group labels: an atom is positive when it is in any match of the pattern;
    a molecule when the pattern matches anywhere."""
    check_mols(mols)
    patterns = functional_group_patterns()
    names = [group.name for group, _ in patterns]
    atom_sets = []
    for mol in mols:
        sets = []
        for _, query in patterns:
            if mol.HasSubstructMatch(query):
                sets.append(
                    {a for match in mol.GetSubstructMatches(query, maxMatches=10000) for a in match}
                )
            else:
                sets.append(set())
        atom_sets.append(sets)
    matrix = atom_matrix(mols, names, FAMILY, atom_sets)
    return at_level(matrix, level, len(mols))
