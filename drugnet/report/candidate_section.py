"""Report section "Candidates": the top list of every campaign as depictions, and enrichment."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from drugnet.report import html as H
from drugnet.report.depict import (
    NEGATIVE,
    POSITIVE,
    legend_html,
    mol_from_smiles,
    mol_svg,
    mol_svg_weights,
    parse_atom_weights,
)
from drugnet.report.inputs import campaigns, read_csv, read_json

MAX_CARDS = 60
CARD_OBJECTIVES = 4
ENRICHMENT_METRICS = ("roc_auc", "pr_auc", "ef_1", "ef_5", "bedroc_20", "n_actives", "n")


def objective_columns(top: pd.DataFrame) -> list[str]:
    """Prediction columns: those with a ``<column>.std`` partner."""
    return [
        c[: -len(".std")]
        for c in top.columns
        if c.endswith(".std") and c[: -len(".std")] in top.columns
    ]


def _dd(label: str, value: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<dt>{H.esc(label)}</dt><dd{attr}>{H.esc(value)}</dd>"


def candidate_card(row: pd.Series, objectives: list[str]) -> str:
    """One compound: depiction with atoms coloured by ``explanation_atoms`` (green positive, red
    negative, shade ∝ |attribution|; plain when absent or empty), the ``explanation`` text under
    it, and its key numbers."""
    mol = mol_from_smiles(row.get("smiles"))
    weights = parse_atom_weights(
        row.get("explanation_atoms"), mol.GetNumAtoms() if mol is not None else None
    )
    if weights:
        svg = mol_svg_weights(
            mol, weights, positive=POSITIVE, negative=NEGATIVE, width=238, height=180
        )
    else:
        svg = mol_svg(mol, width=238, height=180)
    picture = (
        svg
        if svg is not None
        else f'<p class="missing">no depiction: cannot parse SMILES {H.esc(row.get("smiles"))}</p>'
    )
    explanation = H.fmt(row.get("explanation")).strip()
    if explanation:
        picture += f'<p class="explain">{H.esc(explanation)}</p>'
    items = [
        _dd("rank", H.fmt(row.get("rank"))),
        _dd("id", H.fmt(row.get("id"))),
        _dd("score", H.fmt(row.get("score"))),
    ]
    for col in objectives[:CARD_OBJECTIVES]:
        items.append(_dd(col, f"{H.fmt(row.get(col))} ± {H.fmt(row.get(f'{col}.std'))}"))
    if len(objectives) > CARD_OBJECTIVES:
        stds = pd.to_numeric(pd.Series([row.get(f"{c}.std") for c in objectives]), errors="coerce")
        items.append(
            _dd("mean std", f"{H.fmt(float(stds.mean()))} over {len(objectives)} objectives")
        )
    if "ad_similarity" in row.index or "in_domain" in row.index:
        domain = "in domain" if _truthy(row.get("in_domain")) else "outside domain"
        items.append(_dd("domain", f"{domain} (sim {H.fmt(row.get('ad_similarity'), 2)})"))
    if "qed" in row.index:
        items.append(_dd("QED", H.fmt(row.get("qed"), 2)))
    if "mw" in row.index:
        items.append(_dd("MW", H.fmt(row.get("mw"), 0)))
    if "alerts" in row.index:
        alerts = H.fmt(row.get("alerts"))
        items.append(_dd("alerts", alerts.replace(";", "; ") or "none", "alert" if alerts else ""))
    if weights:
        largest = max(abs(w) for w in weights.values())
        items.append(_dd("attribution", f"{len(weights)} atoms, max |value| {H.fmt(largest)}"))
    return f'<div class="card">{picture}<dl>{"".join(items)}</dl></div>'


ATTRIBUTION_LEGEND = legend_html(
    [(POSITIVE, "positive attribution"), (NEGATIVE, "negative attribution")],
    "(explanation_atoms; shade ∝ |value| relative to the largest |value| in the molecule; "
    "text under a depiction: explanation)",
)


def has_attributions(top: pd.DataFrame) -> bool:
    """True when some row of ``explanation_atoms`` holds at least one atom weight."""
    return "explanation_atoms" in top and any(
        parse_atom_weights(v) for v in top["explanation_atoms"]
    )


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    try:
        return bool(value) and not pd.isna(value)
    except (TypeError, ValueError):
        return False


def enrichment_table(enrichment: Mapping) -> pd.DataFrame:
    """One row per objective column and scorer (model, similarity, rf_ecfp) with the metrics."""
    rows = []
    for column, block in enrichment.items():
        for scorer in ("model", "similarity", "rf_ecfp"):
            metrics = block.get(scorer)
            if isinstance(metrics, Mapping):
                rows.append(
                    {
                        "objective": column,
                        "scorer": scorer,
                        **{m: metrics.get(m) for m in ENRICHMENT_METRICS},
                    }
                )
    return pd.DataFrame(rows)


def _campaign_block(name: str, folder: Path) -> str:
    parts = [f"<h3>campaign {H.esc(name)}</h3>"]
    top = read_csv(folder / "top.csv")
    if top is None:
        parts.append(H.missing(f"{folder / 'top.csv'} not found (screen)"))
    elif top.empty:
        parts.append(H.note("top.csv is empty: no compound passed the filters"))
    else:
        objectives = objective_columns(top)
        ranked_note = ""
        ranked = folder / "ranked.csv"
        if ranked.is_file():
            with ranked.open() as handle:
                n_ranked = sum(1 for _ in handle) - 1
            ranked_note = f" out of {n_ranked} ranked compounds"
        parts.append(
            H.note(
                f"{len(top)} candidates{ranked_note}; score = the campaign ranking of the "
                "objective desirabilities (docs/screening.md); ± = predictive standard deviation "
                "(calibrated, domain-aware); domain = ECFP4 Tanimoto to the nearest training "
                "compound."
            )
        )
        cards = [candidate_card(row, objectives) for _, row in top.head(MAX_CARDS).iterrows()]
        if has_attributions(top.head(MAX_CARDS)):
            parts.append(ATTRIBUTION_LEGEND)
        parts.append(f'<div class="grid">{"".join(cards)}</div>')
        if len(top) > MAX_CARDS:
            parts.append(
                H.note(
                    f"first {MAX_CARDS} of {len(top)} candidates drawn; all are in the table below"
                )
            )
        empty = [c for c in ("explanation",) if c in top and top[c].isna().all()]
        shown = top.drop(
            columns=empty + [c for c in ("explanation_atoms",) if c in top]
        )  # atom weights: drawn above
        parts.append(f"<details><summary>top.csv as a table</summary>{H.table(shown)}</details>")
    enrichment = read_json(folder / "enrichment.json")
    if enrichment:
        table = enrichment_table(enrichment)
        parts.append("<h4>enrichment of known actives in the library</h4>")
        parts.append(H.table(table) if len(table) else H.note("enrichment.json has no metrics"))
    elif enrichment is not None:
        parts.append(
            H.note("no enrichment: the library has no labels for the campaign's objectives")
        )
    return "\n".join(parts)


def candidate_section(config: Mapping, results: Path) -> H.Section:
    """Per campaign: depictions of ``top.csv`` and the enrichment table."""
    names = list(campaigns(config, results))
    if not names:
        return H.Section("candidates", "Candidates", H.missing("no campaigns configured"))
    body = "\n".join(_campaign_block(name, results / "screens" / name) for name in names)
    return H.Section("candidates", "Candidates", body)
