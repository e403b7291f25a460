"""Medicinal-chemistry annotations for ranked compounds: properties, structural alerts, Butina
clusters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem import Crippen, Descriptors, Lipinski, rdMolDescriptors
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

from drugnet.chem.qed import qed
from drugnet.chem.substructure_screen import CatalogScreen
from drugnet.features.tanimoto import ecfp4_bits

PROPERTY_COLUMNS = [
    "qed",
    "mw",
    "clogp",
    "hbd",
    "hba",
    "tpsa",
    "rotatable_bonds",
    "lipinski_violations",
]
ANNOTATION_COLUMNS = PROPERTY_COLUMNS + ["alerts", "cluster"]

#: Butina distance threshold (1 - Tanimoto on ECFP4): members are within 0.6 of their centroid.
DEFAULT_CLUSTER_DISTANCE = 0.6


def mol_properties(mol: Chem.Mol | None) -> dict[str, float]:
    """QED and Lipinski-style properties of one molecule (NaN for ``None``)."""
    if mol is None:
        return {name: np.nan for name in PROPERTY_COLUMNS[:-1]}
    # the ignores: rdkit's stubs omit the descriptor functions its modules register at import
    return {
        "qed": qed(mol),
        "mw": Descriptors.MolWt(mol),  # type: ignore[attr-defined]
        "clogp": Crippen.MolLogP(mol),  # type: ignore[attr-defined]
        "hbd": Lipinski.NumHDonors(mol),  # type: ignore[attr-defined]
        "hba": Lipinski.NumHAcceptors(mol),  # type: ignore[attr-defined]
        "tpsa": rdMolDescriptors.CalcTPSA(mol),
        "rotatable_bonds": Lipinski.NumRotatableBonds(mol),  # type: ignore[attr-defined]
    }


def properties_frame(mols: Sequence[Chem.Mol | None]) -> pd.DataFrame:
    """:data:`PROPERTY_COLUMNS` for each molecule; ``lipinski_violations`` counts MW > 500,
    cLogP > 5, HBD > 5, HBA > 10 (NaN for unparsable molecules)."""
    frame = pd.DataFrame(
        [mol_properties(m) for m in mols], columns=PROPERTY_COLUMNS[:-1], dtype=float
    )
    violations = (
        (frame["mw"] > 500).astype(int)
        + (frame["clogp"] > 5).astype(int)
        + (frame["hbd"] > 5).astype(int)
        + (frame["hba"] > 10).astype(int)
    )
    frame["lipinski_violations"] = violations.where(frame["mw"].notna())
    return frame


@lru_cache(maxsize=1)
def alert_catalog() -> FilterCatalog:
    """RDKit PAINS A/B/C and Brenk filter catalog (built once per process)."""
    params = FilterCatalogParams()
    for catalog in (
        FilterCatalogParams.FilterCatalogs.PAINS_A,
        FilterCatalogParams.FilterCatalogs.PAINS_B,
        FilterCatalogParams.FilterCatalogs.PAINS_C,
        FilterCatalogParams.FilterCatalogs.BRENK,
    ):
        params.AddCatalog(catalog)
    return FilterCatalog(params)


@lru_cache(maxsize=1)
def alert_screen() -> CatalogScreen:
    """:func:`alert_catalog` behind a pattern-fingerprint screen (same matches, about a third of the
    cost: docs/benchmarks.md, "Structural alerts")."""
    return CatalogScreen(alert_catalog())


def structural_alerts(mol: Chem.Mol | None, bits: np.ndarray | None = None) -> list[str]:
    """Sorted, unique ``<FilterSet>:<description>`` names of the matching PAINS/Brenk alerts
    (``bits``: the molecule's pattern fingerprint, if known)."""
    if mol is None:
        return []
    matches = alert_screen().matches(mol, bits)
    names = {f"{e.GetProp('FilterSet')}:{e.GetDescription()}" for e in matches}
    return sorted(names)


def alerts_column(mols: Sequence[Chem.Mol | None]) -> list[str]:
    """';'-joined alert names per molecule, empty string if none (molecules are flagged, never
    dropped)."""
    return [";".join(structural_alerts(m)) for m in mols]


def _properties_of_smiles(smiles: Sequence[str]) -> pd.DataFrame:
    return properties_frame([Chem.MolFromSmiles(s) for s in smiles])


def map_frames(
    fn: Callable[[list[str]], pd.DataFrame], smiles: Sequence[str], threads: int, chunk: int
) -> pd.DataFrame:
    """``fn`` over ``smiles`` in chunks of ``chunk`` rows, in ``threads`` worker processes when
    there are at least two chunks; the frames concatenated in input order."""
    smiles = list(smiles)
    if threads <= 1 or len(smiles) < 2 * chunk:
        return fn(smiles)
    parts = [smiles[i : i + chunk] for i in range(0, len(smiles), chunk)]
    with ProcessPoolExecutor(threads) as pool:
        return pd.concat(list(pool.map(fn, parts)), ignore_index=True)


def properties_from_smiles(
    smiles: Sequence[str], threads: int = 1, chunk: int = 500
) -> pd.DataFrame:
    """:func:`properties_frame` for SMILES, in ``threads`` worker processes when there is enough
    work."""
    return map_frames(_properties_of_smiles, smiles, threads, chunk)


def count_alerts(alerts: pd.Series) -> pd.Series:
    """Number of alerts in an ``alerts`` column (0 for empty / missing)."""
    text = alerts.fillna("").astype(str)
    return text.str.count(";").add(1).where(text != "", 0).astype(int)


def butina_clusters(fps: np.ndarray, distance: float = DEFAULT_CLUSTER_DISTANCE) -> np.ndarray:
    """Butina clustering of packed ECFP4 fingerprints ``fps`` in rank order -> 1-based cluster ids.

    Same algorithm as ``rdkit.ML.Cluster.Butina.ClusterData(..., isDistData=True,
    reordering=False)`` (tested against it): neighbours are pairs with Tanimoto distance
    ``<= distance``; the point with the most neighbours (ties: higher index) becomes a
    centroid and takes its unassigned neighbours. Neighbour lists are built in row blocks with
    packed-bit popcounts instead of a dense ``n x n`` float matrix. Clusters are then numbered
    by the position of their best (lowest-index, i.e. best-ranked) member: the cluster of row 0
    is 1.
    """
    n = len(fps)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    neighbours = _neighbour_lists(fps, 1.0 - distance)
    order = sorted(((len(nb), i) for i, nb in enumerate(neighbours)), reverse=True)
    assignment = np.full(n, -1, dtype=np.int64)
    n_clusters = 0
    for _, idx in order:
        if assignment[idx] >= 0:
            continue
        assignment[idx] = n_clusters
        members = [j for j in neighbours[idx] if assignment[j] < 0]
        assignment[members] = n_clusters
        n_clusters += 1
    # renumber: cluster of the best-ranked member first
    first_row = np.full(n_clusters, n, dtype=np.int64)
    np.minimum.at(first_row, assignment, np.arange(n))
    new_id = np.empty(n_clusters, dtype=np.int64)
    new_id[np.argsort(first_row, kind="stable")] = np.arange(1, n_clusters + 1)
    return new_id[assignment]


def _neighbour_lists(fps: np.ndarray, min_similarity: float, block: int = 512) -> list[np.ndarray]:
    """Indices with Tanimoto ``>= min_similarity`` for every row (itself included), block-wise."""
    fps = np.ascontiguousarray(fps, dtype=np.uint64)
    counts = np.bitwise_count(fps).sum(axis=1, dtype=np.int64)
    words = np.ascontiguousarray(fps.T)
    result: list[np.ndarray] = []
    eps = 1e-9  # tolerate float round-off at the threshold like a distance <= comparison
    for start in range(0, len(fps), block):
        q = fps[start : start + block]
        shared = np.zeros((len(q), len(fps)), dtype=np.int64)
        for k in range(q.shape[1]):
            shared += np.bitwise_count(q[:, k, None] & words[None, k])
        union = counts[start : start + len(q), None] + counts[None, :] - shared
        sim = np.divide(shared, union, out=np.zeros(shared.shape), where=union > 0)
        sim[np.arange(len(q)), np.arange(start, start + len(q))] = 1.0
        hits = sim >= min_similarity - eps
        result.extend(np.flatnonzero(row) for row in hits)
    return result


def annotate_frame(
    ranked: pd.DataFrame,
    smiles_column: str = "smiles",
    cluster_distance: float = DEFAULT_CLUSTER_DISTANCE,
    threads: int = 1,
) -> pd.DataFrame:
    """:data:`ANNOTATION_COLUMNS` for ``ranked`` (rows in rank order), same index as ``ranked``."""
    smiles = ranked[smiles_column].astype(str).tolist()
    frame = properties_from_smiles(smiles, threads)
    frame["alerts"] = alerts_column([Chem.MolFromSmiles(s) for s in smiles])
    frame["cluster"] = butina_clusters(ecfp4_bits(smiles), cluster_distance)
    frame.index = ranked.index
    return frame
