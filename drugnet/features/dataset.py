"""Load a dataset directory (standardized.csv, split.csv, features/) and build model inputs for row
indices."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, overload

import numpy as np
import pandas as pd
import torch

from drugnet.features.batch import GraphBatch
from drugnet.features.store import FeatureStore

SPLITS = ("train", "val", "test")


class FeatureSource(Protocol):
    """What training needs from ``drugnet.features.store.FeatureStore``."""

    @property
    def n(self) -> int: ...

    def graph_batch(self, indices: Any, mol_features: torch.Tensor | None = None) -> GraphBatch: ...
    def ecfp(self, indices: Any) -> torch.Tensor: ...
    def descriptors(self, indices: Any) -> torch.Tensor: ...


@dataclass
class Dataset:
    """Row-aligned labels and features. ``y`` float32 ``[n, T]`` with NaN = missing; ``split`` str
    ``[n]``."""

    ids: list[str]
    smiles: list[str]
    targets: list[str]
    y: np.ndarray
    store: FeatureSource
    split: np.ndarray | None = None
    feature_settings: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.ids)

    def indices(self, split: str) -> np.ndarray:
        """Row indices of ``split`` (all rows when the dataset has no split column)."""
        if self.split is None:
            return np.arange(self.n)
        return np.flatnonzero(self.split == split)


def read_feature_settings(features_dir: str | Path) -> dict:
    """Featurization settings (``settings`` of ``meta.json``: radius, n_bits, descriptors) of a
    cache, ``{}`` if absent."""
    meta = Path(features_dir) / "meta.json"
    return dict(json.loads(meta.read_text()).get("settings", {})) if meta.exists() else {}


def open_store(features_dir: str | Path) -> FeatureSource:
    """Open a feature cache with ``drugnet.features.store.FeatureStore``."""
    return FeatureStore(features_dir)


def read_labels(
    standardized_csv: str | Path, targets: list[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """``standardized.csv`` as a frame (id/smiles as str) and its target matrix ``[n, T]`` float32
    (blank -> NaN)."""
    frame = pd.read_csv(
        standardized_csv,
        dtype={"id": str, "smiles": str, "inchikey": str},
        keep_default_na=False,
        na_values=[""],
    )
    missing = [t for t in targets if t not in frame.columns]
    if missing:
        raise ValueError(f"{standardized_csv}: target columns not found: {missing}")
    y = (
        frame[targets].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float32)
        if targets
        else np.zeros((len(frame), 0), np.float32)
    )
    return frame, y


def load_dataset(
    dataset_dir: str | Path,
    targets: list[str],
    store: FeatureSource | None = None,
    with_split: bool = True,
) -> Dataset:
    """Load ``<dataset_dir>/standardized.csv`` (+ ``split.csv`` when ``with_split``) and
    ``features/``."""
    dataset_dir = Path(dataset_dir)
    frame, y = read_labels(dataset_dir / "standardized.csv", targets)
    split = None
    if with_split:
        split_frame = pd.read_csv(
            dataset_dir / "split.csv", dtype={"id": str, "split": str}, keep_default_na=False
        )
        if (
            len(split_frame) != len(frame)
            or (split_frame["id"].to_numpy() != frame["id"].to_numpy()).any()
        ):
            raise ValueError(f"{dataset_dir}: split.csv is not row-aligned with standardized.csv")
        split = split_frame["split"].to_numpy(dtype=str)
    store = store if store is not None else open_store(dataset_dir / "features")
    if store.n != len(frame):
        raise ValueError(
            f"{dataset_dir}: feature cache has {store.n} rows, standardized.csv {len(frame)}"
        )
    return Dataset(
        ids=frame["id"].astype(str).tolist(),
        smiles=frame["smiles"].astype(str).tolist(),
        targets=list(targets),
        y=y,
        store=store,
        split=split,
        feature_settings=read_feature_settings(dataset_dir / "features"),
    )


def load_external_test(dataset_dir: str | Path, targets: list[str]) -> Dataset | None:
    """The optional external test set ``<dataset_dir>/external_test/`` (all rows are test rows), or
    None."""
    ext = Path(dataset_dir) / "external_test"
    if not (ext / "standardized.csv").exists():
        return None
    frame, _ = read_labels(ext / "standardized.csv", [])
    present = [t for t in targets if t in frame.columns]
    _, y_present = read_labels(ext / "standardized.csv", present)
    y = np.full((len(frame), len(targets)), np.nan, dtype=np.float32)
    for j, t in enumerate(present):
        y[:, targets.index(t)] = y_present[:, j]
    store = open_store(ext / "features")
    return Dataset(
        frame["id"].astype(str).tolist(),
        frame["smiles"].astype(str).tolist(),
        list(targets),
        y,
        store,
    )


def input_dims(store: FeatureSource, kind: str, use_descriptors: bool) -> dict[str, int]:
    """Input dimensions for ``build_model`` read off one row of the store."""
    one = np.array([0])
    if kind == "gnn":
        g = store.graph_batch(one)
        dims = {"atom_dim": int(g.x.shape[1]), "bond_dim": int(g.edge_attr.shape[1])}
        dims["mol_dim"] = int(store.descriptors(one).shape[1]) if use_descriptors else 0
        return dims
    n_bits = int(store.ecfp(one).shape[1])
    n_desc = int(store.descriptors(one).shape[1]) if use_descriptors else 0
    return {"in_dim": n_bits + n_desc, "n_log": n_bits}


@overload
def model_inputs(
    store: FeatureSource, indices: np.ndarray, kind: Literal["gnn"], use_descriptors: bool
) -> GraphBatch: ...
@overload
def model_inputs(
    store: FeatureSource,
    indices: np.ndarray,
    kind: Literal["snn", "rf_ecfp"],
    use_descriptors: bool,
) -> torch.Tensor: ...
@overload
def model_inputs(
    store: FeatureSource, indices: np.ndarray, kind: str, use_descriptors: bool
) -> GraphBatch | torch.Tensor: ...
def model_inputs(
    store: FeatureSource, indices: np.ndarray, kind: str, use_descriptors: bool
) -> GraphBatch | torch.Tensor:
    """Model input for rows ``indices``: a ``GraphBatch`` (gnn) or raw float features ``[n, F]``
    (snn, rf_ecfp).

    snn: ECFP counts followed by descriptors (NaN kept; the model's scaler imputes);
    rf_ecfp: ECFP counts only.
    """
    idx = torch.as_tensor(np.asarray(indices), dtype=torch.long)
    if kind == "gnn":
        mol = store.descriptors(idx).float() if use_descriptors else None
        return store.graph_batch(idx, mol_features=mol)
    counts = store.ecfp(idx).float()
    if kind == "snn" and use_descriptors:
        return torch.cat([counts, store.descriptors(idx).float()], dim=1)
    return counts
