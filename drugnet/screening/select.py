"""Pick the diverse, filtered top of a ranked library and write it as CSV/SDF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem import rdDepictor

from drugnet.config import schema_default
from drugnet.io.ids import sdf_title
from drugnet.screening.annotate import count_alerts

DEFAULT_MAX_PER_CLUSTER: int = schema_default("campaigns.*.filters.max_per_cluster")


def select_top(
    ranked: pd.DataFrame,
    top_n: int,
    max_alerts: int | None = None,
    in_domain_only: bool = False,
    max_per_cluster: int | None = DEFAULT_MAX_PER_CLUSTER,
) -> pd.DataFrame:
    """The ``top_n`` best rows of ``ranked`` (already in rank order) after filters.

    Only annotated rows (non-missing ``cluster``) are candidates. ``max_alerts``: keep rows
    with at most that many structural alerts (None: no filter); ``in_domain_only``: keep
    ``in_domain`` rows; ``max_per_cluster``: at most that many rows per Butina cluster, the
    best-ranked ones (None: no limit).
    """
    keep = ranked["cluster"].notna().to_numpy(copy=True)
    if max_alerts is not None:
        keep &= (count_alerts(ranked["alerts"]) <= max_alerts).to_numpy()
    if in_domain_only:
        keep &= ranked["in_domain"].astype(bool).to_numpy()
    candidates = ranked[keep]
    if max_per_cluster is not None:
        within_cluster = candidates.groupby("cluster", sort=False).cumcount().to_numpy()
        candidates = candidates[within_cluster < max_per_cluster]
    return candidates.head(top_n).reset_index(drop=True)


def _tag_value(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(value)


def write_sdf(frame: pd.DataFrame, path: str | Path, smiles_column: str = "smiles") -> int:
    """Write rows as 2D molecules (from ``smiles_column``), every column as an SD tag.

    The molecule title is the ``id``. Titles, tag names and values are single lines (control
    characters and line breaks become spaces, ``drugnet.io.ids.sdf_title``): an id holding
    ``\n$$$$\n`` would otherwise inject a record. Rows whose SMILES does not parse are skipped;
    returns the number of molecules written.
    """
    written = 0
    with Chem.SDWriter(str(path)) as writer:
        for values in frame.to_dict("records"):
            mol = Chem.MolFromSmiles(str(values[smiles_column]))
            if mol is None:
                continue
            rdDepictor.Compute2DCoords(mol)
            if "id" in values:
                mol.SetProp("_Name", sdf_title(str(values["id"])))
            for column in frame.columns:
                mol.SetProp(sdf_title(str(column)), sdf_title(_tag_value(values[column])))
            writer.write(mol)
            written += 1
    return written
