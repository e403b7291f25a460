"""Report section "Probing": hierarchy verdict, best concepts per family, neurons, example molecules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem

from drugnet.report import html as H
from drugnet.report.depict import mol_from_smiles, mol_svg
from drugnet.report.inputs import datasets, model_names, read_csv, read_json

EXAMPLE_NEURONS = 3
EXAMPLE_MOLECULES = 4
SCAN_MOLECULES = 200


def selectivity(probes: pd.DataFrame) -> pd.DataFrame:
    """``trained - random_init`` AUC per concept, level and layer (``drugnet.probing.hierarchy``)."""
    from drugnet.probing.hierarchy import selectivity_table

    if not {"trained", "random_init"} <= set(probes["network"].unique()):
        return pd.DataFrame()
    return selectivity_table(probes)


def best_concepts(probes: pd.DataFrame, per_family: int = 5) -> pd.DataFrame:
    """Per level and family the ``per_family`` concepts with the highest peak selectivity (layers >= 1):
    ``level, family, concept, peak_layer, trained_auc, ci_low, ci_high, random_init_auc, selectivity``."""
    sel = selectivity(probes)
    if sel.empty:
        return pd.DataFrame()
    hidden = sel[(sel["layer"] >= 1) & sel["selectivity"].notna()]
    if hidden.empty:
        return pd.DataFrame()
    peaks = hidden.loc[hidden.groupby(["concept", "level"], sort=False)["selectivity"].idxmax()]
    trained = probes[probes["network"] == "trained"].set_index(["concept", "level", "layer"])[["ci_low", "ci_high"]]
    peaks = peaks.join(trained, on=["concept", "level", "layer"])
    peaks = peaks.sort_values(["level", "family", "selectivity"], ascending=[True, True, False])
    top = peaks.groupby(["level", "family"], sort=False).head(per_family)
    return pd.DataFrame({
        "level": top["level"], "family": top["family"], "concept": top["concept"], "peak_layer": top["layer"].astype(int),
        "trained_auc": top["trained"], "ci_low": top["ci_low"], "ci_high": top["ci_high"],
        "random_init_auc": top["random_init"], "selectivity": top["selectivity"],
    }).reset_index(drop=True)


def top_neurons(neurons: pd.DataFrame, n: int = 10, network: str = "trained") -> pd.DataFrame:
    """The ``n`` units of ``network`` with the highest best-concept AUC."""
    rows = neurons[neurons["network"] == network] if "network" in neurons else neurons
    return rows.sort_values(["auc", "layer", "unit"], ascending=[False, True, True]).head(n).reset_index(drop=True)


def concept_atoms(
    mols: Sequence[Chem.Mol], concept: str, family: str, cache: dict | None = None
) -> list[list[int]] | None:
    """Atoms of each molecule carrying ``concept`` (atom-level labels of ``drugnet.concepts``);
    None when the family or concept is unknown there. ``cache`` keeps one label matrix per family."""
    from drugnet.concepts import functional_groups, interaction_centers, pharmacophores

    module = {"functional_group": functional_groups, "interaction_center": interaction_centers,
              "pharmacophore": pharmacophores}.get(family)
    if module is None or not mols:
        return None
    cache = {} if cache is None else cache
    if family not in cache:
        cache[family] = module.concept_labels(list(mols), level="atom")
    matrix = cache[family]
    if concept not in matrix.names:
        return None
    column = matrix.column(concept)
    return [sorted(int(a) for a in matrix.item_atom[(matrix.item_mol == m) & column]) for m in range(len(mols))]


def _sample_molecules(standardized: pd.DataFrame, n: int, seed: int = 0) -> list[tuple[str, Chem.Mol]]:
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(standardized), size=min(n, len(standardized)), replace=False))
    out = []
    for i in idx:
        mol = mol_from_smiles(standardized["smiles"].iloc[i])
        if mol is not None:
            out.append((str(standardized["id"].iloc[i]), mol))
    return out


def neuron_examples(neurons: pd.DataFrame, standardized: pd.DataFrame | None) -> str:
    """Depictions for the best atom-level trained units: molecules carrying the unit's best concept with
    that concept's atoms highlighted (``neurons.csv`` has no per-atom activations)."""
    if standardized is None or "smiles" not in standardized or neurons.empty:
        return H.missing("no standardized molecules or atom-level neurons for examples")
    if not {"level", "network", "best_concept", "best_family"} <= set(neurons.columns):
        return H.missing("neurons.csv lacks level/network/best_concept/best_family columns")
    atom_units = neurons[(neurons["level"] == "atom") & (neurons["network"] == "trained")]
    if "sign" in atom_units:  # units that fire on the concept (higher on positives)
        atom_units = atom_units[atom_units["sign"] > 0]
    picked = top_neurons(atom_units, n=len(atom_units)).drop_duplicates("best_concept").head(EXAMPLE_NEURONS)
    if picked.empty:
        return H.missing("no atom-level trained units in neurons.csv")
    sample = _sample_molecules(standardized, SCAN_MOLECULES)
    mols = [m for _, m in sample]
    parts = [H.note("neurons.csv stores each unit's best concept, not per-atom activations: highlighted atoms are "
                    "the atoms that carry the unit's best concept (drugnet.concepts labels), in molecules of the dataset.")]
    cache: dict = {}
    for unit in picked.itertuples(index=False):
        atoms = concept_atoms(mols, unit.best_concept, unit.best_family, cache)
        title = f"layer {unit.layer} unit {unit.unit}: {unit.best_concept} ({unit.best_family}), AUC {unit.auc:.3f}"
        parts.append(f"<h4>{H.esc(title)}</h4>")
        if atoms is None:
            parts.append(H.missing(f"concept {unit.best_concept} not found in drugnet.concepts"))
            continue
        cards = []
        for (ident, mol), hit in zip(sample, atoms):
            if hit:
                svg = mol_svg(mol, hit, width=220, height=170, legend=ident)
                cards.append(f'<div class="card">{svg}</div>')
            if len(cards) >= EXAMPLE_MOLECULES:
                break
        parts.append(f'<div class="grid">{"".join(cards)}</div>' if cards else H.note("no molecule of the sample carries this concept"))
    return "\n".join(parts)


