"""Linear concept probes per layer: molecule-grouped splits, bootstrap CIs and the control task.

Everything here works on plain arrays: ``layers[l]`` is ``float [n_items, d_l]`` (atoms or
molecules), a `ConceptMatrix` gives labels and ``item_mol`` (the molecule of every item).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold
from scipy.optimize import minimize
from sklearn.model_selection import GroupShuffleSplit
from sklearn.preprocessing import StandardScaler
from torch.nn.functional import softplus

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


def molecule_bootstrap(
    test_mol: np.ndarray, *, n_boot: int = 1000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``(counts [n_mols, n_boot], item_row [n_items])``: how often each molecule of the test items
    is drawn in each resample (with replacement), and the counts row of every item, so that a
    molecule's items are drawn together. Counts are small integers, exact in float32."""
    mols, inverse = np.unique(test_mol, return_inverse=True)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(mols), np.full(len(mols), 1.0 / len(mols)), size=n_boot)
    return np.ascontiguousarray(counts.T, dtype=np.float32), inverse


def _group_rows(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Sum the rows of ``values`` within each group (``groups``: the ``return_inverse`` of
    `np.unique`, so every group in ``0..max`` is present)."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_groups[1:] != sorted_groups[:-1]]))
    return np.add.reduceat(values[order], starts, axis=0)


def _pair_counts(
    s_pos: np.ndarray, s_neg: np.ndarray, pos_group: np.ndarray, neg_group: np.ndarray
) -> np.ndarray:
    """``[n_pos_groups, n_neg_groups]``: positive-negative item pairs where the positive scores
    higher (ties 1/2), summed per pair of groups. Half-integers: exact in float32 below 2**22."""
    dtype = np.float32 if len(s_pos) * len(s_neg) < 2**22 else np.float64
    pairs = (s_pos[:, None] > s_neg[None, :]).astype(dtype)
    tied = s_pos[:, None] == s_neg[None, :]
    if tied.any():
        pairs = pairs + 0.5 * tied.astype(dtype)
    by_pos = _group_rows(pairs, pos_group)
    return np.ascontiguousarray(_group_rows(np.ascontiguousarray(by_pos.T), neg_group).T)


def _gemm_dtype(pair_counts: np.ndarray, weights: np.ndarray, n_items: int) -> type:
    """float32 when every product and partial sum of `weighted_auc`'s matrix products is an exact
    half-integer in it (integer weights, bound below 2**22): twice the speed, identical results."""
    if not len(weights) or not np.all(weights == np.round(weights)):
        return np.float64
    bound = float(pair_counts.sum(axis=1).max(initial=0.0)) * float(weights.max()) ** 2
    bound = max(bound, float(n_items) * float(weights.max()))  # the weight totals
    return np.float32 if bound < 2**22 else np.float64


def weighted_auc(
    scores: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    item_row: np.ndarray | None = None,
) -> np.ndarray:
    """ROC-AUC (Mann-Whitney, ties count 1/2) for each column ``b`` of the item weights
    ``weights[item_row, b]`` (``item_row`` default: one row per item); NaN when a column has no
    positive or no negative weight.

    Items sharing a weights row (a molecule's items under `molecule_bootstrap`) are drawn
    together, so the positive-negative pair counts are summed per pair of rows first and every
    resample costs one matrix product over rows rather than a sort over items.
    """
    labels = np.asarray(labels, dtype=bool)
    rows = np.arange(len(scores)) if item_row is None else np.asarray(item_row)
    if labels.all() or not labels.any():
        return np.full(weights.shape[1], np.nan)
    pos_rows, pos_group = np.unique(rows[labels], return_inverse=True)
    neg_rows, neg_group = np.unique(rows[~labels], return_inverse=True)
    pairs = _pair_counts(scores[labels], scores[~labels], pos_group, neg_group)
    dtype = _gemm_dtype(pairs, weights, len(scores))
    w_pos = weights[pos_rows].astype(dtype, copy=False)
    w_neg = weights[neg_rows].astype(dtype, copy=False)
    numerator = ((pairs.astype(dtype, copy=False) @ w_neg) * w_pos).sum(axis=0, dtype=np.float64)
    n_pos = (np.bincount(pos_group).astype(dtype) @ w_pos).astype(np.float64)
    n_neg = (np.bincount(neg_group).astype(dtype) @ w_neg).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return numerator / (n_pos * n_neg)


def auc_with_ci(
    scores: np.ndarray,
    labels: np.ndarray,
    bootstrap: tuple[np.ndarray, np.ndarray],
    *,
    alpha: float = 0.05,
) -> tuple[float, float, float]:
    """Point AUC and percentile bootstrap CI, molecules resampled through ``bootstrap = (counts,
    item_row)`` of `molecule_bootstrap`."""
    if labels.all() or not labels.any():
        return np.nan, np.nan, np.nan
    counts, item_row = bootstrap
    auc = float(weighted_auc(scores, labels, np.ones((len(scores), 1), dtype=np.float32))[0])
    boot = weighted_auc(scores, labels, counts, item_row)
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
    x = torch.from_numpy(np.ascontiguousarray(x_train, dtype=np.float32))
    y = torch.from_numpy(np.ascontiguousarray(y_train, dtype=np.float32))
    n, d = x.shape
    k = y.shape[1]

    def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
        flat = torch.from_numpy(params)
        weight = flat[: d * k].view(d, k)
        logits = torch.addmm(flat[d * k :].float(), x, weight.float())
        loss = softplus(logits).sum(dtype=torch.float64) - (y * logits).sum(dtype=torch.float64)
        residual = torch.sigmoid(logits).sub_(y)
        grad_w = (x.T @ residual).double().add_(weight, alpha=1.0 / C)
        value = float(loss) + 0.5 / C * float(flat[: d * k] @ flat[: d * k])
        grad = torch.cat([grad_w.ravel(), residual.sum(dim=0, dtype=torch.float64)])
        return value / n, grad.div_(n).numpy()

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
    bootstrap = molecule_bootstrap(concepts.item_mol[is_test_item], n_boot=n_boot, seed=seed)
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
                auc_with_ci(scores[:, c], y_test[:, c], bootstrap) if fittable[c] else (np.nan,) * 3
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
