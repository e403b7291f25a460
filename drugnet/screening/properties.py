"""Computed-property objectives: RDKit properties with desirability windows (docs/screening.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem import Crippen, Descriptors, Lipinski, rdMolDescriptors

from drugnet.chem.qed import qed
from drugnet.chem.substructure_screen import pattern_bits
from drugnet.screening.annotate import map_frames, structural_alerts


@dataclass(frozen=True)
class Property:
    """A campaign property: the ranked.csv ``column`` it fills and the default ``tolerance``
    (distance outside the window at which the desirability reaches 0). ``compute(mol, bits)``:
    ``bits`` is the molecule's pattern fingerprint when ``screened`` (computed once per molecule
    for every screened property), else None."""

    column: str
    tolerance: float
    compute: Callable[[Chem.Mol, np.ndarray | None], float]
    screened: bool = False


def _plain(fn: Callable[[Chem.Mol], float]) -> Callable[[Chem.Mol, np.ndarray | None], float]:
    return lambda mol, _bits: fn(mol)


def _n_alerts(mol: Chem.Mol, bits: np.ndarray | None) -> float:
    return float(len(structural_alerts(mol, bits)))


#: Config name -> property. Columns shared with the annotations (``mw``, ``qed`` ...) use the very
#: same functions as :func:`drugnet.screening.annotate.mol_properties` (the ignores: rdkit's
#: stubs omit the descriptor functions its modules register at import).
PROPERTIES: dict[str, Property] = {
    "mw": Property("mw", 100.0, _plain(Descriptors.MolWt)),  # type: ignore[attr-defined]
    "qed": Property("qed", 0.2, qed, screened=True),
    "clogp": Property("clogp", 1.5, _plain(Crippen.MolLogP)),  # type: ignore[attr-defined]
    "tpsa": Property("tpsa", 30.0, _plain(rdMolDescriptors.CalcTPSA)),
    "hbd": Property("hbd", 2.0, _plain(Lipinski.NumHDonors)),  # type: ignore[attr-defined]
    "hba": Property("hba", 3.0, _plain(Lipinski.NumHAcceptors)),  # type: ignore[attr-defined]
    "rotb": Property(
        "rotatable_bonds",
        3.0,
        _plain(Lipinski.NumRotatableBonds),  # type: ignore[attr-defined]
    ),
    "heavy_atoms": Property("heavy_atoms", 10.0, _plain(lambda m: m.GetNumHeavyAtoms())),
    "charge": Property("formal_charge", 1.0, _plain(Chem.GetFormalCharge)),
    "alerts": Property("n_alerts", 1.0, _n_alerts, screened=True),
}


def window_desirability(
    values: np.ndarray, window: Sequence[float | None], tolerance: float
) -> np.ndarray:
    """1 inside ``[lo, hi]`` (a None bound is open), falling linearly to 0 at ``tolerance`` outside
    it; NaN (unparsable molecule) -> 0."""
    values = np.asarray(values, dtype=np.float64)
    lo, hi = window
    below = np.maximum(lo - values, 0.0) if lo is not None else np.zeros_like(values)
    above = np.maximum(values - hi, 0.0) if hi is not None else np.zeros_like(values)
    d = np.clip(1.0 - (below + above) / tolerance, 0.0, 1.0)
    return np.where(np.isfinite(values), d, 0.0)


def _row(mol: Chem.Mol | None, props: Sequence[Property], screened: bool) -> list[float]:
    """The values of ``props`` for one molecule (NaN for None); RDKit caches Crippen logP and TPSA
    on the molecule, so properties that share them (``clogp``, ``qed``) compute them once."""
    if mol is None:
        return [np.nan] * len(props)
    bits = pattern_bits(mol) if screened else None
    return [float(p.compute(mol, bits)) for p in props]


def _values(smiles: list[str], names: tuple[str, ...]) -> pd.DataFrame:
    props = [PROPERTIES[name] for name in names]
    screened = any(p.screened for p in props)
    rows = [
        _row(Chem.MolFromSmiles(s) if isinstance(s, str) and s else None, props, screened)
        for s in smiles
    ]
    return pd.DataFrame(rows, columns=[p.column for p in props], dtype=float)


def property_values(
    smiles: Sequence[str], names: Sequence[str], threads: int = 1, chunk: int = 2_000
) -> pd.DataFrame:
    """One column per property name (its ``column``), NaN for unparsable SMILES; one molecule is
    parsed and held at a time, in ``threads`` worker processes when there are at least two
    chunks of ``chunk`` rows."""
    return map_frames(partial(_values, names=tuple(names)), smiles, threads, chunk)
