"""Concept atlas of a trained model: probes, controls, neurons, hierarchy test, heatmap, files.

`run_atlas` is the array-level core (embeddings per network and level + concept labels);
`probe_model_dir` is the glue that loads a model directory and a dataset directory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from rdkit import Chem

from drugnet.concepts import all_concepts
from drugnet.concepts.catalog import SKIPPED_COLUMNS, ConceptSet
from drugnet.io.atomic import atomic_path
from drugnet.probing import hierarchy, neurons, probes

NETWORKS = ("trained", "random_init", "control_task")
EXAMPLES_FORMAT = 1


@dataclass
class AtlasSettings:
    """Knobs of one atlas run (all recorded in ``hierarchy.json``)."""

    max_molecules: int | None = 2000
    atoms_per_molecule: int | None = 3
    min_positives: int = 30
    seed: int = 0
    n_boot: int = 1000
    C: float = 0.1
    test_fraction: float = 0.3
    n_permutations: int = 10_000
    member: int = 0
    batch_size: int = 256
    threads: int = 2
    examples_per_unit: int = neurons.EXAMPLES_PER_UNIT


@dataclass
class AtlasResult:
    probes: pd.DataFrame
    neurons: pd.DataFrame
    detectors: pd.DataFrame
    hierarchy: dict
    skipped: pd.DataFrame
    selectivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    examples: dict = field(default_factory=dict)  # neuron_examples.json (probe_model_dir)
    top_units: dict[str, pd.DataFrame] = field(default_factory=dict)  # level -> neurons.family_top_units


def run_atlas(
    embeddings: dict[str, dict[str, list[np.ndarray]]],
    concepts: ConceptSet,
    is_test_mol: np.ndarray,
    settings: AtlasSettings,
) -> AtlasResult:
    """Probe, control and analyse.

    ``embeddings[network][level]`` (network ``trained`` / ``random_init``) is a list of layers,
    each ``[n_items, d]`` aligned with ``concepts.matrices[level]``; ``is_test_mol`` marks the
    probe test molecules (whole scaffolds). The control task reuses the trained embeddings with
    labels moved between molecules (`probes.control_task_concepts`).
    """
    from drugnet.progress import progress

    tables, neuron_tables, detector_tables, levels = [], [], [], {}
    top_units: dict[str, pd.DataFrame] = {}
    bar = progress(3 * len(concepts.matrices), "probe", "probe sets", interval=10.0)
    for level, matrix in concepts.matrices.items():
        if level not in embeddings["trained"] or matrix.n_concepts == 0:
            continue
        is_test_item = is_test_mol[matrix.item_mol]
        trained = embeddings["trained"][level]
        random = embeddings["random_init"][level]
        kw = {"n_boot": settings.n_boot, "C": settings.C, "seed": settings.seed}
        table_trained = probes.probe_layers(trained, matrix, is_test_item, network="trained", **kw)
        bar.update()
        # layers identical to the trained ones (the input layer) are not refitted: same numbers
        same = [l for l in range(len(random)) if np.array_equal(random[l], trained[l])]
        differ = [l for l in range(len(random)) if l not in same]
        table_random = probes.probe_layers([random[l] for l in differ], matrix, is_test_item, network="random_init", **kw)
        table_random["layer"] = np.asarray(differ)[table_random["layer"].to_numpy()] if differ else table_random["layer"]
        bar.update()
        copied = table_trained[table_trained["layer"].isin(same)].assign(network="random_init")
        control = probes.control_task_concepts(matrix, seed=settings.seed)
        table_control = probes.probe_layers(trained, control, is_test_item, network="control_task", **kw)
        bar.update()
        tables += [table_trained, pd.concat([copied, table_random]), table_control]
        for network, layers in (("trained", trained), ("random_init", random)):
            aucs = neurons.layer_aucs(layers, matrix)
            table, strengths = neurons.neuron_table(layers, matrix, network=network, aucs=aucs)
            if network == "trained":
                top_units[level] = neurons.family_top_units(None, matrix, aucs=aucs)
            neuron_tables.append(table)
            detector_tables.append(neurons.detector_counts(strengths, matrix, network=network))
        levels[level] = {
            "n_items": len(matrix.item_mol),
            "n_test_items": int(is_test_item.sum()),
            "n_concepts": matrix.n_concepts,
            "n_layers": len(trained),
        }
    probe_table = pd.concat(tables, ignore_index=True).sort_values(
        ["level", "family", "concept", "network", "layer"], kind="stable"
    )[probes.PROBE_COLUMNS].reset_index(drop=True)
    selectivity = hierarchy.selectivity_table(probe_table)
    peaks = hierarchy.peak_layers(selectivity)
    tests = {
        level: hierarchy.ordering_test(
            group["family"].to_numpy(), group["peak_layer"].to_numpy(),
            n_permutations=settings.n_permutations, seed=settings.seed,
        )
        for level, group in peaks.groupby("level")
    }
    for level, group in peaks.groupby("level"):
        pairs = hierarchy.pairwise_ordering(
            group["family"].to_numpy(), group["peak_layer"].to_numpy(),
            n_permutations=settings.n_permutations, seed=settings.seed,
        )
        tests[level]["pairwise"] = {k: {"rho": v["rho"], "p_value": v["p_value"]} for k, v in pairs.items()}
        tests[level]["verdict"] += "; pairwise one-sided p: " + ", ".join(
            f"{k.replace('functional_group', 'FG').replace('interaction_center', 'IC').replace('pharmacophore', 'PH')}"
            f" rho={v['rho']:.2f} p={v['p_value']:.3g}" for k, v in pairs.items()
        )
    detectors = pd.concat(detector_tables, ignore_index=True)
    summary = {
        "question": "does selectivity (trained - random_init probe AUC) peak in earlier layers for "
        "functional groups than interaction centers than pharmacophores?",
        "verdict": " | ".join(f"{level}-level concepts: {t['verdict']}" for level, t in tests.items()),
        "tests": tests,
        "peak_layers": hierarchy.family_peak_distribution(peaks),
        "peaks_per_concept": peaks.to_dict(orient="records"),
        "control_task_mean_auc": {
            level: float(probe_table[(probe_table.network == "control_task") & (probe_table.level == level)]["auc"].mean())
            for level in levels
        },
        "detector_units": detectors.to_dict(orient="records"),
        "items": levels,
        "n_molecules": len(is_test_mol),
        "n_test_molecules": int(is_test_mol.sum()),
        "settings": asdict(settings),
    }
    return AtlasResult(
        probes=probe_table,
        neurons=pd.concat(neuron_tables, ignore_index=True),
        detectors=detectors,
        hierarchy=summary,
        skipped=concepts.skipped,
        selectivity=selectivity,
        top_units=top_units,
    )


def plot_selectivity(selectivity: pd.DataFrame, png: Path, svg: Path) -> None:
    """Heatmap concept x layer of trained - random_init AUC, one panel per level, rows grouped by family."""
    levels = sorted(selectivity["level"].unique())
    heights = [max(selectivity[selectivity.level == lv]["concept"].nunique(), 1) for lv in levels]
    fig, axes = plt.subplots(
        1, max(len(levels), 1), figsize=(5 * max(len(levels), 1), 2 + 0.07 * max(heights, default=1)), squeeze=False
    )
    order = {f: i for i, f in enumerate(hierarchy.FAMILY_ORDER)}
    image = None
    for ax, level in zip(axes[0], levels):
        sub = selectivity[selectivity.level == level]
        grid = sub.set_index(["family", "concept", "layer"])["selectivity"].unstack("layer")
        peak = grid.fillna(-np.inf).to_numpy().argmax(axis=1)
        rank = [(order.get(f, len(order)), p, c) for (f, c), p in zip(grid.index, peak)]
        grid = grid.iloc[sorted(range(len(rank)), key=rank.__getitem__)]  # family, then peak layer
        image = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", cmap="RdBu_r", vmin=-0.5, vmax=0.5, interpolation="nearest")
        ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [c for _, c in grid.index], fontsize=3)
        families = [f for f, _ in grid.index]
        for i in range(1, len(families)):
            if families[i] != families[i - 1]:
                ax.axhline(i - 0.5, color="black", linewidth=0.8)
        for fam in dict.fromkeys(families):
            rows = [i for i, f in enumerate(families) if f == fam]
            ax.text(grid.shape[1] - 0.4, np.mean(rows), fam, rotation=90, va="center", fontsize=7)
        ax.set_xlabel("layer")
        ax.set_title(f"{level}-level concepts")
    if image is not None:
        fig.colorbar(image, ax=axes[0].tolist(), label="selectivity (AUC trained - random init)", shrink=0.5)
    for path in (png, svg):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:], dpi=150)
    plt.close(fig)


def write_atlas(result: AtlasResult, output_dir: str | Path) -> None:
    """``probes.csv neurons.csv skipped_concepts.csv hierarchy.json selectivity_heatmap.{png,svg}
    neuron_examples.json`` (the last with ``"units": []`` when no examples were computed)."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (
        ("probes.csv", result.probes),
        ("neurons.csv", result.neurons),
        ("skipped_concepts.csv", result.skipped[SKIPPED_COLUMNS]),
    ):
        with atomic_path(out / name) as tmp:
            frame.to_csv(tmp, index=False)
    plot_selectivity(result.selectivity, out / "selectivity_heatmap.png", out / "selectivity_heatmap.svg")
    with atomic_path(out / "hierarchy.json") as tmp:
        Path(tmp).write_text(json.dumps(result.hierarchy, indent=2, default=_json_default))
    examples = result.examples or {"format_version": EXAMPLES_FORMAT, "units": []}
    with atomic_path(out / "neuron_examples.json") as tmp:
        Path(tmp).write_text(json.dumps(examples, indent=1, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value)}")


