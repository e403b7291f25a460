"""Does selectivity peak earlier for functional groups than for interaction centers than for
pharmacophores? Peak layers per concept and a seeded permutation test of that ordering."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

FAMILY_ORDER = ("functional_group", "interaction_center", "pharmacophore")


def selectivity_table(probes: pd.DataFrame) -> pd.DataFrame:
    """``trained - random_init`` AUC per (concept, family, level, layer[, member]), plus both AUCs
    and the control-task AUC when present (a ``member`` column is kept when ``probes`` has one)."""
    keys = ["concept", "family", "level", "layer"] + (
        ["member"] if "member" in probes.columns else []
    )
    wide = probes.set_index(keys + ["network"])["auc"].unstack("network").reset_index()
    wide.columns.name = None
    wide["selectivity"] = wide["trained"] - wide["random_init"]
    return wide


def peak_layers(selectivity: pd.DataFrame, *, first_layer: int = 1) -> pd.DataFrame:
    """Per (concept, level): the layer (>= ``first_layer``; layer 0 is the shared input, where
    selectivity is 0 by construction) where selectivity is highest, and that selectivity."""
    hidden = selectivity[(selectivity["layer"] >= first_layer) & selectivity["selectivity"].notna()]
    best = hidden.loc[hidden.groupby(["concept", "level"], sort=False)["selectivity"].idxmax()]
    return (
        best[["concept", "family", "level", "layer", "selectivity"]]
        .rename(columns={"layer": "peak_layer", "selectivity": "peak_selectivity"})
        .reset_index(drop=True)
    )


def _standardized_ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks centred and scaled to unit norm (zeros when all values tie)."""
    r = rankdata(values)
    r = r - r.mean()
    norm = np.linalg.norm(r)
    return r / norm if norm > 0 else r


def permutation_spearman(
    x: np.ndarray, y: np.ndarray, *, n_permutations: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """Mean Spearman correlation of ``x [n]`` with each column of ``y [n, m]`` and its one-sided
    permutation p-value (``x`` shuffled across rows, the same shuffle for every column)."""
    y = np.asarray(y, dtype=float)
    y = y[:, None] if y.ndim == 1 else y
    rx = _standardized_ranks(np.asarray(x, dtype=float))
    ry = np.mean([_standardized_ranks(col) for col in y.T], axis=0)
    observed = float(rx @ ry)
    rng = np.random.default_rng(seed)
    null = rng.permuted(np.tile(rx, (n_permutations, 1)), axis=1) @ ry
    p = float((1 + np.sum(null >= observed - 1e-12)) / (1 + n_permutations))
    return observed, p


def ordering_test(
    family: np.ndarray | list[str],
    peak_layer: np.ndarray,
    *,
    n_permutations: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    order: tuple[str, ...] = FAMILY_ORDER,
) -> dict:
    """One-sided permutation test of "peak layer increases with family rank in ``order``".

    Statistic: Spearman correlation between family rank and peak layer (average ranks for ties).
    ``peak_layer`` ``[n_concepts]`` or ``[n_concepts, n_members]`` (one column per ensemble
    member): the statistic is then the mean of the members' Spearman correlations. Null: family
    labels exchangeable across concepts, one shuffle applied to every member (member is the
    block: a concept keeps its peak layers in all members); ``n_permutations`` seeded shuffles;
    ``p = (1 + #{perm >= observed}) / (1 + n_permutations)``. With identical members the test is
    the single-member test, number for number. Concepts without a finite peak in every member
    are left out.
    """
    family = np.asarray(family)
    peaks = np.asarray(peak_layer, dtype=float)
    peaks = peaks[:, None] if peaks.ndim == 1 else peaks
    rank_of = {f: i for i, f in enumerate(order)}
    keep = np.isin(family, order) & np.isfinite(peaks).all(axis=1)
    x = np.array([rank_of[f] for f in family[keep]], dtype=float)
    y = peaks[keep]
    result = {
        "statistic": "spearman(family rank, peak layer)"
        + (", mean over members" if peaks.shape[1] > 1 else ""),
        "order": list(order),
        "n_concepts": int(keep.sum()),
        "n_members": int(peaks.shape[1]),
        "n_permutations": n_permutations,
        "seed": seed,
        "alpha": alpha,
    }
    if len(set(x)) < 2 or all(len(set(col)) < 2 for col in y.T):
        result.update(
            rho=float("nan"),
            p_value=float("nan"),
            verdict="NOT TESTABLE: need at least two families and two distinct peak layers",
        )
        return result
    observed, p = permutation_spearman(x, y, n_permutations=n_permutations, seed=seed)
    holds = p < alpha and observed > 0
    verdict = (
        f"HOLDS at alpha={alpha}: peak layers increase from "
        f"{' < '.join(order)} (Spearman rho={observed:.3f}, permutation p={p:.4g})"
        if holds
        else f"DOES NOT HOLD at alpha={alpha}: no significant increase of peak layer from "
        f"{' < '.join(order)} (Spearman rho={observed:.3f}, permutation p={p:.4g})"
    )
    result.update(rho=observed, p_value=p, verdict=verdict)
    return result


def family_peak_distribution(peaks: pd.DataFrame) -> dict:
    """``{level: {family: {layer: n_concepts}}}`` and the median peak layer per family."""
    out: dict = {}
    for (level, fam), group in peaks.groupby(["level", "family"]):
        counts = group["peak_layer"].value_counts().sort_index()
        out.setdefault(level, {})[fam] = {
            "peak_layer_counts": {str(int(k)): int(v) for k, v in counts.items()},
            "median_peak_layer": float(group["peak_layer"].median()),
            "n_concepts": int(len(group)),
        }
    return out


def pairwise_ordering(
    family: np.ndarray | list[str],
    peak_layer: np.ndarray,
    *,
    n_permutations: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    order: tuple[str, ...] = FAMILY_ORDER,
) -> dict[str, dict]:
    """`ordering_test` for each ordered pair of families (``a<b``): the overall trend can be
    significant while one step of the hierarchy is missing or reversed."""
    family = np.asarray(family)
    out = {}
    for i, a in enumerate(order):
        for b in order[i + 1 :]:
            keep = np.isin(family, (a, b))
            out[f"{a}<{b}"] = ordering_test(
                family[keep],
                np.asarray(peak_layer)[keep],
                n_permutations=n_permutations,
                seed=seed,
                alpha=alpha,
                order=(a, b),
            )
    return out
