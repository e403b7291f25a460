"""Replication over ensemble members: per-member and combined hierarchy tests, member agreement and
across-member confidence intervals of per-family selectivity.

Inputs are the long tables of `hierarchy` with a ``member`` column (one row per member, concept,
level and layer); members share concepts, items and the probe split, and differ in their weights
(and random-init twins).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from drugnet.probing import hierarchy

FAMILY_SELECTIVITY_COLUMNS = [
    "level",
    "family",
    "layer",
    "n_members",
    "n_concepts",
    "mean_selectivity",
    "sd",
    "ci_low",
    "ci_high",
]
SHORT = {"functional_group": "FG", "interaction_center": "IC", "pharmacophore": "PH"}


def member_peaks(selectivity: pd.DataFrame, *, first_layer: int = 1) -> pd.DataFrame:
    """`hierarchy.peak_layers` of every member (``member`` column kept)."""
    parts = [
        hierarchy.peak_layers(group, first_layer=first_layer).assign(member=member)
        for member, group in selectivity.groupby("member", sort=True)
    ]
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(
            columns=["concept", "family", "level", "peak_layer", "peak_selectivity", "member"]
        )
    )


def peak_matrix(peaks: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(family [n_concepts], peak layers [n_concepts, n_members])`` of one level (NaN where a
    member has no peak for a concept)."""
    wide = peaks.pivot_table(
        index=["concept", "family"], columns="member", values="peak_layer", aggfunc="first"
    )
    return wide.index.get_level_values("family").to_numpy(), wide.to_numpy(dtype=float)


def with_pairwise(family: np.ndarray, peak: np.ndarray, *, n_permutations: int, seed: int) -> dict:
    """`hierarchy.ordering_test` plus the pairwise family tests (appended to the verdict)."""
    test = hierarchy.ordering_test(family, peak, n_permutations=n_permutations, seed=seed)
    pairs = hierarchy.pairwise_ordering(family, peak, n_permutations=n_permutations, seed=seed)
    test["pairwise"] = {k: {"rho": v["rho"], "p_value": v["p_value"]} for k, v in pairs.items()}
    test["verdict"] += "; pairwise one-sided p: " + ", ".join(
        f"{'<'.join(SHORT.get(f, f) for f in k.split('<'))} rho={v['rho']:.2f} p={v['p_value']:.3g}"
        for k, v in pairs.items()
    )
    return test


def level_tests(peaks: pd.DataFrame, *, n_permutations: int, seed: int) -> dict[str, dict]:
    """Per level: the hierarchy test on the peak layers of all members in ``peaks`` (one member: the
    single-member test; several: the combined test with member as block)."""
    out = {}
    for level, group in peaks.groupby("level", sort=True):
        family, matrix = peak_matrix(group)
        out[level] = with_pairwise(family, matrix, n_permutations=n_permutations, seed=seed)
    return out


def member_tests(
    peaks: pd.DataFrame, *, n_permutations: int, seed: int
) -> dict[int, dict[str, dict]]:
    """`level_tests` of each member alone."""
    return {
        int(m): level_tests(group, n_permutations=n_permutations, seed=seed)
        for m, group in peaks.groupby("member", sort=True)
    }


def family_selectivity(selectivity: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Mean selectivity over the concepts of each family per level and layer, then mean and
    Student-t interval across members (NaN interval for one member)."""
    per_member = (
        selectivity.dropna(subset=["selectivity"])
        .groupby(["level", "family", "layer", "member"])["selectivity"]
        .agg(["mean", "size"])
        .reset_index()
    )
    rows = []
    for (level, family, layer), group in per_member.groupby(
        ["level", "family", "layer"], sort=True
    ):
        values = group["mean"].to_numpy()
        n = len(values)
        mean, sd = float(values.mean()), float(values.std(ddof=1)) if n > 1 else float("nan")
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n) if n > 1 else float("nan")
        rows.append(
            (
                level,
                family,
                int(layer),
                n,
                int(group["size"].max()),
                mean,
                sd,
                mean - half,
                mean + half,
            )
        )
    return pd.DataFrame(rows, columns=FAMILY_SELECTIVITY_COLUMNS)


def agreement(peaks: pd.DataFrame) -> dict[str, dict]:
    """Per level: how far members agree on where each concept peaks (fraction of concepts with the
    same peak layer in every member, mean pairwise Spearman correlation of the peak layers)."""
    out = {}
    for level, group in peaks.groupby("level", sort=True):
        _, matrix = peak_matrix(group)
        matrix = matrix[np.isfinite(matrix).all(axis=1)]
        n_members = matrix.shape[1]
        pairs = [
            stats.spearmanr(matrix[:, i], matrix[:, j]).statistic
            for i in range(n_members)
            for j in range(i + 1, n_members)
        ]
        out[level] = {
            "n_members": n_members,
            "n_concepts": int(len(matrix)),
            "same_peak_fraction": float((matrix == matrix[:, :1]).all(axis=1).mean())
            if len(matrix)
            else float("nan"),
            "mean_pairwise_spearman": float(np.nanmean(pairs)) if pairs else float("nan"),
        }
    return out
