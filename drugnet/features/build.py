"""Featurize standardized SMILES into graphs, ECFP counts and descriptors (the feature cache)."""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import tempfile
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rdkit
import torch
from rdkit import Chem

from drugnet.features.descriptors import descriptor_matrix, descriptor_names
from drugnet.features.fingerprints import ecfp_counts
from drugnet.features.graph import (
    ATOM_FEATURE_NAMES,
    BOND_FEATURE_NAMES,
    mols_to_graphs,
)
from drugnet.features.store import (
    FILES,
    FORMAT_VERSION,
    META_FILE,
    Features,
    FeatureStore,
)
from drugnet.features.stream import StreamedTensor, save_streamed
from drugnet.io.atomic import atomic_path, write_json_atomic
from drugnet.io.progress import progress

log = logging.getLogger(__name__)


def _parse(start: int, smiles: list[str]) -> list[Chem.Mol]:
    """Molecules of a chunk of standardized SMILES; one that does not parse raises ValueError."""
    mols = []
    for i, smi in enumerate(smiles):
        mol = Chem.MolFromSmiles(smi) if isinstance(smi, str) and smi else None
        if mol is None:
            raise ValueError(
                f"row {start + i}: SMILES {smi!r} does not parse (input must be standardized)"
            )
        mols.append(mol)
    return mols


def _featurize_chunk(
    args: tuple[int, list[str], int, int, tuple[str, ...]],
) -> dict[str, np.ndarray]:
    """Features of one chunk of SMILES (runs in a worker); each SMILES is parsed once."""
    start, smiles, radius, n_bits, names = args
    mols = _parse(start, smiles)
    x, edge_index, edge_attr, n_atoms, n_edges = mols_to_graphs(mols)
    ecfp = np.empty((len(mols), n_bits), dtype=np.uint8)
    for i, mol in enumerate(mols):
        ecfp[i] = ecfp_counts(mol, radius, n_bits)
    return {
        "x": x,
        "edge_index": edge_index,
        "edge_attr": edge_attr,
        "n_atoms": n_atoms,
        "n_edges": n_edges,
        "ecfp": ecfp,
        "descriptors": descriptor_matrix(mols, names),
    }


def _chunks(smiles: Sequence[str], chunk_size: int, *settings: Any) -> Iterator[tuple]:
    for start in range(0, len(smiles), chunk_size):
        yield (start, list(smiles[start : start + chunk_size]), *settings)


def _featurized(tasks: Iterator[tuple], n_jobs: int) -> Iterator[dict[str, np.ndarray]]:
    """``_featurize_chunk`` of each task, in order; at most ``2 * n_jobs`` chunks in flight.

    ``Pool.imap`` would queue every task up front (memory growing with the library)."""
    first = next(tasks, None)
    if first is None:
        return
    if n_jobs == 1:
        yield _featurize_chunk(first)
        yield from map(_featurize_chunk, tasks)
        return
    with multiprocessing.Pool(n_jobs) as pool:
        pending: deque = deque()
        for task in itertools.chain([first], tasks):
            pending.append(pool.apply_async(_featurize_chunk, (task,)))
            if len(pending) >= 2 * n_jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def _concat(
    parts: list[np.ndarray], empty_shape: tuple[int, int], dtype: type, axis: int = 0
) -> torch.Tensor:
    return torch.from_numpy(
        np.concatenate(parts, axis=axis) if parts else np.zeros(empty_shape, dtype)
    )


def _ptr(counts: list[np.ndarray]) -> torch.Tensor:
    flat = np.concatenate(counts) if counts else np.zeros(0, np.int64)
    return torch.from_numpy(np.concatenate(([0], np.cumsum(flat))).astype(np.int64))


def _settings(
    radius: int, n_bits: int, descriptors: str | Sequence[str], names: Sequence[str]
) -> dict:
    return {
        "radius": radius,
        "n_bits": n_bits,
        "descriptors": descriptors if isinstance(descriptors, str) else list(names),
    }


def _meta(
    n: int, settings: dict, names: Sequence[str], n_atoms: int, n_edges: int
) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "n": n,
        "settings": settings,
        "atom_feature_names": list(ATOM_FEATURE_NAMES),
        "bond_feature_names": list(BOND_FEATURE_NAMES),
        "descriptor_names": list(names),
        "n_atoms": n_atoms,
        "n_edges": n_edges,
        "rdkit_version": rdkit.__version__,
    }


