"""Feature cache on disk (``graphs.pt``, ``ecfp.pt``, ``descriptors.pt``, ``meta.json``) and
vectorised batching of cached graphs into a ``GraphBatch``."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from drugnet.features.batch import GraphBatch
from drugnet.io.atomic import atomic_path, write_json_atomic

FORMAT_VERSION = 1
FILES = {"graphs": "graphs.pt", "ecfp": "ecfp.pt", "descriptors": "descriptors.pt"}
META_FILE = "meta.json"

Indices = Sequence[int] | torch.Tensor


@dataclass
class Features:
    """In-memory content of a feature cache (the dicts that are ``torch.save``d, plus meta)."""

    graphs: dict[str, Any]
    ecfp: dict[str, Any]
    descriptors: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.graphs["atom_ptr"].numel()) - 1


def save_features(features: Features, out_dir: str | os.PathLike) -> Path:
    """Write the three ``.pt`` files and ``meta.json`` (last) atomically into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for key, name in FILES.items():
        with atomic_path(out / name) as tmp:
            torch.save(getattr(features, key), tmp)
    write_json_atomic(features.meta, out / META_FILE)
    return out


def _as_index(indices: Indices | None, n: int) -> torch.Tensor:
    if indices is None:
        return torch.arange(n)
    idx = torch.as_tensor(indices, dtype=torch.int64).reshape(-1)
    if idx.numel() and (int(idx.min()) < -n or int(idx.max()) >= n):
        raise IndexError(f"feature index out of range for {n} molecules")
    return torch.where(idx < 0, idx + n, idx)


def _segments(
    ptr: torch.Tensor, idx: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For molecules ``idx``: owner (batch position) of every selected row, the gather index
    into the flat rows, and the exclusive cumulative row count per molecule (batch offsets)."""
    starts = ptr[idx]
    counts = ptr[idx + 1] - starts
    offsets = torch.cumsum(counts, 0) - counts
    owner = torch.repeat_interleave(torch.arange(idx.numel()), counts)
    gather = starts[owner] + torch.arange(owner.numel()) - offsets[owner]
    return owner, gather, offsets


class FeatureStore:
    """Lazily loaded feature cache; row ``i`` is row ``i`` of ``standardized.csv``."""

    def __init__(self, path: str | os.PathLike | None = None, *, features: Features | None = None):
        if (path is None) == (features is None):
            raise ValueError("give exactly one of path or features")
        self.path = None if path is None else Path(path)
        if features is not None:  # pre-fill the lazy attributes
            self.__dict__.update(
                _graphs=features.graphs,
                _ecfp=features.ecfp,
                _descriptors=features.descriptors,
                meta=features.meta,
            )
        elif not self._file(META_FILE).is_file():
            raise FileNotFoundError(f"no feature cache at {self.path} ({META_FILE} missing)")

    def _file(self, name: str) -> Path:
        # an in-memory store pre-fills what is read from files: only a path-backed one gets here
        if self.path is None:
            raise RuntimeError(f"in-memory FeatureStore has no {name}")
        return self.path / name

    def _load(self, key: str) -> dict[str, Any]:
        return torch.load(self._file(FILES[key]), weights_only=True)

    @cached_property
    def meta(self) -> dict[str, Any]:
        return json.loads(self._file(META_FILE).read_text(encoding="utf-8"))

    @cached_property
    def _graphs(self) -> dict[str, Any]:
        return self._load("graphs")

    @cached_property
    def _ecfp(self) -> dict[str, Any]:
        return self._load("ecfp")

    @cached_property
    def _descriptors(self) -> dict[str, Any]:
        return self._load("descriptors")

    @property
    def n(self) -> int:
        return int(self.meta["n"])

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.meta["settings"])

    @property
    def atom_feature_names(self) -> list[str]:
        return list(self.meta["atom_feature_names"])

    @property
    def bond_feature_names(self) -> list[str]:
        return list(self.meta["bond_feature_names"])

    @property
    def descriptor_names(self) -> list[str]:
        return list(self.meta["descriptor_names"])

    def graph_batch(self, indices: Indices, mol_features: torch.Tensor | None = None) -> GraphBatch:
        """Molecules ``indices`` (in that order) as one ``GraphBatch``, features as float32.

        ``mol_features`` (optional, ``[len(indices), F]``, row ``j`` for molecule ``indices[j]``)
        is passed through as float32.
        """
        g = self._graphs
        idx = _as_index(indices, self.n)
        batch, atom_gather, atom_offsets = _segments(g["atom_ptr"], idx)
        edge_owner, edge_gather, _ = _segments(g["edge_ptr"], idx)
        edge_index = g["edge_index"][:, edge_gather] + atom_offsets[edge_owner]
        if mol_features is not None:
            mol_features = torch.as_tensor(mol_features, dtype=torch.float32)
            if mol_features.shape[0] != idx.numel():
                raise ValueError(
                    f"mol_features has {mol_features.shape[0]} rows for {idx.numel()} molecules"
                )
        return GraphBatch(
            x=g["x"][atom_gather].to(torch.float32),
            edge_index=edge_index,
            edge_attr=g["edge_attr"][edge_gather].to(torch.float32),
            batch=batch,
            n_mols=int(idx.numel()),
            mol_features=mol_features,
        )

    def ecfp(self, indices: Indices | None = None) -> torch.Tensor:
        """Morgan count fingerprints, uint8 ``[len(indices), n_bits]`` (all rows when None)."""
        counts = self._ecfp["counts"]
        return counts if indices is None else counts[_as_index(indices, self.n)]

    def descriptors(self, indices: Indices | None = None) -> torch.Tensor:
        """RDKit descriptors, float32 ``[len(indices), d]`` (NaN where not computable)."""
        values = self._descriptors["values"]
        return values if indices is None else values[_as_index(indices, self.n)]

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        where = self.path if self.path is not None else "memory"
        return f"FeatureStore({where}, n={self.n})"
