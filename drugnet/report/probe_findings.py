"""The findings of the probe atlas for the report: the one-paragraph answer per model, per-member
agreement, receptive field by pharmacophore distance, family selectivity across members and the
ablation effects (``hierarchy.json``, ``family_selectivity.csv``, ``ablation.csv`` and the plots of
``drugnet probe``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from drugnet.probing.ablation import excess_drops
from drugnet.report import html as H
from drugnet.report.inputs import read_csv

RECEPTIVE_CAPTION = (
    "How to read: each dot is one 2-point pharmacophore (two features a given number of bonds "
    "apart) in one ensemble member; its height is the first layer where the trained probe's 95% CI "
    "lies above the random-init twin's ('never' above the last layer). The black steps are the "
    "receptive-field bound: an atom state at layer l sees atoms within l bonds (atom level: bound "
    "= distance; molecule level: the middle atom sees both features at ceil(distance/2)). Dots "
    "below the steps are decoded before the pair can be seen, i.e. from correlates such as the "
    "features themselves; dots rising with distance are what a receptive-field limit looks like."
)
ABLATION_CAPTION = (
    "How to read: each cell is the drop of one task's validation ROC-AUC when the 10 "
    "(probe.ablation_k) strongest detector units of a concept family in one layer are replaced by "
    "their mean, minus the mean drop for the same number of random units of that layer (mean over "
    "members). Red: the model relies on that family's detectors for the task more than on "
    "arbitrary units; white: no more than chance; blue: removing them helps."
)
SHORT_FAMILY = {
    "functional_group": "functional groups",
    "interaction_center": "interaction centers",
    "pharmacophore": "pharmacophores",
}


def _holds(test: Mapping) -> str:
    verdict = str(test.get("verdict", ""))
    return (
        "holds"
        if verdict.startswith("HOLDS")
        else ("is not testable" if verdict.startswith("NOT") else "does not hold")
    )


def _level_sentence(level: str, test: Mapping, members: Mapping) -> str:
    alone = [
        m
        for m, t in members.items()
        if str((t.get("tests") or {}).get(level, {}).get("verdict", "")).startswith("HOLDS")
    ]
    n = len(members) or 1
    what = f"combined over {n} members" if n > 1 else "one member"
    return (
        f"at {level} level it {_holds(test)} ({what}: ρ = {H.fmt(test.get('rho'))}, p = "
        f"{H.fmt(test.get('p_value'), 4)}; holds in {len(alone)}/{n} member(s) alone)"
    )


def _receptive_sentence(receptive: Mapping) -> str:
    parts = []
    for level, info in receptive.items():
        dist = info.get("distance_test") or {}
        matched = info.get("matched_test") or {}
        parts.append(
            f"{level} level: {H.fmt(100 * (dist.get('fraction_decodable') or 0), 0)}% of 2-point "
            "pharmacophores become decodable above random init; first decodable layer vs distance "
            f"ρ = {H.fmt(dist.get('rho'))}, p = {H.fmt(dist.get('p_value'), 4)}; "
            f"{H.fmt(100 * (dist.get('fraction_at_or_after_bound') or 0), 0)}% of the decodable "
            "ones only at or after the receptive-field bound; matched hierarchy test (layers ≥ "
            f"{matched.get('matched_layer')}, pharmacophores ≤ "
            f"{matched.get('max_pharmacophore_distance')} bonds) {_holds(matched)} (p = "
            f"{H.fmt(matched.get('p_value'), 4)})"
        )
    return "Receptive field — " + "; ".join(parts) + "." if parts else ""


def _ablation_sentence(ablation: Mapping | None) -> str:
    if not ablation:
        return ""
    if ablation.get("status") != "done":
        return f"Ablation: {ablation.get('status')}."
    rows = ablation.get("per_family_layer") or []
    if not rows:
        return "Ablation: no detector units to ablate."
    best = max(rows, key=lambda r: r.get("excess_drop") or float("-inf"))
    return (
        "Ablation: the largest mean excess drop of validation ROC-AUC (top-k detectors minus "
        f"random units, mean over tasks) is {H.fmt(best.get('excess_drop'))} for "
        f"{SHORT_FAMILY.get(best.get('family'), best.get('family'))} in layer {best.get('layer')} "
        f"(top-k drop {H.fmt(best.get('top_drop'))}, random {H.fmt(best.get('random_mean_drop'))})."
    )


def answer_paragraph(dataset: str, model: str, hierarchy: Mapping) -> str:
    """One paragraph: does the hierarchy hold per level (combined p, members), what the receptive
    field says, what the ablation says."""
    tests = hierarchy.get("tests") or {}
    members = hierarchy.get("members") or {}
    levels = (
        "; ".join(_level_sentence(level, t, members) for level, t in tests.items()) or "no test"
    )
    text = (
        f"{dataset} / {model}: the hierarchy functional groups < interaction centers < "
        f"pharmacophores: {levels}. "
        + _receptive_sentence(hierarchy.get("receptive_field") or {})
        + " "
        + _ablation_sentence(hierarchy.get("ablation"))
    )
    return f'<p class="verdict">{H.esc(text.strip())}</p>'


def members_table(hierarchy: Mapping) -> str:
    """Per member and level: ρ, p, verdict; then the members' agreement on peak layers."""
    rows = [
        {
            "member": m,
            "level": level,
            "rho": t.get("rho"),
            "p_value": t.get("p_value"),
            "verdict": _holds(t),
        }
        for m, block in (hierarchy.get("members") or {}).items()
        for level, t in (block.get("tests") or {}).items()
    ]
    rows += [
        {
            "member": "combined",
            "level": level,
            "rho": t.get("rho"),
            "p_value": t.get("p_value"),
            "verdict": _holds(t),
        }
        for level, t in (hierarchy.get("tests") or {}).items()
    ]
    if not rows:
        return H.missing("hierarchy.json has no per-member tests (probed before replication)")
    parts = [H.table(pd.DataFrame(rows), digits=4)]
    agree = hierarchy.get("agreement") or {}
    if agree:
        parts.append(
            H.note(
                "agreement between members on each concept's peak layer: "
                + "; ".join(
                    f"{lv}: same peak in all members for "
                    f"{H.fmt(100 * (a.get('same_peak_fraction') or 0), 0)}% of "
                    f"{a.get('n_concepts')} concepts, mean pairwise Spearman "
                    f"{H.fmt(a.get('mean_pairwise_spearman'))}"
                    for lv, a in agree.items()
                )
            )
        )
    return "\n".join(parts)


