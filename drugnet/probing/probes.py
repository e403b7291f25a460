"""Linear concept probes per layer: molecule-grouped splits, bootstrap CIs and the control task.

Everything here works on plain arrays: ``layers[l]`` is ``float [n_items, d_l]`` (atoms or
molecules), a `ConceptMatrix` gives labels and ``item_mol`` (the molecule of every item).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.model_selection import GroupShuffleSplit
from sklearn.preprocessing import StandardScaler

from drugnet.concepts.matrix import ConceptMatrix, subsample_atoms  # noqa: F401 (re-exported)

PROBE_COLUMNS = [
    "concept",
    "family",
    "level",
    "layer",
    "network",
    "auc",
    "ci_low",
    "ci_high",
    "n_pos",
    "n_neg",
    "member",
]


def scaffold_groups(mols: list[Chem.Mol]) -> np.ndarray:
    """Group id per molecule: its Bemis-Murcko scaffold; acyclic molecules are their own group."""
    ids: dict[str, int] = {}
    out = np.empty(len(mols), dtype=np.int64)
    for i, mol in enumerate(mols):
        scaffold = MurckoScaffold.MurckoScaffoldSmiles(mol=mol)
        key = scaffold if scaffold else f"acyclic:{i}"
        out[i] = ids.setdefault(key, len(ids))
    return out


def split_molecules(groups: np.ndarray, *, test_fraction: float = 0.3, seed: int = 0) -> np.ndarray:
    """Boolean ``is_test`` per molecule; whole groups (scaffolds) go to one side."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
    _, test = next(splitter.split(np.zeros(len(groups)), groups=groups))
    is_test = np.zeros(len(groups), dtype=bool)
    is_test[test] = True
    return is_test


