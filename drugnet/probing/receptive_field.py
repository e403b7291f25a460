"""Receptive field, measured: at which GNN layer does a 2-point pharmacophore become decodable above
its random-init twin, as a function of the topological distance between its two features?

A layer-``l`` atom state of a message-passing network depends only on atoms within ``l`` bonds, so
a feature atom can "see" its partner ``d`` bonds away from layer ``d`` on (`bound_layer`, atom
level); a molecule readout sums atom states, and the atom half-way between the two features sees
both from layer ``ceil(d/2)`` on (molecule level). Decodable earlier than the bound means the probe
reads a correlate (e.g. the features themselves), not the pair.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from drugnet.io.atomic import atomic_path
from drugnet.probing import hierarchy
from drugnet.probing.replication import member_peaks, peak_matrix, with_pairwise

RECEPTIVE_FIELD_COLUMNS = [
    "member",
    "level",
    "concept",
    "distance_bin",
    "distance",
    "bound_layer",
    "first_layer",
    "peak_layer",
]
_TWO_POINT = re.compile(r"^[A-Za-z]+-[A-Za-z]+:(\d+)(\+|-\d+)?$")


def pharmacophore_distance(name: str) -> int | None:
    """Lower bound in bonds of a 2-point pharmacophore's distance bin (``HA-HD:4`` -> 4,
    ``AR-BG:8+`` -> 8, ``HA-HD:2-3`` -> 2); None for anything else (3-point, other families)."""
    match = _TWO_POINT.match(name)
    return int(match.group(1)) if match else None


def bound_layer(distance: int, level: str) -> int:
    """First layer whose receptive field can hold a pair ``distance`` bonds apart (module
    docstring)."""
    return distance if level == "atom" else math.ceil(distance / 2)


def first_decodable_layers(probes: pd.DataFrame, *, first_layer: int = 1) -> pd.DataFrame:
    """Per member, level and concept: the first hidden layer where the trained probe's 95 % CI lies
    above the random-init twin's (NaN when no layer qualifies)."""
    keys = ["member", "level", "concept", "layer"]
    trained = probes[probes.network == "trained"].set_index(keys)[["ci_low"]]
    random = probes[probes.network == "random_init"].set_index(keys)[["ci_high"]]
    both = trained.join(random, how="inner").reset_index()
    both = both[both.layer >= first_layer]
    both["above"] = both["ci_low"] > both["ci_high"]
    first = both[both.above].groupby(["member", "level", "concept"])["layer"].min()
    out = (
        both[["member", "level", "concept"]]
        .drop_duplicates()
        .set_index(["member", "level", "concept"])
    )
    return out.join(first.rename("first_layer")).reset_index()


def receptive_field_table(probes: pd.DataFrame, peaks: pd.DataFrame) -> pd.DataFrame:
    """``RECEPTIVE_FIELD_COLUMNS`` for every 2-point pharmacophore probed (all members, both
    levels)."""
    ph = probes[(probes.family == "pharmacophore")]
    ph = ph[ph["concept"].map(pharmacophore_distance).notna()]
    if ph.empty:
        return pd.DataFrame(columns=RECEPTIVE_FIELD_COLUMNS)
    table = first_decodable_layers(ph)
    table["distance_bin"] = table["concept"].str.split(":").str[1]
    table["distance"] = table["concept"].map(pharmacophore_distance).astype(int)
    table["bound_layer"] = [
        bound_layer(d, lv) for d, lv in zip(table["distance"], table["level"], strict=False)
    ]
    peak = peaks.set_index(["member", "level", "concept"])["peak_layer"]
    table = table.join(peak, on=["member", "level", "concept"])
    return (
        table[RECEPTIVE_FIELD_COLUMNS]
        .sort_values(["member", "level", "distance", "concept"])
        .reset_index(drop=True)
    )


def distance_test(
    table: pd.DataFrame, n_layers: int, *, n_permutations: int = 10_000, seed: int = 0
) -> dict:
    """Does the first decodable layer grow with distance? One level, all members: Spearman of
    distance vs first layer (never decodable = ``n_layers + 1``, i.e. later than the network),
    member as block (`hierarchy.permutation_spearman`), plus how often the bound is respected."""
    wide = table.pivot(index="concept", columns="member", values="first_layer")
    censored = wide.fillna(n_layers + 1)
    distance = wide.index.map(table.groupby("concept")["distance"].first()).to_numpy(dtype=float)
    found = table.dropna(subset=["first_layer"])
    out = {
        "n_concepts": int(len(wide)),
        "n_members": int(wide.shape[1]),
        "never_decodable_as": n_layers + 1,
        "fraction_decodable": float(table["first_layer"].notna().mean())
        if len(table)
        else float("nan"),
        "fraction_at_or_after_bound": float((found["first_layer"] >= found["bound_layer"]).mean())
        if len(found)
        else float("nan"),
        "fraction_at_or_after_half_distance": float(
            (found["first_layer"] >= np.ceil(found["distance"] / 2)).mean()
        )
        if len(found)
        else float("nan"),
        "by_distance": _by_distance(table),
    }
    if len(set(distance)) < 2 or all(len(set(col)) < 2 for col in censored.to_numpy().T):
        out.update(rho=float("nan"), p_value=float("nan"))
        return out
    rho, p = hierarchy.permutation_spearman(
        distance, censored.to_numpy(), n_permutations=n_permutations, seed=seed
    )
    out.update(
        rho=rho, p_value=p, statistic="spearman(distance, first decodable layer), mean over members"
    )
    return out


