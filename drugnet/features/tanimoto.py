"""Tanimoto similarity of ECFP4 bit vectors to a reference set: packed bits, intersections as a
sparse product, in bounded blocks."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator
from scipy import sparse

#: Elements of the ``[block, n_train]`` work arrays per block (about 19 bytes each).
_BLOCK_ELEMENTS = 2_000_000


def ecfp4_bits(smiles: Iterable[str | None], n_bits: int = 2048, radius: int = 2) -> np.ndarray:
    """Morgan bit fingerprints packed into uint64 words ``[n, n_bits / 64]``; unparsable -> all
    zero."""
    if n_bits % 64:
        raise ValueError("n_bits must be a multiple of 64")
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    rows = []
    empty = np.zeros(n_bits, dtype=np.uint8)
    for smi in smiles:
        mol = Chem.MolFromSmiles(smi) if isinstance(smi, str) and smi else None
        rows.append(generator.GetFingerprintAsNumPy(mol) if mol is not None else empty)
    if not rows:
        return np.zeros((0, n_bits // 64), dtype=np.uint64)
    return pack_bits(np.stack(rows).astype(bool))


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Boolean ``[n, n_bits]`` (e.g. ``ecfp counts > 0``) -> uint64 words ``[n, n_bits / 64]``."""
    bits = np.asarray(bits, dtype=bool)
    if bits.shape[1] % 64:
        raise ValueError("number of bits must be a multiple of 64")
    return np.ascontiguousarray(np.packbits(bits, axis=1)).view(np.uint64)


def max_tanimoto(
    query_fps: np.ndarray, train_fps: np.ndarray, block_elements: int = _BLOCK_ELEMENTS
) -> tuple[np.ndarray, np.ndarray]:
    """Highest Tanimoto similarity of each query to any training fingerprint, and its index.

    Both inputs are packed uint64 ``[n, words]``. Intersections are counted as a sparse product:
    the training fingerprints as a sparse bit matrix (an ECFP sets a few dozen of its bits) times
    a block of query bits, so a block costs its number of set training bits times its rows, and
    memory stays at about ``19 * block_elements`` bytes (a block has at most ``block_elements /
    max(n_train, bits)`` rows) plus the sparse matrix (about 12 bytes per set bit). Two empty
    fingerprints have similarity 0. Ties take the lowest training index. Returns ``(float64
    [n_query], int64 [n_query])``; with no training fingerprints the similarity is 0 and the
    index -1.
    """
    query_fps = np.ascontiguousarray(query_fps, dtype=np.uint64)
    train_fps = np.ascontiguousarray(train_fps, dtype=np.uint64)
    n_query, n_train = len(query_fps), len(train_fps)
    best = np.zeros(n_query, dtype=np.float64)
    arg = np.full(n_query, -1, dtype=np.int64)
    if n_query == 0 or n_train == 0:
        return best, arg
    if query_fps.shape[1] != train_fps.shape[1]:
        raise ValueError("query and training fingerprints have different lengths")
    n_bits = 64 * query_fps.shape[1]
    count = np.int16 if n_bits < np.iinfo(np.int16).max else np.int32  # holds any intersection
    train = _sparse_bits(train_fps, count)  # [n_train, n_bits]
    q_count = np.bitwise_count(query_fps).sum(axis=1, dtype=np.int64)
    t_count = np.bitwise_count(train_fps).sum(axis=1, dtype=np.int64)
    block = max(1, min(n_query, block_elements // max(n_train, n_bits)))
    for start in range(0, n_query, block):
        q = _unpacked(query_fps[start : start + block]).astype(count)
        shared = (train @ q.T).T.astype(np.float64)  # [b, n_train] intersections
        union = q_count[start : start + len(q), None] + t_count[None, :] - shared
        sim = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
        idx = sim.argmax(axis=1)
        arg[start : start + len(q)] = idx
        best[start : start + len(q)] = sim[np.arange(len(q)), idx]
    return best, arg


def _sparse_bits(fps: np.ndarray, dtype: type, rows: int = 8_192) -> sparse.csr_matrix:
    """Packed fingerprints as a sparse ``[n, 64 * words]`` matrix of ones (unpacked ``rows`` at a
    time, so no dense copy of all of them is made)."""
    blocks = [
        sparse.csr_matrix(_unpacked(fps[start : start + rows]), dtype=dtype)
        for start in range(0, len(fps), rows)
    ]
    return sparse.vstack(blocks, format="csr")


def _unpacked(fps: np.ndarray) -> np.ndarray:
    """Packed uint64 words ``[n, words]`` -> bits ``[n, 64 * words]`` (uint8, :func:`pack_bits`
    order)."""
    return np.unpackbits(np.ascontiguousarray(fps).view(np.uint8), axis=1)