# --- glue to model directories ---------------------------------------------------------------


def random_init_like(model: torch.nn.Module, hparams: dict, seed: int) -> torch.nn.Module:
    """The member's own initialization: ``torch.manual_seed(seed)`` then ``build_model(hparams)``
    (the training seed policy), with fitted input-scaling buffers (``FeatureScaler``) copied from
    the trained model so both networks see the same input layer."""
    from drugnet.models.base import build_model
    from drugnet.models.layers import FeatureScaler

    torch.manual_seed(seed)
    fresh = build_model(hparams)
    trained_modules = dict(model.named_modules())
    for name, module in fresh.named_modules():
        if isinstance(module, FeatureScaler):
            module.load_state_dict(trained_modules[name].state_dict())
    return fresh.eval()


@torch.no_grad()
def collect_embeddings(
    model: torch.nn.Module,
    inputs: Callable[[np.ndarray], Any],
    atom_counts: np.ndarray,
    atom_keep: np.ndarray | None,
    batch_size: int = 256,
) -> dict[str, list[np.ndarray]]:
    """``{"molecule": layers, "atom": layers}`` from ``model.embed`` over molecules ``0..n-1``
    (``inputs(positions)`` builds the model input); atom rows restricted to ``atom_keep``
    (global atom indices, molecule order). Atom counts are checked against the featurizer."""
    model.eval()
    offsets = np.concatenate([[0], np.cumsum(atom_counts)])
    mol_parts: list[list[np.ndarray]] = []
    atom_parts: list[list[np.ndarray]] = []
    for start in range(0, len(atom_counts), batch_size):
        stop = min(start + batch_size, len(atom_counts))
        layers = model.embed(inputs(np.arange(start, stop)))
        mol_parts.append([layer.mol.float().numpy() for layer in layers])
        if atom_keep is not None and layers[0].atom is not None:
            n_atoms = layers[0].atom.shape[0]
            if n_atoms != offsets[stop] - offsets[start]:
                raise ValueError("featurized atom count differs from RDKit's: atom order cannot be matched")
            lo, hi = np.searchsorted(atom_keep, [offsets[start], offsets[stop]])
            local = atom_keep[lo:hi] - offsets[start]
            atom_parts.append([layer.atom[torch.as_tensor(local)].float().numpy() for layer in layers])
    out = {"molecule": [np.concatenate(parts) for parts in zip(*mol_parts)]}
    if atom_parts:
        out["atom"] = [np.concatenate(parts) for parts in zip(*atom_parts)]
    return out