def control_permutation(item_mol: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Item index whose labels each item receives in the control task.

    Molecule identities are permuted among molecules with the same number of items: item ``j``
    (in order) of molecule ``m`` receives the labels of item ``j`` of molecule ``pi(m)``. The label
    structure inside a molecule is kept whole; its link to the representation is destroyed.
    """
    rng = np.random.default_rng(seed)
    mols, first, sizes = np.unique(item_mol, return_index=True, return_counts=True)
    if not np.all(np.diff(item_mol) >= 0):
        raise ValueError("items must be grouped by molecule (sorted item_mol)")
    donor_first = first.copy()
    for size in np.unique(sizes):
        same = np.flatnonzero(sizes == size)
        donor_first[same] = first[rng.permutation(same)]
    offset = np.arange(len(item_mol)) - np.repeat(first, sizes)
    return np.repeat(donor_first, sizes) + offset


def bootstrap_weights(test_mol: np.ndarray, *, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """``[n_items, n_boot]`` weights: how often each item's molecule is drawn when resampling the
    molecules (with replacement) of the test items. Item-major, so `weighted_auc` sums down
    columns."""
    mols, inverse = np.unique(test_mol, return_inverse=True)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(mols), np.full(len(mols), 1.0 / len(mols)), size=n_boot)
    return np.ascontiguousarray(counts.T[inverse], dtype=np.float32)  # small integers: exact


def _sum_dtype(weights: np.ndarray) -> type:
    """float32 when every partial sum and product of ``weighted_auc`` is exact in it (integer
    bootstrap counts, column sums times the largest count below 2**23: half the memory traffic,
    identical results), else float64."""
    if weights.dtype != np.float32 or not len(weights):
        return np.float64
    integral = bool(np.all(weights == np.round(weights)))
    bound = float(weights.sum(axis=0).max()) * float(weights.max())
    return np.float32 if integral and bound < 2**23 else np.float64


def weighted_auc(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC-AUC (Mann-Whitney, ties count 1/2) for each column of ``weights [n, B]``; NaN when a
    column has no positive or no negative weight. One sort, then cumulative sums down the items."""
    labels = np.asarray(labels, dtype=bool)
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_scores[1:] != sorted_scores[:-1]]))
    sizes = np.diff(np.concatenate([starts, [len(order)]]))
    group_start, group_end = np.repeat(starts, sizes), np.repeat(starts + sizes, sizes)
    pos = labels[order]
    w = weights[order]
    neg_cum = np.zeros((w.shape[0] + 1, w.shape[1]), dtype=_sum_dtype(w))
    neg_w = np.where(pos[:, None], 0, w).astype(neg_cum.dtype, copy=False)
    np.cumsum(neg_w, axis=0, out=neg_cum[1:])
    below = neg_cum[group_start[pos]]
    tied = neg_cum[group_end[pos]] - below
    w_pos = w[pos]
    numerator = (w_pos * (below + 0.5 * tied)).sum(axis=0, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return numerator / (w_pos.sum(axis=0, dtype=np.float64) * neg_cum[-1])


def auc_with_ci(
    scores: np.ndarray, labels: np.ndarray, boot_weights: np.ndarray, *, alpha: float = 0.05
) -> tuple[float, float, float]:
    """Point AUC and percentile bootstrap CI (molecules resampled through
    ``boot_weights [n, B]``)."""
    if labels.all() or not labels.any():
        return np.nan, np.nan, np.nan
    auc = float(weighted_auc(scores, labels, np.ones((len(scores), 1), dtype=np.float32))[0])
    boot = weighted_auc(scores, labels, boot_weights)
    lo, hi = np.nanpercentile(boot, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return auc, float(lo), float(hi)


def fit_probes_batched(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    *,
    C: float = 0.1,
    max_iter: int = 100,
    tol: float = 1e-4,
) -> np.ndarray:
    """Test decision scores ``[n_test, n_concepts]`` of one L2 logistic regression per label column.

    Same objective as sklearn's ``LogisticRegression(C=C)`` for every column
    (``C * sum log-loss + ||w||^2 / 2``, intercept not penalized) and the same solver family
    (scipy's L-BFGS-B). The columns' objectives are independent, so their sum is minimised in one
    run whose matrix products are shared across concepts (its speed-up: docs/benchmarks.md).
    """
    x = np.ascontiguousarray(x_train, dtype=np.float32)
    y = np.asarray(y_train, dtype=np.float32)
    n, d = x.shape
    k = y.shape[1]

    def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
        weight = params[: d * k].reshape(d, k).astype(np.float32)
        bias = params[d * k :].astype(np.float32)
        logits = x @ weight + bias
        loss = np.logaddexp(0, logits).sum(dtype=np.float64) - (y * logits).sum(dtype=np.float64)
        residual = (expit(logits) - y).astype(np.float32)
        grad_w = (x.T @ residual).astype(np.float64) + params[: d * k].reshape(d, k) / C
        value = loss + 0.5 / C * float(params[: d * k] @ params[: d * k])
        grad = np.concatenate([grad_w.ravel(), residual.sum(axis=0, dtype=np.float64)])
        return value / n, grad / n

    result = minimize(
        objective,
        np.zeros(d * k + k),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": tol},
    )
    weight = result.x[: d * k].reshape(d, k)
    return np.asarray(x_test, dtype=np.float64) @ weight + result.x[d * k :]


def standardize_layer(layer: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Scale features with mean/sd of the training items (constant features become 0)."""
    scaler = StandardScaler().fit(layer[train])
    return np.nan_to_num(scaler.transform(layer).astype(np.float32))


def probe_layers(
    layers: list[np.ndarray],
    concepts: ConceptMatrix,
    is_test_item: np.ndarray,
    *,
    network: str,
    n_boot: int = 1000,
    C: float = 0.1,
    seed: int = 0,
    member: int = 0,
) -> pd.DataFrame:
    """One probe per (layer, concept): train on the training-molecule items, score the test items.

    ``layers[l]`` rows are aligned with the items of ``concepts``; ``is_test_item`` must put all
    items of a molecule on one side (checked). ``n_pos``/``n_neg`` count test items.
    """
    train = ~is_test_item
    if np.intersect1d(concepts.item_mol[train], concepts.item_mol[is_test_item]).size:
        raise ValueError("a molecule has items on both sides of the probe split")
    weights = bootstrap_weights(concepts.item_mol[is_test_item], n_boot=n_boot, seed=seed)
    y_all = concepts.values
    rows = []
    for layer_index, layer in enumerate(layers):
        x = standardize_layer(np.asarray(layer, dtype=np.float32), train)
        x_train, x_test = x[train], x[is_test_item]
        y_train, y_test = y_all[train], y_all[is_test_item]
        n_pos = y_test.sum(axis=0)
        n_neg = len(y_test) - n_pos
        fittable = y_train.any(axis=0) & ~y_train.all(axis=0) & (n_pos > 0) & (n_neg > 0)
        scores = np.full(y_test.shape, np.nan)
        if fittable.any():
            scores[:, fittable] = fit_probes_batched(x_train, y_train[:, fittable], x_test, C=C)
        for c, name in enumerate(concepts.names):
            auc, lo, hi = (
                auc_with_ci(scores[:, c], y_test[:, c], weights) if fittable[c] else (np.nan,) * 3
            )
            rows.append(
                (
                    name,
                    concepts.family[c],
                    concepts.level,
                    layer_index,
                    network,
                    auc,
                    lo,
                    hi,
                    int(n_pos[c]),
                    int(n_neg[c]),
                    member,
                )
            )
    return pd.DataFrame(rows, columns=PROBE_COLUMNS)


def control_task_concepts(concepts: ConceptMatrix, *, seed: int = 0) -> ConceptMatrix:
    """Same items, labels moved between molecules by `control_permutation` (all concepts
    together)."""
    donor = control_permutation(concepts.item_mol, seed=seed)
    return ConceptMatrix(
        names=list(concepts.names),
        family=list(concepts.family),
        level=concepts.level,
        values=concepts.values[donor],
        item_mol=concepts.item_mol,
        item_atom=concepts.item_atom,
    )