def family_selectivity_table(folder: Path) -> str:
    """``family_selectivity.csv`` as level x family rows, one column per layer: mean [CI] across
    members."""
    table = read_csv(folder / "family_selectivity.csv")
    if table is None or table.empty:
        return H.missing(f"{folder / 'family_selectivity.csv'} not found or empty")
    cells = table.assign(
        cell=[
            f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]" if pd.notna(lo) else f"{m:+.3f}"
            for m, lo, hi in zip(table.mean_selectivity, table.ci_low, table.ci_high, strict=False)
        ]
    )
    wide = cells.pivot_table(
        index=["level", "family"], columns="layer", values="cell", aggfunc="first"
    ).reset_index()
    wide.columns = [c if isinstance(c, str) else f"layer {c}" for c in wide.columns]
    return H.table(wide) + H.note(
        "mean selectivity over the family's concepts, mean over members with the 95% Student-t "
        "interval across members in brackets (no interval for one member)"
    )


def figure_if(folder: Path, stem: str, alt: str, caption: str) -> str:
    """The PNG ``stem`` of the probe folder as a captioned figure, or an empty string."""
    path = folder / f"{stem}.png"
    return H.figure(H.image_file(path, alt), caption) if path.is_file() else ""


def ablation_block(folder: Path) -> str:
    """The ablation heatmap and the five largest excess drops."""
    table = read_csv(folder / "ablation.csv")
    if table is None or table.empty:
        return H.note(
            "no ablation results (probe.ablation off, a regression task or no validation rows)"
        )
    parts = [figure_if(folder, "ablation", "ablation effects", ABLATION_CAPTION)]
    excess = (
        excess_drops(table)
        .groupby(["task", "family", "layer"])[["top_drop", "random_mean_drop", "excess_drop"]]
        .mean()
    )
    top = excess.sort_values("excess_drop", ascending=False).head(5).reset_index()
    parts.append(H.table(top, digits=3) + H.note("largest excess drops (mean over members)"))
    return "\n".join(parts)