@torch.no_grad()
def unit_atom_states(
    model: torch.nn.Module, inputs: Callable[[np.ndarray], Any], atom_counts: np.ndarray,
    layer_units: list[tuple[int, int]], batch_size: int = 256,
) -> np.ndarray:
    """``[n_atoms_total, len(layer_units)]``: atom states (``model.embed``) of the given (layer, unit)
    pairs for every atom of molecules ``0..n-1``, in molecule order then RDKit atom order."""
    model.eval()
    offsets = np.concatenate([[0], np.cumsum(atom_counts)])
    parts = []
    for start in range(0, len(atom_counts), batch_size):
        stop = min(start + batch_size, len(atom_counts))
        layers = model.embed(inputs(np.arange(start, stop)))
        if layers[0].atom is None or layers[0].atom.shape[0] != offsets[stop] - offsets[start]:
            raise ValueError("featurized atom count differs from RDKit's: atom order cannot be matched")
        parts.append(torch.stack([layers[l].atom[:, u] for l, u in layer_units], dim=1).float().numpy())
    return np.concatenate(parts)


def environment_atoms(mol: Chem.Mol, center: int, radius: int) -> set[int]:
    """Atoms of the Morgan environment of ``radius`` around ``center`` (``bitInfo`` entry)."""
    atoms = {center}
    if radius > 0:
        for bond in Chem.FindAtomEnvironmentOfRadiusN(mol, radius, center):
            b = mol.GetBondWithIdx(bond)
            atoms.update((b.GetBeginAtomIdx(), b.GetEndAtomIdx()))
    return atoms


