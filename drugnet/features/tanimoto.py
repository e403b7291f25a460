"""Tanimoto similarity of ECFP4 bit vectors to a reference set, with packed-bit popcounts, in
bounded blocks."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

#: Elements of the ``[block, n_train]`` work arrays per block (about 11 bytes each).
_BLOCK_ELEMENTS = 4_000_000


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

    Both inputs are packed uint64 ``[n, words]``. Intersections are accumulated word by word
    with ``np.bitwise_count`` over row blocks of queries, so memory stays at about
    ``11 * block_elements`` bytes. Two empty fingerprints have similarity 0. Ties take the
    lowest training index. Returns ``(float64 [n_query], int64 [n_query])``; with no training
    fingerprints the similarity is 0 and the index -1.
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
    q_count = np.bitwise_count(query_fps).sum(axis=1, dtype=np.int64)
    t_count = np.bitwise_count(train_fps).sum(axis=1, dtype=np.int64)
    train_words = np.ascontiguousarray(train_fps.T)  # [words, n_train]
    block = max(1, min(n_query, block_elements // n_train))
    anded = np.empty((block, n_train), dtype=np.uint64)
    counts = np.empty((block, n_train), dtype=np.uint8)
    inter = np.empty((block, n_train), dtype=np.uint16)
    for start in range(0, n_query, block):
        q = query_fps[start : start + block]
        b = len(q)
        inter[:b] = 0
        for k in range(q.shape[1]):
            np.bitwise_and(q[:, k, None], train_words[None, k], out=anded[:b])
            np.bitwise_count(anded[:b], out=counts[:b])
            inter[:b] += counts[:b]
        shared = inter[:b].astype(np.float64)
        union = q_count[start : start + b, None] + t_count[None, :] - shared
        sim = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
        idx = sim.argmax(axis=1)
        arg[start : start + b] = idx
        best[start : start + b] = sim[np.arange(b), idx]
    return best, arg
