"""Computed-property objectives: RDKit properties with desirability windows (docs/screening.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem import QED, Crippen, Descriptors, Lipinski, rdMolDescriptors

from drugnet.screening.annotate import structural_alerts


@dataclass(frozen=True)
class Property:
    """A campaign property: the ranked.csv ``column`` it fills and the default ``tolerance``
    (distance outside the window at which the desirability reaches 0)."""

    column: str
    tolerance: float
    compute: Callable[[Chem.Mol], float]


def _n_alerts(mol: Chem.Mol) -> float:
    return float(len(structural_alerts(mol)))


#: Config name -> property. Columns shared with the annotations (``mw``, ``qed`` ...) use the very
#: same RDKit functions as :func:`drugnet.screening.annotate.mol_properties` (the ignores: rdkit's
#: stubs omit the descriptor functions its modules register at import).
PROPERTIES: dict[str, Property] = {
    "mw": Property("mw", 100.0, Descriptors.MolWt),  # type: ignore[attr-defined]
    "qed": Property("qed", 0.2, QED.qed),
    "clogp": Property("clogp", 1.5, Crippen.MolLogP),  # type: ignore[attr-defined]
    "tpsa": Property("tpsa", 30.0, rdMolDescriptors.CalcTPSA),
    "hbd": Property("hbd", 2.0, Lipinski.NumHDonors),  # type: ignore[attr-defined]
    "hba": Property("hba", 3.0, Lipinski.NumHAcceptors),  # type: ignore[attr-defined]
    "rotb": Property(
        "rotatable_bonds",
        3.0,
        Lipinski.NumRotatableBonds,  # type: ignore[attr-defined]
    ),
    "heavy_atoms": Property("heavy_atoms", 10.0, lambda m: m.GetNumHeavyAtoms()),
    "charge": Property("formal_charge", 1.0, Chem.GetFormalCharge),
    "alerts": Property("n_alerts", 1.0, _n_alerts),
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


def property_values(smiles: Sequence[str], names: Sequence[str]) -> pd.DataFrame:
    """One column per property name (its ``column``), NaN for unparsable SMILES; one molecule is
    parsed and held at a time."""
    props = [PROPERTIES[name] for name in names]
    rows = []
    for s in smiles:
        mol = Chem.MolFromSmiles(s) if isinstance(s, str) and s else None
        rows.append([float(p.compute(mol)) if mol is not None else np.nan for p in props])
    return pd.DataFrame(rows, columns=[p.column for p in props], dtype=float)