def atom_fingerprint_drops(mol: Chem.Mol, radius: int, n_bits: int) -> np.ndarray:
    """``[n_atoms, n_bits]``: per atom, how many occurrences of each folded Morgan count bit have an
    environment that contains the atom (what `fingerprint_occlusion` removes for that atom)."""
    from rdkit.Chem import rdFingerprintGenerator

    from drugnet.features.fingerprints import morgan_generator

    extra = rdFingerprintGenerator.AdditionalOutput()
    extra.AllocateBitInfoMap()
    morgan_generator(radius, n_bits).GetCountFingerprintAsNumPy(mol, additionalOutput=extra)
    drops = np.zeros((mol.GetNumAtoms(), n_bits), dtype=np.float32)
    for bit, environments in extra.GetBitInfoMap().items():
        for center, r in environments:
            for atom in environment_atoms(mol, center, r):
                drops[atom, bit] += 1
    return drops


@torch.no_grad()
def fingerprint_occlusion(
    model: torch.nn.Module, features: torch.Tensor, mols: list[Chem.Mol], layer_units: list[tuple[int, int]],
    radius: int, n_bits: int,
) -> list[np.ndarray]:
    """Per-atom view of molecule-level units of a fingerprint model (SNN), one forward pass.

    ``features`` ``[n_mols, F]`` is the raw model input of ``mols`` (ECFP counts in the first
    ``n_bits`` columns). For atom ``a``, every Morgan environment containing ``a`` is removed from
    the counts (descriptors unchanged); the value of ``a`` is ``unit(full) - unit(without a's
    environments)``. Returns per molecule ``[n_atoms, len(layer_units)]``.
    """
    model.eval()
    features = features.float()
    drops = [torch.from_numpy(atom_fingerprint_drops(mol, radius, n_bits)) for mol in mols]
    sizes = [len(d) for d in drops]
    occluded = features.repeat_interleave(torch.as_tensor(sizes), dim=0)
    occluded[:, :n_bits] = (occluded[:, :n_bits] - torch.cat(drops)).clamp(min=0)
    full = model.embed(features)
    parts = model.embed(occluded)
    owner = torch.repeat_interleave(torch.arange(len(mols)), torch.as_tensor(sizes))
    values = torch.stack([full[l].mol[owner, u] - parts[l].mol[:, u] for l, u in layer_units], dim=1).float().numpy()
    return np.split(values, np.cumsum(sizes)[:-1])


