"""The two explanation columns as strings: ``explanation_atoms`` (signed attribution per atom)
and ``explanation`` (the concepts that carry the attribution, chosen greedily); formats in
:mod:`drugnet.screening.explain` and docs/explanations.md."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
from rdkit import Chem

from drugnet.screening.explain.concepts import concept_instances

#: At most this many concept/atom entries in ``explanation``.
MAX_ENTRIES = 5
#: Decimals of every attribution written (score units).
DECIMALS = 4
#: ``explanation_atoms`` keeps atoms with ``|phi| >= MIN_ATOM_SHARE * max |phi|`` of the molecule.
MIN_ATOM_SHARE = 0.01
#: An ``explanation`` entry must add at least this share of the molecule's ``sum |phi|``.
MIN_ENTRY_SHARE = 0.05

#: One ``explanation`` entry (entries are joined by ``"; "``).
ENTRY_PATTERN = re.compile(
    r"(?P<sign>[+-]) (?P<name>[^\[\];]+?)(?: \[(?P<atoms>\d+(?:,\d+)*)\])? "
    r"(?P<value>[+-]\d+\.\d{" + str(DECIMALS) + "})"
)
#: One ``explanation_atoms`` entry (entries are joined by ``";"``).
ATOMS_PATTERN = re.compile(r"(?P<idx>\d+):(?P<value>[+-]\d+\.\d{" + str(DECIMALS) + "})")
DESCRIPTOR_ENTRY = "molecular descriptors (not atom-mapped)"
REST_ENTRY = "other atoms"


def _fmt(value: float) -> str:
    text = f"{value:+.{DECIMALS}f}"
    return "+" + text[1:] if float(text) == 0.0 else text  # no "-0.0000"


def format_atoms(phi: np.ndarray) -> str:
    """``explanation_atoms``: ``"idx:+0.0123;..."`` for non-negligible atoms, by index."""
    phi = np.asarray(phi, dtype=np.float64)
    if not len(phi) or not np.all(np.isfinite(phi)):
        return ""
    cut = MIN_ATOM_SHARE * float(np.abs(phi).max())
    parts = []
    for i, v in enumerate(phi):
        text = _fmt(v)
        if abs(v) >= cut and float(text) != 0.0:
            parts.append(f"{i}:{text}")
    return ";".join(parts)


def describe(
    mol: Chem.Mol,
    phi: np.ndarray,
    descriptors: float = 0.0,
    instances: Sequence[tuple[str, Sequence[int]]] | None = None,
) -> str:
    """``explanation`` of one molecule (see :mod:`drugnet.screening.explain`) from per-atom
    ``phi``, the descriptor share and the concept occurrences (default:
    :func:`~drugnet.screening.explain.concepts.concept_instances`)."""
    phi = np.asarray(phi, dtype=np.float64)
    if not np.all(np.isfinite(phi)) or not math.isfinite(descriptors):
        return ""
    n = len(phi)
    instances = concept_instances(mol) if instances is None else instances
    labels = [name for name, _ in instances]
    sets = np.zeros((n, len(instances) + n), dtype=bool)
    for c, (_, atoms) in enumerate(instances):
        sets[list(atoms), c] = True
    uncovered = np.flatnonzero(~sets.any(axis=1))  # single atoms no concept covers
    sets = sets[:, : len(instances) + len(uncovered)]
    sets[uncovered, len(instances) + np.arange(len(uncovered))] = True
    labels += [f"atom {a} ({mol.GetAtomWithIdx(int(a)).GetSymbol()})" for a in uncovered]
    total = float(np.abs(phi).sum())
    floor = max(MIN_ENTRY_SHARE * total, 0.5 * 10.0**-DECIMALS)
    covered = np.zeros(n, dtype=bool)
    chosen: list[int] = []
    sizes = sets.sum(0)
    for _ in range(MAX_ENTRIES if sets.shape[1] else 0):
        open_sets = sets & ~covered[:, None]
        count = open_sets.sum(0)
        gain = np.abs(np.where(open_sets, phi[:, None], 0.0).sum(0))
        key = np.where(count > 0, gain / np.sqrt(np.maximum(count, 1)), -1.0)
        key[chosen] = -1.0
        # key descending, then fewer atoms, then catalogue order
        best = int(np.lexsort((np.arange(len(key)), sizes, -key))[0])
        if key[best] < 0 or gain[best] < floor:
            break
        chosen.append(best)
        covered |= sets[:, best]
    entries: list[tuple[float, int, str]] = []
    for c in chosen:
        members = np.flatnonzero(sets[:, c])
        value = _fmt(float(phi[members].sum()))
        listed = ",".join(map(str, members))
        entries.append(
            (-abs(float(value)), len(entries), f"{value[0]} {labels[c]} [{listed}] {value}")
        )
    out = [e[2] for e in sorted(entries)]
    rest = ~covered
    if rest.any() and abs(float(phi[rest].sum())) >= floor:
        value = _fmt(float(phi[rest].sum()))
        out.append(f"{value[0]} {REST_ENTRY} ({int(rest.sum())}) {value}")
    if abs(descriptors) >= max(MIN_ENTRY_SHARE * (total + abs(descriptors)), 0.5 * 10.0**-DECIMALS):
        value = _fmt(descriptors)
        out.append(f"{value[0]} {DESCRIPTOR_ENTRY} {value}")
    return "; ".join(out)


def parse_explanation_atoms(text: str) -> dict[int, float]:
    """``{atom index: attribution}`` from an ``explanation_atoms`` string (inverse of
    :func:`format_atoms`)."""
    if not text:
        return {}
    out = {}
    for part in text.split(";"):
        match = ATOMS_PATTERN.fullmatch(part)
        if match is None:
            raise ValueError(f"not an explanation_atoms entry: {part!r}")
        out[int(match["idx"])] = float(match["value"])
    return out
