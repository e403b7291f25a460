"""Featurize standardized SMILES into graphs, ECFP counts and descriptors (the feature cache)."""

from __future__ import annotations

import logging
import multiprocessing
import os
from drugnet.progress import progress
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rdkit
import torch
from rdkit import Chem

from drugnet.features.descriptors import compute_descriptors, descriptor_names
from drugnet.features.fingerprints import ecfp_counts
from drugnet.features.graph import ATOM_FEATURE_NAMES, BOND_FEATURE_NAMES, mol_to_graph
from drugnet.features.store import FORMAT_VERSION, Features, save_features

log = logging.getLogger(__name__)


def _featurize_chunk(args: tuple[int, list[str], int, int, tuple[str, ...]]) -> dict[str, np.ndarray]:
    """Features of one chunk of SMILES (runs in a worker); an unparsable SMILES raises ValueError."""
    start, smiles, radius, n_bits, names = args
    xs, edges, edge_attrs, n_atoms, n_edges = [], [], [], [], []
    ecfp = np.empty((len(smiles), n_bits), dtype=np.uint8)
    desc = np.empty((len(smiles), len(names)), dtype=np.float32)
    for i, smi in enumerate(smiles):
        mol = Chem.MolFromSmiles(smi) if isinstance(smi, str) and smi else None
        if mol is None:
            raise ValueError(f"row {start + i}: SMILES {smi!r} does not parse (input must be standardized)")
        x, edge_index, edge_attr = mol_to_graph(mol)
        xs.append(x)
        edges.append(edge_index)
        edge_attrs.append(edge_attr)
        n_atoms.append(x.shape[0])
        n_edges.append(edge_index.shape[1])
        ecfp[i] = ecfp_counts(mol, radius, n_bits)
        desc[i] = compute_descriptors(mol, names)
    return {  # chunks are never empty
        "x": np.concatenate(xs),
        "edge_index": np.concatenate(edges, axis=1),
        "edge_attr": np.concatenate(edge_attrs),
        "n_atoms": np.asarray(n_atoms, dtype=np.int64),
        "n_edges": np.asarray(n_edges, dtype=np.int64),
        "ecfp": ecfp,
        "descriptors": desc,
    }


def _chunks(smiles: Sequence[str], chunk_size: int, *settings: Any) -> Iterator[tuple]:
    for start in range(0, len(smiles), chunk_size):
        yield (start, list(smiles[start : start + chunk_size]), *settings)


def _concat(parts: list[np.ndarray], empty_shape: tuple[int, int], dtype: type, axis: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.concatenate(parts, axis=axis) if parts else np.zeros(empty_shape, dtype))


def _ptr(counts: list[np.ndarray]) -> torch.Tensor:
    flat = np.concatenate(counts) if counts else np.zeros(0, np.int64)
    return torch.from_numpy(np.concatenate(([0], np.cumsum(flat))).astype(np.int64))


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
    graph_parts: dict[str, list[np.ndarray]] = {k: [] for k in ("x", "edge_index", "edge_attr", "n_atoms", "n_edges")}
    tasks = _chunks(smiles, chunk_size, radius, n_bits, names)
    done = 0
    bar = progress(n, "featurize", "molecules")
    pool = multiprocessing.Pool(n_jobs) if n_jobs > 1 and n > chunk_size else None
    try:
        results = pool.imap(_featurize_chunk, tasks) if pool else map(_featurize_chunk, tasks)
        for part in results:
            k = part["ecfp"].shape[0]
            ecfp[done : done + k] = part.pop("ecfp")
            desc[done : done + k] = part.pop("descriptors")
            for key, value in part.items():
                graph_parts[key].append(value)
            done += k
            bar.update(k)
    finally:
        bar.close()
        if pool:
            pool.terminate()
    graphs = {
        "x": _concat(graph_parts["x"], (0, len(ATOM_FEATURE_NAMES)), np.uint8),
        "edge_index": _concat(graph_parts["edge_index"], (2, 0), np.int64, axis=1),
        "edge_attr": _concat(graph_parts["edge_attr"], (0, len(BOND_FEATURE_NAMES)), np.uint8),
        "atom_ptr": _ptr(graph_parts["n_atoms"]),
        "edge_ptr": _ptr(graph_parts["n_edges"]),
        "atom_feature_names": list(ATOM_FEATURE_NAMES),
        "bond_feature_names": list(BOND_FEATURE_NAMES),
    }
    settings = {"radius": radius, "n_bits": n_bits,
                "descriptors": descriptors if isinstance(descriptors, str) else list(names)}
    meta = {
        "format_version": FORMAT_VERSION,
        "n": n,
        "settings": settings,
        "atom_feature_names": list(ATOM_FEATURE_NAMES),
        "bond_feature_names": list(BOND_FEATURE_NAMES),
        "descriptor_names": list(names),
        "n_atoms": int(graphs["atom_ptr"][-1]),
        "n_edges": int(graphs["edge_ptr"][-1]),
        "rdkit_version": rdkit.__version__,
    }
    return Features(
        graphs=graphs,
        ecfp={"counts": torch.from_numpy(ecfp), "radius": radius, "n_bits": n_bits},
        descriptors={"values": torch.from_numpy(desc), "names": list(names)},
        meta=meta,
    )


def read_standardized_smiles(standardized_csv: str | os.PathLike) -> list[str]:
    """The ``smiles`` column of a ``standardized.csv`` as a list of str."""
    frame = pd.read_csv(standardized_csv, usecols=["smiles"], dtype={"smiles": str}, keep_default_na=False)
    return frame["smiles"].tolist()


def featurize_file(standardized_csv: str | os.PathLike, out_dir: str | os.PathLike, **settings: Any) -> Features:
    """Featurize ``standardized.csv`` into the feature cache ``out_dir`` (see ``featurize_smiles``)."""
    features = featurize_smiles(read_standardized_smiles(standardized_csv), **settings)
    features.meta["source"] = str(Path(standardized_csv))
    save_features(features, out_dir)
    return features