def _hierarchy_block(hierarchy: Mapping) -> str:
    parts = [f'<p class="verdict">{H.esc(hierarchy.get("verdict", "no verdict"))}</p>']
    tests = hierarchy.get("tests") or {}
    if tests:
        rows = [{"level": level, "rho": t.get("rho"), "p_value": t.get("p_value"), "n_concepts": t.get("n_concepts"),
                 "n_permutations": t.get("n_permutations")} for level, t in tests.items()]
        parts.append(H.table(pd.DataFrame(rows), digits=4))
    control = hierarchy.get("control_task_mean_auc") or {}
    if control:
        parts.append(H.note("control task (shuffled labels) mean AUC: "
                            + ", ".join(f"{lv} {H.fmt(v)}" for lv, v in control.items()) + " (expected about 0.5)"))
    peaks = hierarchy.get("peak_layers") or {}
    rows = [{"level": lv, "family": fam, "median_peak_layer": d.get("median_peak_layer"), "n_concepts": d.get("n_concepts")}
            for lv, fams in peaks.items() for fam, d in fams.items()]
    if rows:
        parts.append("<h4>peak layer of selectivity per family</h4>" + H.table(pd.DataFrame(rows)))
    return "\n".join(parts)


def _model_block(dataset: str, model: str, folder: Path, standardized: pd.DataFrame | None) -> str:
    parts = [f"<h3>{H.esc(dataset)} / {H.esc(model)}</h3>"]
    hierarchy = read_json(folder / "hierarchy.json")
    parts.append(_hierarchy_block(hierarchy) if hierarchy else H.missing(f"{folder / 'hierarchy.json'} not found"))
    heatmap = next((p for p in (folder / "selectivity_heatmap.png", folder / "selectivity_heatmap.svg") if p.is_file()), None)
    if heatmap is not None:
        parts.append("<h4>selectivity (trained - random_init AUC) per concept and layer</h4>"
                     + H.figure(H.image_file(heatmap, f"{dataset} {model} selectivity heatmap"),
                                "red: training raised decodability, blue: lowered"))
    probes = read_csv(folder / "probes.csv")
    if probes is not None and {"concept", "family", "level", "layer", "network", "auc"} <= set(probes.columns):
        best = best_concepts(probes)
        parts.append("<h4>best concepts per family (highest selectivity)</h4>")
        parts.append(H.table(best) if len(best) else H.note("no selectivity: random_init rows missing"))
    else:
        parts.append(H.missing(f"{folder / 'probes.csv'} not found"))
    neurons = read_csv(folder / "neurons.csv")
    if neurons is not None and len(neurons) and "auc" in neurons:
        parts.append("<h4>strongest single units (trained network)</h4>")
        parts.append(H.table(top_neurons(neurons)))
        parts.append("<h4>example molecules for top atom-level units</h4>")
        parts.append(neuron_examples(neurons, standardized))
    return "\n".join(parts)


def probe_section(config: Mapping, results: Path) -> H.Section:
    """Per dataset and probed model: verdict, tests, heatmap, best concepts, neurons and examples."""
    blocks = []
    for name in datasets(config, results):
        probe_root = results / name / "probes"
        found = sorted(p.name for p in probe_root.glob("*") if p.is_dir()) if probe_root.is_dir() else []
        if not found:
            blocks.append(f"<h3>{H.esc(name)}</h3>" + H.missing(f"no probes under {probe_root}"))
            continue
        standardized = read_csv(results / name / "standardized.csv")
        for model in model_names({}, name, found):
            blocks.append(_model_block(name, model, probe_root / model, standardized))
    body = "\n".join(blocks) if blocks else H.missing("no datasets configured or found")
    return H.Section("probing", "Probing", body)