def featurize_smiles(
    smiles: Sequence[str],
    *,
    radius: int = 2,
    n_bits: int = 2048,
    descriptors: str | Sequence[str] = "default",
    n_jobs: int = 1,
    chunk_size: int = 1000,
) -> Features:
    """Graphs, ECFP counts and descriptors of ``smiles`` (order kept; parallel over chunks)."""
    if chunk_size < 1 or n_jobs < 1:
        raise ValueError("chunk_size and n_jobs must be >= 1")
    names = tuple(descriptor_names(descriptors))
    n = len(smiles)
    ecfp = np.empty((n, n_bits), dtype=np.uint8)
    desc = np.empty((n, len(names)), dtype=np.float32)
    graph_parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("x", "edge_index", "edge_attr", "n_atoms", "n_edges")
    }
    tasks = _chunks(smiles, chunk_size, radius, n_bits, names)
    done = 0
    with progress(n, "featurize", "molecules") as bar:
        for part in _featurized(tasks, n_jobs if n > chunk_size else 1):
            k = part["ecfp"].shape[0]
            ecfp[done : done + k] = part.pop("ecfp")
            desc[done : done + k] = part.pop("descriptors")
            for key, value in part.items():
                graph_parts[key].append(value)
            done += k
            bar.update(k)
    graphs: dict[str, Any] = {
        "x": _concat(graph_parts["x"], (0, len(ATOM_FEATURE_NAMES)), np.uint8),
        "edge_index": _concat(graph_parts["edge_index"], (2, 0), np.int64, axis=1),
        "edge_attr": _concat(graph_parts["edge_attr"], (0, len(BOND_FEATURE_NAMES)), np.uint8),
        "atom_ptr": _ptr(graph_parts["n_atoms"]),
        "edge_ptr": _ptr(graph_parts["n_edges"]),
        "atom_feature_names": list(ATOM_FEATURE_NAMES),
        "bond_feature_names": list(BOND_FEATURE_NAMES),
    }
    meta = _meta(
        n,
        _settings(radius, n_bits, descriptors, names),
        names,
        int(graphs["atom_ptr"][-1]),
        int(graphs["edge_ptr"][-1]),
    )
    return Features(
        graphs=graphs,
        ecfp={"counts": torch.from_numpy(ecfp), "radius": radius, "n_bits": n_bits},
        descriptors={"values": torch.from_numpy(desc), "names": list(names)},
        meta=meta,
    )


def read_standardized_smiles(standardized_csv: str | os.PathLike) -> list[str]:
    """The ``smiles`` column of a ``standardized.csv`` as a list of str."""
    return [smi for block in _smiles_blocks(standardized_csv, None) for smi in block]


def _smiles_blocks(
    standardized_csv: str | os.PathLike, block_rows: int | None
) -> Iterator[list[str]]:
    """The ``smiles`` column in blocks of ``block_rows`` (all at once when None)."""
    reader = pd.read_csv(
        standardized_csv,
        usecols=["smiles"],
        dtype={"smiles": str},
        keep_default_na=False,
        chunksize=block_rows,
    )
    if block_rows is None:
        yield reader["smiles"].tolist()
        return
    with reader:
        for frame in reader:
            yield frame["smiles"].tolist()


def _file_tasks(blocks: Iterator[list[str]], chunk_size: int, *settings: Any) -> Iterator[tuple]:
    """``_featurize_chunk`` tasks over blocks of SMILES (row numbers continue across blocks)."""
    start = 0
    for block in blocks:
        for task in _chunks(block, chunk_size, *settings):
            yield (start + task[0], *task[1:])
        start += len(block)


