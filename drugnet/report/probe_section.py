"""Report section "Probing": the answer per model in one paragraph, then per model the hierarchy
verdict (combined over members and per member), receptive field by pharmacophore distance, ablation
effects, best concepts per family, neurons and example molecules with the atoms a top unit fires on
coloured (``neuron_examples.json`` of ``drugnet probe``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem

from drugnet.concepts import functional_groups, interaction_centers, pharmacophores
from drugnet.probing.hierarchy import selectivity_table
from drugnet.report import html as H
from drugnet.report import probe_findings as F
from drugnet.report.depict import (
    ACTIVATION,
    INHIBITION,
    legend_html,
    mol_from_smiles,
    mol_svg,
    mol_svg_weights,
)
from drugnet.report.inputs import datasets, model_names, read_csv, read_json

EXAMPLE_NEURONS = 3
EXAMPLE_MOLECULES = 4
SCAN_MOLECULES = 200
FAMILY_ORDER = ("functional_group", "interaction_center", "pharmacophore")
OTHER_LAYER_EXAMPLES = (
    2  # examples drawn per unit in the collapsed other-layers block (report size)
)


def primary_rows(table: pd.DataFrame, member: int | None = None) -> pd.DataFrame:
    """Rows of one ensemble member (``member``, else the lowest one) when the table has a ``member``
    column (probes.csv / neurons.csv of a multi-member run); the table itself otherwise."""
    if "member" not in table.columns or table.empty:
        return table
    member = int(table["member"].min()) if member is None else member
    return table[table["member"] == member].drop(columns="member")


def selectivity(probes: pd.DataFrame) -> pd.DataFrame:
    """``trained - random_init`` AUC per concept, level and layer of the primary member
    (``drugnet.probing.hierarchy``)."""
    if not {"trained", "random_init"} <= set(probes["network"].unique()):
        return pd.DataFrame()
    return selectivity_table(primary_rows(probes))


def best_concepts(probes: pd.DataFrame, per_family: int = 5) -> pd.DataFrame:
    """Per level and family the ``per_family`` concepts with the highest peak selectivity (layers >=
    1): ``level, family, concept, peak_layer, trained_auc, ci_low, ci_high, random_init_auc,
    selectivity``."""
    sel = selectivity(probes)
    if sel.empty:
        return pd.DataFrame()
    hidden = sel[(sel["layer"] >= 1) & sel["selectivity"].notna()]
    if hidden.empty:
        return pd.DataFrame()
    peaks = hidden.loc[hidden.groupby(["concept", "level"], sort=False)["selectivity"].idxmax()]
    trained = primary_rows(probes)
    trained = trained[trained["network"] == "trained"].set_index(["concept", "level", "layer"])[
        ["ci_low", "ci_high"]
    ]
    peaks = peaks.join(trained, on=["concept", "level", "layer"])
    peaks = peaks.sort_values(["level", "family", "selectivity"], ascending=[True, True, False])
    top = peaks.groupby(["level", "family"], sort=False).head(per_family)
    return pd.DataFrame(
        {
            "level": top["level"],
            "family": top["family"],
            "concept": top["concept"],
            "peak_layer": top["layer"].astype(int),
            "trained_auc": top["trained"],
            "ci_low": top["ci_low"],
            "ci_high": top["ci_high"],
            "random_init_auc": top["random_init"],
            "selectivity": top["selectivity"],
        }
    ).reset_index(drop=True)


def top_neurons(neurons: pd.DataFrame, n: int = 10, network: str = "trained") -> pd.DataFrame:
    """The ``n`` units of ``network`` with the highest best-concept AUC."""
    rows = primary_rows(neurons)
    rows = rows[rows["network"] == network] if "network" in rows else rows
    return (
        rows.sort_values(["auc", "layer", "unit"], ascending=[False, True, True])
        .head(n)
        .reset_index(drop=True)
    )


def concept_atoms(
    mols: Sequence[Chem.Mol], concept: str, family: str, cache: dict | None = None
) -> list[list[int]] | None:
    """Atoms of each molecule carrying ``concept`` (atom-level labels of ``drugnet.concepts``);
    None when the family or concept is unknown there. ``cache`` keeps one label matrix per
    family."""
    module = {
        "functional_group": functional_groups,
        "interaction_center": interaction_centers,
        "pharmacophore": pharmacophores,
    }.get(family)
    if module is None or not mols:
        return None
    cache = {} if cache is None else cache
    if family not in cache:
        cache[family] = module.concept_labels(list(mols), level="atom")
    matrix = cache[family]
    if concept not in matrix.names:
        return None
    column = matrix.column(concept)
    return [
        sorted(int(a) for a in matrix.item_atom[(matrix.item_mol == m) & column])
        for m in range(len(mols))
    ]


def _sample_molecules(
    standardized: pd.DataFrame, n: int, seed: int = 0
) -> list[tuple[str, Chem.Mol]]:
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(standardized), size=min(n, len(standardized)), replace=False))
    out = []
    for i in idx:
        mol = mol_from_smiles(standardized["smiles"].iloc[i])
        if mol is not None:
            out.append((str(standardized["id"].iloc[i]), mol))
    return out


def neuron_examples(neurons: pd.DataFrame, standardized: pd.DataFrame | None) -> str:
    """Fallback for probe runs without ``neuron_examples.json``: molecules carrying the best concept
    of the best atom-level trained units, with that concept's atoms highlighted (``neurons.csv`` has
    no per-atom activations)."""
    if standardized is None or "smiles" not in standardized or neurons.empty:
        return H.missing("no standardized molecules or atom-level neurons for examples")
    if not {"level", "network", "best_concept", "best_family"} <= set(neurons.columns):
        return H.missing("neurons.csv lacks level/network/best_concept/best_family columns")
    atom_units = neurons[(neurons["level"] == "atom") & (neurons["network"] == "trained")]
    if "sign" in atom_units:  # units that fire on the concept (higher on positives)
        atom_units = atom_units[atom_units["sign"] > 0]
    picked = (
        top_neurons(atom_units, n=len(atom_units))
        .drop_duplicates("best_concept")
        .head(EXAMPLE_NEURONS)
    )
    if picked.empty:
        return H.missing("no atom-level trained units in neurons.csv")
    sample = _sample_molecules(standardized, SCAN_MOLECULES)
    mols = [m for _, m in sample]
    parts = [
        H.note(
            "this probe run has no neuron_examples.json (rerun drugnet probe for per-atom "
            "activations); neurons.csv stores each unit's best concept only, so highlighted atoms "
            "are the atoms that carry the unit's best concept (drugnet.concepts labels), in "
            "molecules of the dataset."
        )
    ]
    cache: dict = {}
    for unit in picked.itertuples(index=False):
        atoms = concept_atoms(mols, unit.best_concept, unit.best_family, cache)
        title = (
            f"layer {unit.layer} unit {unit.unit}: {unit.best_concept} "
            f"({unit.best_family}), AUC {unit.auc:.3f}"
        )
        parts.append(f"<h4>{H.esc(title)}</h4>")
        if atoms is None:
            parts.append(H.missing(f"concept {unit.best_concept} not found in drugnet.concepts"))
            continue
        cards = []
        for (ident, mol), hit in zip(sample, atoms, strict=False):
            if hit:
                svg = mol_svg(mol, hit, width=220, height=170, legend=ident)
                cards.append(f'<div class="card">{svg}</div>')
            if len(cards) >= EXAMPLE_MOLECULES:
                break
        parts.append(
            f'<div class="grid">{"".join(cards)}</div>'
            if cards
            else H.note("no molecule of the sample carries this concept")
        )
    return "\n".join(parts)


def _example_card(example: Mapping, unit: Mapping, values: str) -> str:
    """One example molecule of a unit: atoms coloured by the stored per-atom values, concept atoms
    ringed."""
    mol = mol_from_smiles(example.get("smiles"))
    if mol is None:
        smiles = example.get("smiles")
        return f'<div class="card">{H.missing(f"cannot parse SMILES {smiles}")}</div>'
    atom_values = example.get("atom_values") or []
    rings = example.get("concept_atoms") or []
    legend = str(example.get("id", ""))
    if len(atom_values) != mol.GetNumAtoms():
        svg = mol_svg(mol, width=220, height=170, legend=legend)
        remark = "per-atom values do not match the molecule: not coloured"
    else:
        weights = dict(enumerate(float(v) for v in atom_values))
        if values == "activation":
            baseline = float(unit.get("baseline") or 0.0)
            scale = float(unit.get("scale") or 0.0) - baseline
            svg = mol_svg_weights(
                mol,
                weights,
                scale=scale,
                baseline=baseline,
                positive=ACTIVATION,
                negative=None,
                rings=rings,
                width=220,
                height=170,
                legend=legend,
            )
        else:
            svg = mol_svg_weights(
                mol,
                weights,
                scale=float(unit.get("scale") or 0.0),
                positive=ACTIVATION,
                negative=INHIBITION,
                rings=rings,
                width=220,
                height=170,
                legend=legend,
            )
        remark = ""
    has = example.get("has_concept")
    concept = (
        "carries the concept (ringed)"
        if has
        else ("no concept atoms" if has is not None else "concept not locatable")
    )
    why = "top activation" if example.get("picked") == "highest" else "top among concept carriers"
    text = f"{why}; unit {H.fmt(example.get('score'))}; {concept}" + (
        f"; {remark}" if remark else ""
    )
    return f'<div class="card">{svg}<p class="note">{H.esc(text)}</p></div>'


def _some_examples(examples: Sequence[Mapping], n: int | None) -> list[Mapping]:
    """The first example of each ``picked`` kind, then the others in stored order; at most ``n``."""
    if n is None or len(examples) <= n:
        return list(examples)
    firsts = list(
        {str(e.get("picked")): i for i, e in reversed(list(enumerate(examples)))}.values()
    )
    order = sorted(firsts) + [i for i in range(len(examples)) if i not in firsts]
    return [examples[i] for i in sorted(order[:n])]


def _unit_block(unit: Mapping, values: str, max_examples: int | None = None) -> str:
    title = (
        f"{unit.get('family')}: layer {unit.get('layer')} unit {unit.get('unit')} fires on "
        f"{unit.get('concept')} (AUC {H.fmt(unit.get('auc'))})"
    )
    cards = [
        _example_card(e, unit, values)
        for e in _some_examples(unit.get("examples") or [], max_examples)
    ]
    body = (
        f'<div class="grid">{"".join(cards)}</div>'
        if cards
        else H.note("no example molecules stored")
    )
    return f'<div class="unit"><h4>{H.esc(title)}</h4>{body}</div>'


def unit_examples(examples: Mapping) -> str:
    """Depictions of ``neuron_examples.json``: per concept family the stored unit with the highest
    AUC (all its example molecules, atoms coloured by the unit's per-atom values, concept atoms
    ringed), the other layers' units in a collapsed block with `OTHER_LAYER_EXAMPLES` examples each
    (one per ``picked`` kind first)."""
    units = [u for u in examples.get("units") or [] if isinstance(u, Mapping)]
    if not units:
        return H.note("neuron_examples.json lists no units (no concept passed the filters)")
    values = examples.get("values", "activation")
    if values == "activation":
        legend = legend_html(
            [(ACTIVATION, "unit activation at the atom")],
            "(white: at or below the unit's median over all probed atoms; full: the highest among "
            "the unit's examples); ○ ringed atoms carry the unit's concept",
        )
        how = (
            "GNN atom states: each atom is coloured by the unit's activation there; examples are "
            "the probed molecules where the unit reaches its highest value (half of them), then "
            "the highest among molecules that carry the unit's concept; one per scaffold."
        )
    else:
        legend = legend_html(
            [(ACTIVATION, "raises the unit"), (INHIBITION, "lowers the unit")],
            "(fingerprint occlusion, shade ∝ |effect| relative to the largest among the unit's "
            "examples); ○ ringed atoms carry the unit's concept",
        )
        how = (
            "The SNN sees fingerprint counts, not atoms: each atom is coloured by how much the "
            "unit drops when the Morgan environments containing that atom are removed from the "
            "input (descriptors unchanged). Examples: the molecules with the highest activation "
            "(half), then the highest among carriers of the unit's concept."
        )
    order = {f: i for i, f in enumerate(FAMILY_ORDER)}
    by_family: dict[str, list[Mapping]] = {}
    for unit in units:
        by_family.setdefault(str(unit.get("family")), []).append(unit)
    best, rest = [], []
    for family in sorted(by_family, key=lambda f: (order.get(f, len(order)), f)):
        ranked = sorted(
            by_family[family], key=lambda u: (-float(u.get("auc") or 0.0), int(u.get("layer") or 0))
        )
        best.append(ranked[0])
        rest += sorted(ranked[1:], key=lambda u: int(u.get("layer") or 0))
    parts = [H.note(how), legend] + [_unit_block(u, values) for u in best]
    if rest:
        inner = "".join(_unit_block(u, values, OTHER_LAYER_EXAMPLES) for u in rest)
        parts.append(
            f"<details><summary>the best unit of each family in the other layers ({len(rest)}; "
            f"{OTHER_LAYER_EXAMPLES} examples each)</summary>{inner}</details>"
        )
    return "\n".join(parts)


def _hierarchy_block(hierarchy: Mapping) -> str:
    parts = [f'<p class="verdict">{H.esc(hierarchy.get("verdict", "no verdict"))}</p>']
    tests = hierarchy.get("tests") or {}
    if tests:
        rows = [
            {
                "level": level,
                "rho": t.get("rho"),
                "p_value": t.get("p_value"),
                "n_concepts": t.get("n_concepts"),
                "n_permutations": t.get("n_permutations"),
            }
            for level, t in tests.items()
        ]
        parts.append(H.table(pd.DataFrame(rows), digits=4))
    control = hierarchy.get("control_task_mean_auc") or {}
    if control:
        parts.append(
            H.note(
                "control task (shuffled labels) mean AUC: "
                + ", ".join(f"{lv} {H.fmt(v)}" for lv, v in control.items())
                + " (expected about 0.5)"
            )
        )
    peaks = hierarchy.get("peak_layers") or {}
    rows = [
        {
            "level": lv,
            "family": fam,
            "median_peak_layer": d.get("median_peak_layer"),
            "n_concepts": d.get("n_concepts"),
        }
        for lv, fams in peaks.items()
        for fam, d in fams.items()
    ]
    if rows:
        parts.append("<h4>peak layer of selectivity per family</h4>" + H.table(pd.DataFrame(rows)))
    return "\n".join(parts)


def _model_block(dataset: str, model: str, folder: Path, standardized: pd.DataFrame | None) -> str:
    parts = [f"<h3>{H.esc(dataset)} / {H.esc(model)}</h3>"]
    hierarchy = read_json(folder / "hierarchy.json")
    parts.append(
        _hierarchy_block(hierarchy)
        if hierarchy
        else H.missing(f"{folder / 'hierarchy.json'} not found")
    )
    if isinstance(hierarchy, Mapping) and hierarchy.get("receptive_field"):
        parts.append(
            "<h4>receptive field: first decodable layer vs pharmacophore distance</h4>"
            + F.figure_if(
                folder, "receptive_field", f"{dataset} {model} receptive field", F.RECEPTIVE_CAPTION
            )
        )
    if isinstance(hierarchy, Mapping):
        parts.append("<h4>replication over ensemble members</h4>" + F.members_table(hierarchy))
    parts.append("<h4>causal use: ablation of detector units</h4>" + F.ablation_block(folder))
    parts.append(
        "<h4>mean selectivity per family and layer across members</h4>"
        + F.family_selectivity_table(folder)
    )
    heatmap = next(
        (
            p
            for p in (folder / "selectivity_heatmap.png", folder / "selectivity_heatmap.svg")
            if p.is_file()
        ),
        None,
    )
    if heatmap is not None:
        parts.append(
            "<h4>selectivity (trained - random_init AUC) per concept and layer</h4>"
            + H.figure(
                H.image_file(heatmap, f"{dataset} {model} selectivity heatmap"),
                "How to read: one row per concept (grouped by family, sorted by peak layer), one "
                "column per layer, colour = trained minus random-init probe AUC of the primary "
                "member; red: training raised decodability, blue: lowered",
            )
        )
    probes = read_csv(folder / "probes.csv")
    if probes is not None and {"concept", "family", "level", "layer", "network", "auc"} <= set(
        probes.columns
    ):
        best = best_concepts(probes)
        parts.append("<h4>best concepts per family (highest selectivity)</h4>")
        parts.append(
            H.table(best) if len(best) else H.note("no selectivity: random_init rows missing")
        )
    else:
        parts.append(H.missing(f"{folder / 'probes.csv'} not found"))
    neurons = read_csv(folder / "neurons.csv")
    if neurons is not None and len(neurons) and "auc" in neurons:
        parts.append("<h4>strongest single units (trained network)</h4>")
        parts.append(H.table(top_neurons(neurons)))
    examples = read_json(folder / "neuron_examples.json")
    if isinstance(examples, Mapping):
        parts.append("<h4>where the top unit of each concept family fires: example molecules</h4>")
        parts.append(unit_examples(examples))
    elif neurons is not None and len(neurons) and "auc" in neurons:
        parts.append("<h4>example molecules for top atom-level units</h4>")
        parts.append(neuron_examples(neurons, standardized))
    return "\n".join(parts)


def probe_section(config: Mapping, results: Path) -> H.Section:
    """The answer per model in one paragraph, then per dataset and probed model: verdicts, receptive
    field, member agreement, ablation, heatmap, best concepts, neurons and examples."""
    blocks, answers = [], []
    probed = config.get("probe", {}).get("datasets", "all")
    for name in datasets(config, results):
        probe_root = results / name / "probes"
        if probed != "all" and name not in probed and not probe_root.is_dir():
            blocks.append(
                f"<h3>{H.esc(name)}</h3><p>Not probed: <code>probe.datasets</code> is "
                f"{H.esc(', '.join(probed))} (docs/probing.md#cost).</p>"
            )
            continue
        found = (
            sorted(p.name for p in probe_root.glob("*") if p.is_dir())
            if probe_root.is_dir()
            else []
        )
        if not found:
            blocks.append(f"<h3>{H.esc(name)}</h3>" + H.missing(f"no probes under {probe_root}"))
            continue
        standardized = read_csv(results / name / "standardized.csv")
        for model in model_names({}, name, found):
            hierarchy = read_json(probe_root / model / "hierarchy.json")
            if isinstance(hierarchy, Mapping):
                answers.append(F.answer_paragraph(name, model, hierarchy))
            blocks.append(_model_block(name, model, probe_root / model, standardized))
    if answers:
        blocks.insert(0, "<h3>The answer</h3>" + "\n".join(answers))
    body = "\n".join(blocks) if blocks else H.missing("no datasets configured or found")
    return H.Section("probing", "Probing", body)