def concept_carriers(concepts: ConceptSet, level: str, concept: str, n_mols: int) -> np.ndarray | None:
    """Molecules that carry ``concept``: its molecule-level label when kept there, else (atom-level
    concept) molecules with a positive probed atom (atoms are subsampled, so a lower bound)."""
    molecule = concepts.matrices.get("molecule")
    if molecule is not None and concept in molecule.names and len(molecule.item_mol) == n_mols:
        return molecule.column(concept).astype(bool)
    matrix = concepts.matrices.get(level)
    if matrix is None or concept not in matrix.names:
        return None
    carriers = np.zeros(n_mols, dtype=bool)
    np.logical_or.at(carriers, matrix.item_mol, matrix.column(concept))
    return carriers


def neuron_examples(
    model: torch.nn.Module,
    kind: str,
    inputs: Callable[[np.ndarray], Any],
    mols: list[Chem.Mol],
    rows: np.ndarray,
    frame: pd.DataFrame,
    trained: dict[str, list[np.ndarray]],
    concepts: ConceptSet,
    groups: np.ndarray,
    settings: AtlasSettings,
    fingerprint: dict | None = None,
    top_units: dict[str, pd.DataFrame] | None = None,
) -> dict:
    """``neuron_examples.json``: for each concept family and hidden layer the trained unit that fires
    most selectively on a concept of the family (`neurons.family_top_units`; atom level for a GNN,
    molecule level for an SNN), and the probed molecules where it is highest (one per scaffold, at
    most `neurons.EXAMPLE_MAX_ATOMS` heavy atoms) with one value per atom:

    * gnn: the unit's activation at each atom (``embed`` atom states; the molecule score is the
      maximum over its atoms);
    * snn (no atoms in the model): fingerprint occlusion (`fingerprint_occlusion`) with the
      featurizer's Morgan ``radius``/``n_bits`` from ``fingerprint``.

    ``frame`` is ``standardized.csv``; ``rows`` the probed rows (``mols[i]`` parsed from
    ``frame.smiles[rows[i]]``, the atom order of the values).
    """
    level = "atom" if kind == "gnn" and "atom" in trained and "atom" in concepts.matrices else "molecule"
    if level not in trained or level not in concepts.matrices or settings.examples_per_unit <= 0:
        return {}
    units = (top_units or {}).get(level)
    if units is None:
        units = neurons.family_top_units(trained[level], concepts.matrices[level])
    if units.empty:
        return {}
    layer_units = list(zip(units["layer"].astype(int), units["unit"].astype(int)))
    n_atoms = np.array([m.GetNumAtoms() for m in mols])
    offsets = np.concatenate([[0], np.cumsum(n_atoms)])
    if kind == "gnn":
        states = unit_atom_states(model, inputs, n_atoms, layer_units, settings.batch_size)
        scores = np.full((len(mols), len(layer_units)), -np.inf)
        nonempty = n_atoms > 0
        scores[nonempty] = np.maximum.reduceat(states, offsets[:-1][nonempty], axis=0)
        baselines = np.median(states, axis=0)
        values_kind = "activation"
    else:
        if not fingerprint or fingerprint.get("radius") is None or fingerprint.get("n_bits") is None:
            return {}
        scores = np.stack([trained[level][l][:, u] for l, u in layer_units], axis=1)
        baselines = np.zeros(len(layer_units))
        values_kind = "occlusion"
    picked = [
        neurons.pick_examples(scores[:, k], groups, n_atoms, n=settings.examples_per_unit,
                              carriers=concept_carriers(concepts, level, concept, len(mols)))
        for k, concept in enumerate(units["concept"])
    ]
    picks = [[i for i, _ in p] for p in picked]
    occlusion: dict[int, np.ndarray] = {}
    if values_kind == "occlusion":
        chosen = sorted({i for p in picks for i in p})
        values = fingerprint_occlusion(model, inputs(np.asarray(chosen)), [mols[i] for i in chosen], layer_units,
                                       int(fingerprint["radius"]), int(fingerprint["n_bits"]))
        occlusion = dict(zip(chosen, values))
    concept_atoms: dict[tuple[str, str], dict[int, list[int]]] = {}
    for family, group in units.assign(k=range(len(units))).groupby("family", sort=False):
        chosen = sorted({i for k in group["k"] for i in picks[k]})
        found = neurons.concept_atom_sets([mols[i] for i in chosen], family, group["concept"].tolist())
        for concept, atom_lists in found.items():
            concept_atoms[(family, concept)] = dict(zip(chosen, atom_lists))
    out_units = []
    for k, unit in enumerate(units.itertuples(index=False)):
        examples = []
        for i, why in picked[k]:
            values = states[offsets[i] : offsets[i + 1], k] if values_kind == "activation" else occlusion[i][:, k]
            atoms = concept_atoms.get((unit.family, unit.concept), {}).get(i)
            examples.append({
                "row": int(rows[i]), "id": str(frame["id"].iloc[rows[i]]), "smiles": str(frame["smiles"].iloc[rows[i]]),
                "picked": why, "score": round(float(scores[i, k]), 5), "has_concept": None if atoms is None else bool(atoms),
                "concept_atoms": atoms, "atom_values": [round(float(v), 5) for v in values],
            })
        shown = [v for e in examples for v in e["atom_values"]]
        scale = max((abs(v) for v in shown), default=0.0) if values_kind == "occlusion" else max(shown, default=0.0)
        out_units.append({
            "family": unit.family, "layer": int(unit.layer), "unit": int(unit.unit), "concept": unit.concept,
            "auc": round(float(unit.auc), 5), "baseline": round(float(baselines[k]), 5), "scale": round(float(scale), 5),
            "examples": examples,
        })
    meaning = {
        "activation": "the unit's activation (embed atom state) at each atom; score = max over the molecule's atoms; "
                      "baseline = the unit's median over all atoms of the probed molecules",
        "occlusion": "unit(full input) - unit(input without the Morgan count-fingerprint environments that contain "
                     "the atom; descriptors unchanged); positive = the fingerprint features around the atom raise the "
                     "unit; score = the unit's activation for the molecule; baseline 0",
    }[values_kind]
    return {
        "format_version": EXAMPLES_FORMAT, "kind": kind, "network": "trained", "member": settings.member,
        "level": level, "values": values_kind, "values_meaning": meaning,
        "selection": "per concept family and hidden layer, the trained unit with the highest AUC (activation higher "
                     "on positives) for any concept of the family; examples: half the probed molecules with the highest "
                     "score (picked=highest), then the highest-scoring ones that carry the unit's concept "
                     f"(picked=highest_with_concept); one per Murcko scaffold, at most {neurons.EXAMPLE_MAX_ATOMS} heavy atoms",
        "atom_order": "Chem.MolFromSmiles(smiles)",
        "fingerprint": fingerprint if values_kind == "occlusion" else None,
        "units": out_units,
    }