class _CacheWriter:
    """Appends featurized chunks to the streamed tensors of the three cache files."""

    def __init__(self, folder: Path, radius: int, n_bits: int, names: Sequence[str]):
        self.n = self.n_atoms = self.n_edges = 0
        self.graphs: dict[str, Any] = {
            "x": StreamedTensor(folder, "x", np.uint8, (len(ATOM_FEATURE_NAMES),)),
            "edge_index": StreamedTensor(folder, "edge_index", np.int64, parts=2),
            "edge_attr": StreamedTensor(folder, "edge_attr", np.uint8, (len(BOND_FEATURE_NAMES),)),
            "atom_ptr": StreamedTensor(folder, "atom_ptr", np.int64),
            "edge_ptr": StreamedTensor(folder, "edge_ptr", np.int64),
            "atom_feature_names": list(ATOM_FEATURE_NAMES),
            "bond_feature_names": list(BOND_FEATURE_NAMES),
        }
        self.graphs["atom_ptr"].append(np.zeros(1, np.int64))
        self.graphs["edge_ptr"].append(np.zeros(1, np.int64))
        self.ecfp: dict[str, Any] = {
            "counts": StreamedTensor(folder, "ecfp", np.uint8, (n_bits,)),
            "radius": radius,
            "n_bits": n_bits,
        }
        self.descriptors: dict[str, Any] = {
            "values": StreamedTensor(folder, "descriptors", np.float32, (len(names),)),
            "names": list(names),
        }

    def add(self, part: dict[str, np.ndarray]) -> int:
        """Append one chunk; returns its number of molecules."""
        g = self.graphs
        for key in ("x", "edge_index", "edge_attr"):
            g[key].append(part[key])
        g["atom_ptr"].append(self.n_atoms + np.cumsum(part["n_atoms"]))
        g["edge_ptr"].append(self.n_edges + np.cumsum(part["n_edges"]))
        self.n_atoms += int(part["n_atoms"].sum())
        self.n_edges += int(part["n_edges"].sum())
        self.ecfp["counts"].append(part["ecfp"])
        self.descriptors["values"].append(part["descriptors"])
        self.n += part["ecfp"].shape[0]
        return part["ecfp"].shape[0]

    def save(self, out_dir: Path) -> None:
        """Write the three ``.pt`` files atomically (``meta.json`` is the caller's, last)."""
        for key, name in FILES.items():
            with atomic_path(out_dir / name) as tmp:
                save_streamed(getattr(self, key), tmp)


def featurize_file(
    standardized_csv: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    radius: int = 2,
    n_bits: int = 2048,
    descriptors: str | Sequence[str] = "default",
    n_jobs: int = 1,
    chunk_size: int = 1000,
    block_rows: int = 50_000,
) -> dict[str, Any]:
    """Featurize ``standardized.csv`` into the feature cache ``out_dir``; returns its meta.

    Same files and content as ``save_features(featurize_smiles(...))``, but streamed: SMILES are
    read ``block_rows`` at a time and features go to temporary files chunk by chunk
    (``drugnet.features.stream``), so memory does not grow with the library.
    """
    if chunk_size < 1 or n_jobs < 1 or block_rows < 1:
        raise ValueError("chunk_size, n_jobs and block_rows must be >= 1")
    names = tuple(descriptor_names(descriptors))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tasks = _file_tasks(
        _smiles_blocks(standardized_csv, block_rows), chunk_size, radius, n_bits, names
    )
    with (
        tempfile.TemporaryDirectory(prefix="drugnet-featurize-") as folder,
        progress(None, "featurize", "molecules") as bar,
    ):
        writer = _CacheWriter(Path(folder), radius, n_bits, names)
        for part in _featurized(tasks, n_jobs):
            bar.update(writer.add(part))
        writer.save(out)
    meta = _meta(
        writer.n,
        _settings(radius, n_bits, descriptors, names),
        names,
        writer.n_atoms,
        writer.n_edges,
    )
    meta["source"] = str(Path(standardized_csv))
    write_json_atomic(meta, out / META_FILE)
    return meta


def store_from_smiles(
    smiles: Sequence[str], settings: Mapping[str, Any] | None = None, n_jobs: int = 1
) -> FeatureStore:
    """Featurize ``smiles`` into an in-memory ``FeatureStore`` (``settings``: radius, n_bits,
    descriptors)."""
    allowed = {"radius", "n_bits", "descriptors", "chunk_size"}
    kwargs = {k: v for k, v in (settings or {}).items() if k in allowed}
    return FeatureStore(features=featurize_smiles(smiles, n_jobs=n_jobs, **kwargs))
