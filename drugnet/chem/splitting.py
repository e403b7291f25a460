"""Train/validation/test splits of a standardized table: scaffold, random, stratified, column."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

SPLITS = ("train", "val", "test")
METHODS = ("scaffold", "random", "stratified", "column")
_COLUMN_VALUES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
}


def check_sizes(sizes: Sequence[float]) -> tuple[float, float, float]:
    """Validate train/val/test fractions: three numbers >= 0 that sum to 1."""
    sizes = tuple(float(s) for s in sizes)
    if len(sizes) != 3:
        raise ValueError(f"sizes must be three fractions (train val test), got {sizes}")
    if any(s < 0 for s in sizes) or not np.isclose(sum(sizes), 1.0, atol=1e-6):
        raise ValueError(f"sizes must be >= 0 and sum to 1, got {sizes} (sum {sum(sizes):g})")
    return sizes


def murcko_scaffold(smiles: str) -> str:
    """Canonical Bemis-Murcko scaffold SMILES ("" for acyclic or unparsable molecules)."""
    mol = Chem.MolFromSmiles(smiles) if isinstance(smiles, str) else None
    if mol is None:
        return ""
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)


def _groups(codes: np.ndarray) -> list[np.ndarray]:
    """Row indices of each code ``0..k-1`` (ascending rows within a group)."""
    order = np.argsort(codes, kind="stable")
    return np.split(order, np.cumsum(np.bincount(codes))[:-1]) if len(codes) else []


def _fill(groups: list[np.ndarray], n: int, sizes: tuple[float, float, float]) -> np.ndarray:
    """Assign whole groups in order: to train while it fits, then val, else test."""
    limits = (sizes[0] * n, sizes[1] * n)
    counts = [0, 0]
    out = np.empty(n, dtype=object)
    for group in groups:
        if counts[0] + len(group) <= limits[0]:
            out[group], counts[0] = "train", counts[0] + len(group)
        elif counts[1] + len(group) <= limits[1]:
            out[group], counts[1] = "val", counts[1] + len(group)
        else:
            out[group] = "test"
    return out


def scaffold_split(smiles: Sequence[str], sizes: Sequence[float], seed: int = 0) -> np.ndarray:
    """Balanced scaffold split (Chemprop): scaffold sets larger than half the val or test size
    go first (shuffled), then the others (shuffled); sets are filled into train, val, test."""
    sizes = check_sizes(sizes)
    n = len(smiles)
    codes, _ = pd.factorize(pd.Series([murcko_scaffold(s) for s in smiles], dtype=object))
    groups = _groups(codes)
    big_limit = min(sizes[1], sizes[2]) * n / 2
    rng = np.random.default_rng(seed)
    big = [g for g in groups if len(g) > big_limit]
    small = [g for g in groups if len(g) <= big_limit]
    ordered = [big[i] for i in rng.permutation(len(big))] + [
        small[i] for i in rng.permutation(len(small))
    ]
    return _fill(ordered, n, sizes)


def _by_fraction(n: int, sizes: tuple[float, float, float], rng: np.random.Generator) -> np.ndarray:
    """Random assignment of ``n`` rows with counts rounded from ``sizes``."""
    bounds = np.round(np.cumsum(sizes)[:2] * n).astype(int)
    labels = np.empty(n, dtype=object)
    order = rng.permutation(n)
    labels[order[: bounds[0]]] = "train"
    labels[order[bounds[0] : bounds[1]]] = "val"
    labels[order[bounds[1] :]] = "test"
    return labels


def random_split(n: int, sizes: Sequence[float], seed: int = 0) -> np.ndarray:
    return _by_fraction(n, check_sizes(sizes), np.random.default_rng(seed))


def strata(values: pd.Series, max_classes: int = 10, n_bins: int = 5) -> np.ndarray:
    """Stratum codes of one target: its values when it has few classes, else quantile bins;
    missing values form their own stratum."""
    values = pd.to_numeric(values, errors="coerce")
    present = values.notna()
    if values[present].nunique() > max_classes:
        binned = pd.qcut(values[present], q=n_bins, labels=False, duplicates="drop")
        values = values.copy()
        values[present] = binned
    codes, _ = pd.factorize(values.astype("float64"), use_na_sentinel=False)
    return codes


def stratified_split(labels: pd.Series, sizes: Sequence[float], seed: int = 0) -> np.ndarray:
    """Random split within each stratum of ``labels`` (see ``strata``), fractions kept per
    stratum."""
    sizes = check_sizes(sizes)
    codes = strata(labels)
    rng = np.random.default_rng(seed)
    out = np.empty(len(codes), dtype=object)
    for rows in _groups(codes):
        out[rows] = _by_fraction(len(rows), sizes, rng)
    return out


def column_split(values: pd.Series) -> np.ndarray:
    """Map a user column (train/training, val/valid/validation, test; any case) to split names."""
    normalized = values.astype("string").str.strip().str.lower()
    mapped = normalized.map(_COLUMN_VALUES)
    bad = values[mapped.isna()]
    if len(bad):
        raise ValueError(
            f"split column value {bad.iloc[0]!r} (row {bad.index[0]}) is not one of "
            f"train/training, val/valid/validation, test"
        )
    return mapped.to_numpy(dtype=object)


def split_frame(
    df: pd.DataFrame,
    *,
    method: str,
    sizes: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    column: str | None = None,
    targets: Sequence[str] = (),
) -> pd.Series:
    """Split label ("train"/"val"/"test") for every row of a standardized table, aligned to ``df``.

    ``scaffold`` uses the ``smiles`` column, ``stratified`` the first of ``targets``, ``column``
    the values of ``column``. Deterministic for a seed; no InChIKey is in two splits.
    """
    if method not in METHODS:
        raise ValueError(f"unknown split method {method!r}; choose from {METHODS}")
    sizes = check_sizes(sizes)
    if method == "scaffold":
        labels = scaffold_split(df["smiles"].tolist(), sizes, seed)
    elif method == "random":
        labels = random_split(len(df), sizes, seed)
    elif method == "stratified":
        if not targets:
            raise ValueError("stratified split needs at least one target column")
        if targets[0] not in df.columns:
            raise ValueError(f"target column {targets[0]!r} not in table")
        labels = stratified_split(df[targets[0]].reset_index(drop=True), sizes, seed)
    else:
        if not column:
            raise ValueError("column split needs column=<name>")
        if column not in df.columns:
            raise ValueError(f"split column {column!r} not in table")
        labels = column_split(df[column].reset_index(drop=True))
    split = pd.Series(labels, index=df.index, name="split", dtype=object)
    if "inchikey" in df.columns:
        _check_no_leak(df["inchikey"], split)
    return split


def _check_no_leak(inchikeys: pd.Series, split: pd.Series) -> None:
    """Raise if one InChIKey is in more than one split."""
    keyed = pd.DataFrame({"k": inchikeys.to_numpy(), "s": split.to_numpy()}).dropna()
    n_splits = keyed.groupby("k")["s"].nunique()
    leaked = n_splits[n_splits > 1]
    if len(leaked):
        raise ValueError(
            f"{len(leaked)} InChIKeys are in more than one split, e.g. {leaked.index[0]}"
        )
