"""Nearest-neighbour similarity model (several fingerprints) and rank fusion with a trained model.

For targets with few actives, "how close is this compound to a known active" is a strong,
assumption-free baseline; a trained model should be fused with it rather than replace it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator
from scipy.stats import rankdata

from drugnet.features.tanimoto import max_tanimoto, pack_bits
from drugnet.screening.enrichment import enrichment_metrics

#: Fingerprints of the similarity model: ECFP4, FCFP4 (pharmacophoric atom invariants), atom pairs.
FINGERPRINTS = ("ecfp4", "fcfp4", "atompair")
#: Neighbours averaged for the "mean" similarity.
TOP_K = 5
N_BITS = 2048


def _generator(name: str):
    if name == "ecfp4":
        return rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=N_BITS)
    if name == "fcfp4":
        return rdFingerprintGenerator.GetMorganGenerator(
            radius=2,
            fpSize=N_BITS,
            atomInvariantsGenerator=rdFingerprintGenerator.GetMorganFeatureAtomInvGen(),
        )
    if name == "atompair":
        return rdFingerprintGenerator.GetAtomPairGenerator(fpSize=N_BITS)
    raise ValueError(f"fingerprint must be one of {FINGERPRINTS}, got {name!r}")


def fingerprints(smiles: Sequence[str], name: str) -> np.ndarray:
    """Packed bit fingerprints ``[n, N_BITS / 64]``; unparsable SMILES -> all zero."""
    gen = _generator(name)
    rows = []
    for smi in smiles:
        mol = Chem.MolFromSmiles(smi) if isinstance(smi, str) and smi else None
        rows.append(
            gen.GetFingerprintAsNumPy(mol).astype(bool)
            if mol is not None
            else np.zeros(N_BITS, bool)
        )
    return pack_bits(np.stack(rows)) if rows else np.zeros((0, N_BITS // 64), np.uint64)


def _top_k_mean(query: np.ndarray, ref: np.ndarray, k: int) -> np.ndarray:
    """Mean Tanimoto to the ``k`` most similar reference fingerprints (exact; k rounds of max)."""
    if not len(ref):
        return np.zeros(len(query))
    bits_q = np.unpackbits(query.view(np.uint8), axis=1).astype(np.float32)
    bits_r = np.unpackbits(ref.view(np.uint8), axis=1).astype(np.float32)
    inter = bits_q @ bits_r.T
    union = bits_q.sum(1, keepdims=True) + bits_r.sum(1)[None, :] - inter
    sim = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    k = min(k, sim.shape[1])
    return np.sort(sim, axis=1)[:, -k:].mean(1)


def similarity_features(
    query_smiles: Sequence[str], active_smiles: Sequence[str]
) -> dict[str, np.ndarray]:
    """``<fp>.max`` and ``<fp>.mean<k>`` Tanimoto of each query to the training actives."""
    out = {}
    for name in FINGERPRINTS:
        q, a = fingerprints(query_smiles, name), fingerprints(active_smiles, name)
        out[f"{name}.max"] = max_tanimoto(q, a)[0]
        out[f"{name}.mean{TOP_K}"] = _top_k_mean(q, a, TOP_K)
    return out


def similarity_model_scores(
    query_smiles: Sequence[str], train_smiles: Sequence[str], train_labels: np.ndarray
) -> np.ndarray:
    """Nearest-neighbour score: the mean over fingerprints of the max and top-k mean Tanimoto to the
    training actives (labels == 1); 0 without actives."""
    labels = np.asarray(train_labels, dtype=float)
    actives = [s for s, y in zip(train_smiles, labels, strict=False) if y == 1]
    if not actives:
        return np.zeros(len(query_smiles))
    features = similarity_features(query_smiles, actives)
    return np.mean(np.column_stack(list(features.values())), axis=1)


def rank_fusion(scores: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> np.ndarray:
    """Weighted mean of the rank percentiles (ties share the average rank) of several scorings;
    a fusion of identical rankings is that ranking."""
    arrays = [np.asarray(s, dtype=float) for s in scores]
    w_all = np.ones(len(arrays)) if weights is None else np.asarray(weights, dtype=float)
    if len(w_all) != len(arrays) or (w_all < 0).any() or w_all.sum() <= 0:
        raise ValueError(
            "rank_fusion needs one non-negative weight per scoring, with a positive sum"
        )
    n = len(arrays[0])
    ranks = [rankdata(s, method="average") / max(n, 1) for s in arrays]
    return np.sum([w * r for w, r in zip(w_all, ranks, strict=True)], axis=0) / w_all.sum()


def fit_fusion_weight(
    model: np.ndarray,
    similarity: np.ndarray,
    labels: np.ndarray,
    grid: Sequence[float] = tuple(np.linspace(0, 1, 11)),
) -> float:
    """Weight of the model in :func:`rank_fusion` (similarity gets ``1 - w``) maximising BEDROC(20)
    on validation rows, ties broken by ROC-AUC, then toward 0.5."""
    best: tuple[tuple[float, float, float], float] | None = None
    for w in grid:
        m = enrichment_metrics(rank_fusion([model, similarity], [w, 1 - w]), labels)
        key = (m["bedroc_20"] or 0.0, m["roc_auc"] or 0.0, -abs(w - 0.5))
        if best is None or key > best[0]:
            best = (key, float(w))
    if best is None:
        raise ValueError("fit_fusion_weight needs a non-empty grid")
    return best[1]