def load_probe_molecules(dataset_dir: str | Path, max_molecules: int | None, seed: int) -> tuple[np.ndarray, list[Chem.Mol]]:
    """Row indices (sorted, seeded random subset of ``standardized.csv``) and their molecules
    parsed with ``Chem.MolFromSmiles`` (the featurizer's atom order); unparsable rows dropped."""
    from drugnet.train.data import read_labels

    frame, _ = read_labels(Path(dataset_dir) / "standardized.csv", [])
    rows = np.arange(len(frame))
    if max_molecules is not None and len(rows) > max_molecules:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_molecules, replace=False))
    mols = [Chem.MolFromSmiles(s) for s in frame["smiles"].to_numpy()[rows]]
    keep = np.array([m is not None for m in mols], dtype=bool)
    return rows[keep], [m for m in mols if m is not None]


def probe_model_dir(
    dataset_dir: str | Path, model_dir: str | Path, settings: AtlasSettings, log: Callable[[str], None] = print
) -> AtlasResult:
    """Atlas of member ``settings.member`` of the ensemble in ``model_dir`` on ``dataset_dir``."""
    from drugnet.train.checkpoint import load_model_dir
    from drugnet.train.data import model_inputs, open_store, read_labels

    torch.set_num_threads(settings.threads)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ensemble = load_model_dir(model_dir)
    if ensemble.kind not in ("gnn", "snn"):
        raise ValueError(f"probing needs a deep model (gnn|snn), {model_dir} holds {ensemble.kind}")
    model = ensemble.members[settings.member]
    member_seed = int((ensemble.member_info[settings.member] if ensemble.member_info else {}).get("seed", settings.member))
    random = random_init_like(model, ensemble.hparams, member_seed)
    rows, mols = load_probe_molecules(dataset_dir, settings.max_molecules, settings.seed)
    levels = ("atom", "molecule") if ensemble.kind == "gnn" else ("molecule",)
    concepts = all_concepts(
        mols, min_positives=settings.min_positives, levels=levels,
        atoms_per_molecule=settings.atoms_per_molecule, seed=settings.seed,
    )
    timings["concepts_s"] = time.perf_counter() - t0
    log(f"{len(mols)} molecules; concepts kept: " + ", ".join(f"{lv}={m.n_concepts}" for lv, m in concepts.matrices.items()))
    store = open_store(Path(dataset_dir) / "features")

    def inputs(positions: np.ndarray) -> Any:
        return model_inputs(store, rows[positions], ensemble.kind, ensemble.use_descriptors)

    atom_keep = None
    if "atom" in concepts.matrices:
        matrix = concepts.matrices["atom"]
        offsets = np.concatenate([[0], np.cumsum([m.GetNumAtoms() for m in mols])])
        atom_keep = offsets[matrix.item_mol] + matrix.item_atom
    counts = np.array([m.GetNumAtoms() for m in mols])
    t1 = time.perf_counter()
    embeddings = {
        name: collect_embeddings(net, inputs, counts, atom_keep, settings.batch_size)
        for name, net in (("trained", model), ("random_init", random))
    }
    timings["embed_s"] = time.perf_counter() - t1
    groups = probes.scaffold_groups(mols)
    is_test_mol = probes.split_molecules(groups, test_fraction=settings.test_fraction, seed=settings.seed)
    t2 = time.perf_counter()
    result = run_atlas(embeddings, concepts, is_test_mol, settings)
    timings["probe_s"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    frame, _ = read_labels(Path(dataset_dir) / "standardized.csv", [])
    fingerprint = {k: dict(getattr(store, "settings", {}) or {}).get(k) for k in ("radius", "n_bits")}
    result.examples = neuron_examples(model, ensemble.kind, inputs, mols, rows, frame, embeddings["trained"], concepts,
                                      groups, settings, fingerprint, result.top_units)
    timings["examples_s"] = time.perf_counter() - t3
    timings["total_s"] = time.perf_counter() - t0
    result.hierarchy.update(
        model_dir=str(model_dir), dataset_dir=str(dataset_dir), kind=ensemble.kind, member=settings.member,
        member_seed=member_seed, random_init=f"build_model(hparams) after torch.manual_seed({member_seed}); "
        "input scaling buffers copied from the trained member", timings=timings,
    )
    return result