def _by_distance(table: pd.DataFrame) -> list[dict]:
    rows = []
    for (distance, label), group in table.groupby(["distance", "distance_bin"], sort=True):
        layers = group["first_layer"].dropna()
        rows.append(
            {
                "distance_bin": str(label),
                "distance": int(distance),
                "bound_layer": int(group["bound_layer"].iloc[0]),
                "n": int(len(group)),
                "n_decodable": int(len(layers)),
                "median_first_layer": float(layers.median()) if len(layers) else None,
            }
        )
    return rows


def matched_hierarchy_test(
    selectivity: pd.DataFrame,
    level: str,
    matched_layer: int,
    *,
    n_permutations: int = 10_000,
    seed: int = 0,
) -> dict:
    """Hierarchy test on concepts that fit the receptive field of the earliest layer compared:
    layers ``>= matched_layer`` only, pharmacophores kept when ``bound_layer(distance) <=
    matched_layer`` (functional groups and interaction centers are treated as local)."""
    sub = selectivity[selectivity.level == level]
    distance = sub["concept"].map(pharmacophore_distance)
    fits = (sub.family != "pharmacophore") | distance.map(
        lambda d: d is not None and not pd.isna(d) and bound_layer(int(d), level) <= matched_layer
    )
    peaks = member_peaks(sub[fits.astype(bool)], first_layer=matched_layer)
    if peaks.empty:
        return {
            "matched_layer": matched_layer,
            "verdict": "NOT TESTABLE: no concepts",
            "n_concepts": 0,
        }
    family, matrix = peak_matrix(peaks)
    test = with_pairwise(family, matrix, n_permutations=n_permutations, seed=seed)
    test["matched_layer"] = matched_layer
    test["max_pharmacophore_distance"] = max(
        (d for d in range(2, 9) if bound_layer(d, level) <= matched_layer), default=None
    )
    return test


def plot_distance_vs_layer(table: pd.DataFrame, n_layers: int, png: Path, svg: Path) -> None:
    """First decodable layer against distance, one panel per level; members as coloured dots,
    the receptive-field bound as a step line, never-decodable at ``n_layers + 1``."""
    # matplotlib only when plotting: a heavy import that the probing tables do not need, and the
    # headless backend must be chosen before pyplot loads
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    levels = sorted(table["level"].unique()) or ["atom"]
    fig, axes = plt.subplots(1, len(levels), figsize=(4.5 * len(levels), 3.6), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, level in zip(axes[0], levels, strict=False):
        sub = table[table.level == level]
        for k, (member, group) in enumerate(sub.groupby("member")):
            y = group["first_layer"].fillna(n_layers + 1).to_numpy(dtype=float)
            x = (
                group["distance"].to_numpy(dtype=float)
                + 0.12 * (k - 1)
                + rng.uniform(-0.04, 0.04, len(y))
            )
            ax.scatter(
                x, y + rng.uniform(-0.12, 0.12, len(y)), s=9, alpha=0.6, label=f"member {member}"
            )
        distances = np.arange(2, 9)
        ax.step(
            distances,
            [min(bound_layer(d, level), n_layers + 1) for d in distances],
            where="mid",
            color="black",
            linewidth=1,
            label="receptive-field bound",
        )
        ax.axhline(n_layers + 0.5, color="grey", linestyle=":", linewidth=0.8)
        ax.set_xticks(distances, [str(d) if d < 8 else "8+" for d in distances])
        ax.set_yticks(
            range(1, n_layers + 2), [str(layer) for layer in range(1, n_layers + 1)] + ["never"]
        )
        ax.set_xlabel("bonds between the two features")
        ax.set_ylabel("first layer above random init")
        ax.set_title(f"{level}-level 2-point pharmacophores")
    axes[0][0].legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    for path in (png, svg):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:], dpi=150)
    plt.close(fig)
