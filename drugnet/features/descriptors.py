"""RDKit 2D descriptors as float32 vectors (non-finite values and failures become NaN).

Names are RDKit's (``Descriptors._descList``) plus three charge counts (``FormalCharge``,
``NumPositiveAtoms``, ``NumNegativeAtoms``) and DeepTox-style structural-alert counts
``Alerts_<catalog>`` (entries of an RDKit ``FilterCatalog`` catalog that match the molecule).
Descriptor families that RDKit computes as one vector in C++ (Crippen logP/MR, PEOE/SlogP/SMR VSA
bins) are computed once per molecule and give exactly the values of the per-name RDKit functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache, lru_cache

import numpy as np
from rdkit import Chem
from rdkit.Chem import Descriptors
from rdkit.Chem import rdMolDescriptors as rdmd
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

from drugnet.chem.substructure_screen import CatalogScreen

_POSITIVE = Chem.MolFromSmarts("[+,++,+++,++++]")
_NEGATIVE = Chem.MolFromSmarts("[-,--,---,----]")

EXTRA_DESCRIPTORS: dict[str, Callable[[Chem.Mol], float]] = {
    "FormalCharge": Chem.GetFormalCharge,
    "NumPositiveAtoms": lambda m: len(m.GetSubstructMatches(_POSITIVE, maxMatches=100000)),
    "NumNegativeAtoms": lambda m: len(m.GetSubstructMatches(_NEGATIVE, maxMatches=100000)),
}

# Structural-alert / toxicophore catalogs of RDKit's FilterCatalog. Left out for cost: PAINS
# (assay interference, the slowest) and CHEMBL_BMS (second slowest); the rest cost about 10x
# an ECFP per molecule together.
ALERT_CATALOGS = (
    "BRENK",
    "NIH",
    "ZINC",
    "CHEMBL_Dundee",
    "CHEMBL_Glaxo",
    "CHEMBL_Inpharmatica",
    "CHEMBL_LINT",
    "CHEMBL_MLSMR",
    "CHEMBL_SureChEMBL",
)


@cache
def _catalog(name: str) -> CatalogScreen:
    params = FilterCatalogParams()
    params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, name))
    return CatalogScreen(FilterCatalog(params))


def alert_count(mol: Chem.Mol, catalog: str) -> int:
    """Number of entries of FilterCatalog ``catalog`` that match ``mol`` (pattern-screened)."""
    return len(_catalog(catalog).matches(mol))


def _alert_counter(catalog: str) -> Callable[[Chem.Mol], float]:
    return lambda mol: alert_count(mol, catalog)


EXTRA_DESCRIPTORS.update({f"Alerts_{c}": _alert_counter(c) for c in ALERT_CATALOGS})

_RDKIT_DESCRIPTORS: dict[str, Callable[[Chem.Mol], float]] = dict(Descriptors._descList)
_FUNCTIONS = {**_RDKIT_DESCRIPTORS, **EXTRA_DESCRIPTORS}

# vector-valued RDKit functions: family -> (function, names of its outputs in order)
_GROUPS: dict[str, tuple[Callable[[Chem.Mol], Sequence[float]], list[str]]] = {
    "crippen": (rdmd.CalcCrippenDescriptors, ["MolLogP", "MolMR"]),
    "peoe_vsa": (rdmd.PEOE_VSA_, [f"PEOE_VSA{i}" for i in range(1, 15)]),
    "slogp_vsa": (rdmd.SlogP_VSA_, [f"SlogP_VSA{i}" for i in range(1, 13)]),
    "smr_vsa": (rdmd.SMR_VSA_, [f"SMR_VSA{i}" for i in range(1, 11)]),
}

# Curated for drug-likeness / toxicity and speed (dominated by Crippen logP/MR). Left out for
# cost: qed, BCUT2D_*, EState/VSA_EState, SlogP_VSA/SMR_VSA, BertzCT, fr_* (per-descriptor costs
# measured by benchmarks/featurize.py: docs/benchmarks.md, "Costs behind limits in the code").
_DEFAULT = [
    "MolWt",
    "MolLogP",
    "MolMR",
    "TPSA",
    "LabuteASA",
    "NumHDonors",
    "NumHAcceptors",
    "NHOHCount",
    "NOCount",
    "NumRotatableBonds",
    "HeavyAtomCount",
    "NumHeteroatoms",
    "FractionCSP3",
    "HallKierAlpha",
    "RingCount",
    "NumAromaticRings",
    "NumAliphaticRings",
    "NumSaturatedRings",
    "NumAromaticCarbocycles",
    "NumAromaticHeterocycles",
    "NumAliphaticHeterocycles",
    "NumSaturatedHeterocycles",
    "NumHeterocycles",
    "NumSpiroAtoms",
    "NumBridgeheadAtoms",
    "NumAmideBonds",
    "NumAtomStereoCenters",
    "Chi0n",
    "Chi1n",
    "Chi0v",
    "Chi1v",
    *[f"PEOE_VSA{i}" for i in range(1, 15)],
    "FormalCharge",
    "NumPositiveAtoms",
    "NumNegativeAtoms",
]

DESCRIPTOR_SETS: dict[str, list[str]] = {
    "default": _DEFAULT,
    "all": [name for name, _ in Descriptors._descList],
    # DeepTox-style inputs for the SNN: the default set, RDKit's fr_* functional-group counts and
    # structural-alert counts per FilterCatalog catalog
    "deeptox": _DEFAULT
    + [name for name, _ in Descriptors._descList if name.startswith("fr_")]
    + [f"Alerts_{c}" for c in ALERT_CATALOGS],
}


def descriptor_names(names: str | Sequence[str]) -> list[str]:
    """Resolve a set name (``default``, ``all``) or a list of names; unknown names raise
    ValueError."""
    if isinstance(names, str):
        if names not in DESCRIPTOR_SETS:
            raise ValueError(
                f"unknown descriptor set {names!r}; choose from {sorted(DESCRIPTOR_SETS)}"
            )
        return list(DESCRIPTOR_SETS[names])
    unknown = [n for n in names if n not in _FUNCTIONS]
    if unknown:
        raise ValueError(f"unknown descriptor names: {unknown}")
    return list(names)


@lru_cache(maxsize=16)
def _plan(key: str | tuple[str, ...]) -> tuple[int, list, list]:
    """``(d, groups, singles)``: vector groups ``(fn, out_idx, group_idx)``, single
    ``(fn, out_idx)``."""
    names = descriptor_names(key)
    position = {n: i for i, n in enumerate(names)}
    groups, covered = [], set[int]()
    for fn, group_names in _GROUPS.values():
        hit = [(position[n], j) for j, n in enumerate(group_names) if n in position]
        if len(hit) > 1:
            out_idx, group_idx = zip(*hit, strict=False)
            groups.append((fn, list(out_idx), list(group_idx)))
            covered.update(out_idx)
    singles = [(_FUNCTIONS[n], i) for i, n in enumerate(names) if i not in covered]
    return len(names), groups, singles


def _fill(mol: Chem.Mol, out: np.ndarray, groups: list, singles: list) -> None:
    """Write the descriptor values of ``mol`` into the float64 row ``out`` (failures stay NaN)."""
    for fn, out_idx, group_idx in groups:
        try:
            values = fn(mol)
            out[out_idx] = [values[j] for j in group_idx]
        except Exception:  # noqa: BLE001 - a failing descriptor is a missing value
            pass
    for fn, i in singles:
        try:
            out[i] = fn(mol)
        except Exception:  # noqa: BLE001
            pass


def descriptor_matrix(
    mols: Sequence[Chem.Mol], names: str | Sequence[str] = "default"
) -> np.ndarray:
    """Descriptor values of ``mols``, float32 ``[len(mols), d]`` (NaN for failures and non-finite
    values).

    Row ``i`` equals ``compute_descriptors(mols[i], names)``; the float32 conversion runs once.
    """
    d, groups, singles = _plan(names if isinstance(names, str) else tuple(names))
    out = np.full((len(mols), d), np.nan, dtype=np.float64)
    for row, mol in zip(out, mols, strict=False):
        _fill(mol, row, groups, singles)
    with np.errstate(over="ignore", invalid="ignore"):
        values32 = out.astype(np.float32)
    values32[~np.isfinite(values32)] = np.nan
    return values32


def compute_descriptors(mol: Chem.Mol, names: str | Sequence[str] = "default") -> np.ndarray:
    """Descriptor values of ``mol`` in the order of ``names``, float32 (NaN for failures)."""
    return descriptor_matrix([mol], names)[0]
