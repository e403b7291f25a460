"""Report section "Summary" (first screen): each campaign's top 10 with depictions, the shortlist's
domain and drug-likeness, the best model per dataset, and the probing verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from drugnet.report import html as H
from drugnet.report.candidate_section import candidate_card, objective_columns
from drugnet.report.inputs import campaigns, datasets, read_csv, read_json

SUMMARY_CARDS = 10
SHORTLIST = 100


def _objective_text(block: Mapping) -> str:
    parts = []
    for obj in block.get("objectives", []):
        if "property" in obj:
            lo, hi = obj.get("window", [None, None])
            parts.append(
                f"{obj['property']} in [{'' if lo is None else lo}, {'' if hi is None else hi}]"
            )
        else:
            parts.append(
                f"{obj.get('direction', 'maximize')} {obj.get('dataset')}.{obj.get('target')}"
            )
    return "; ".join(parts)


def shortlist_stats(ranked: pd.DataFrame, n: int = SHORTLIST) -> dict[str, float]:
    """In-domain fraction, median QED, median and max MW of the first ``n`` rows of ranked.csv."""
    head = ranked.head(n)
    out = {"n": float(len(head))}
    if "in_domain" in head:
        out["in_domain"] = float(
            head["in_domain"].astype(str).str.lower().isin(["true", "1"]).mean()
        )
    for column, stat in (("qed", "median"), ("mw", "median"), ("mw", "max")):
        if column in head:
            out[f"{stat}_{column}"] = float(
                getattr(pd.to_numeric(head[column], errors="coerce"), stat)()
            )
    return out


def _campaign(name: str, block: Mapping, folder: Path) -> str:
    parts = [
        f"<h3>campaign {H.esc(name)}</h3>",
        H.note(
            f"library {block.get('library', '?')}; ranking {block.get('ranking', 'expected')}; "
            f"objectives: {_objective_text(block)}"
        ),
    ]
    ranked = read_csv(folder / "ranked.csv", nrows=SHORTLIST)
    if ranked is not None and len(ranked):
        s = shortlist_stats(ranked)
        parts.append(
            H.note(
                f"first {int(s['n'])} of ranked.csv: {100 * s.get('in_domain', float('nan')):.0f} "
                f"% in domain, median QED {H.fmt(s.get('median_qed'), 2)}, median MW "
                f"{H.fmt(s.get('median_mw'), 0)}, max MW {H.fmt(s.get('max_mw'), 0)}"
            )
        )
    top = read_csv(folder / "top.csv")
    if top is None or top.empty:
        parts.append(H.missing(f"{folder / 'top.csv'} not found or empty"))
        return "\n".join(parts)
    head = top.head(SUMMARY_CARDS)
    cards = "".join(candidate_card(row, objective_columns(top)) for _, row in head.iterrows())
    parts.append(f'<div class="grid">{cards}</div>')
    if "why" in head:
        parts.append(H.table(head[[c for c in ("rank", "id", "score", "why") if c in head]]))
    return "\n".join(parts)


def best_models_table(results: Path, names: list[str]) -> pd.DataFrame:
    """Per dataset: the model with the best mean validation metric and its test metrics."""
    rows = []
    for name in names:
        metrics = read_json(results / name / "metrics.json") or {}
        scored = []
        for model, splits in metrics.items():
            val = (splits.get("val") or {}).get("mean") or {}
            key = (
                val.get("roc_auc")
                if val.get("roc_auc") is not None
                else (-val["rmse"] if val.get("rmse") is not None else None)
            )
            if key is not None:
                scored.append((key, model))
        if not scored:
            continue
        model = max(scored)[1]
        test = (metrics[model].get("test") or {}).get("mean") or {}
        rows.append(
            {
                "dataset": name,
                "best model (validation)": model,
                **{f"test {k}": v for k, v in test.items()},
            }
        )
    return pd.DataFrame(rows)


def verdicts_table(results: Path, names: list[str]) -> pd.DataFrame:
    rows = []
    for name in names:
        for path in sorted((results / name / "probes").glob("*/hierarchy.json")):
            rows.append(
                {
                    "dataset": name,
                    "model": path.parent.name,
                    "verdict": (read_json(path) or {}).get("verdict", ""),
                }
            )
    return pd.DataFrame(rows)


def summary_section(config: Mapping, results: Path) -> H.Section:
    """The one-screen summary that opens the report."""
    parts = [
        _campaign(name, block, results / "screens" / name)
        for name, block in campaigns(config, results).items()
    ]
    names = list(datasets(config, results))
    best = best_models_table(results, names)
    if len(best):
        parts.append("<h3>model quality</h3>" + H.table(best))
    verdicts = verdicts_table(results, names)
    if len(verdicts):
        parts.append("<h3>probing verdicts</h3>" + H.table(verdicts))
    return H.Section(
        "summary", "Summary", "\n".join(parts) or H.missing("nothing to summarise yet")
    )
