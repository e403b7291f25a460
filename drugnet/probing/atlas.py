"""Concept atlas of a trained model: probes, controls, neurons, hierarchy test, heatmap, files.

`run_atlas` is the array-level core (embeddings per network and level + concept labels);
`probe_model_dir` is the glue that loads a model directory and a dataset directory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

from drugnet.concepts import all_concepts
from drugnet.concepts.catalog import SKIPPED_COLUMNS, ConceptSet
from drugnet.config import schema_default
from drugnet.features.dataset import load_dataset, model_inputs, open_store, read_labels
from drugnet.features.fingerprints import morgan_generator
from drugnet.inference.checkpoint import load_model_dir
from drugnet.io.atomic import atomic_path
from drugnet.io.progress import progress
from drugnet.models.layers import FeatureScaler
from drugnet.models.registry import build_model
from drugnet.probing import (
    ablation,
    hierarchy,
    neurons,
    probes,
    receptive_field,
    replication,
)

NETWORKS = ("trained", "random_init", "control_task")
EXAMPLES_FORMAT = 1


def _members(value: int | str) -> int | None:
    return None if value == "all" else int(value)


@dataclass
class AtlasSettings:
    """Knobs of one atlas run (all recorded in ``hierarchy.json``)."""

    max_molecules: int | None = schema_default("probe.max_molecules")  # x every member
    atoms_per_molecule: int | None = schema_default("probe.atoms_per_molecule")
    min_positives: int = schema_default("probe.min_positives")
    seed: int = schema_default("probe.seed")
    n_boot: int = schema_default("probe.n_boot")
    C: float = 0.1
    test_fraction: float = 0.3
    n_permutations: int = 10_000
    member: int = 0  # the primary member: control task and neuron examples
    # members probed (the first ones of the ensemble); None = all (the schema's "all")
    members: int | None = _members(schema_default("probe.members"))
    batch_size: int = 256
    threads: int = 2
    examples_per_unit: int = neurons.EXAMPLES_PER_UNIT
    # earliest layer of the receptive-field-matched hierarchy test
    matched_layer: int = schema_default("probe.matched_layer")
    ablation: bool = schema_default("probe.ablation")
    ablation_k: int = schema_default("probe.ablation_k")
    ablation_draws: int = schema_default("probe.ablation_draws")
    extra_models: dict[str, str] = field(
        default_factory=dict
    )  # name -> model dir probed as one more network


@dataclass
class AtlasResult:
    probes: pd.DataFrame
    neurons: pd.DataFrame
    detectors: pd.DataFrame
    hierarchy: dict
    skipped: pd.DataFrame
    selectivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    examples: dict = field(default_factory=dict)  # neuron_examples.json (probe_model_dir)
    top_units: dict[str, pd.DataFrame] = field(
        default_factory=dict
    )  # level -> neurons.family_top_units
    family_selectivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    receptive_field: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=receptive_field.RECEPTIVE_FIELD_COLUMNS)
    )
    ablation: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=ablation.ABLATION_COLUMNS)
    )
    unit_aucs: dict[int, dict[str, list[np.ndarray]]] = field(
        default_factory=dict
    )  # member -> level -> layers


@dataclass
class MemberTables:
    """What probing one member produces (before the cross-member summary)."""

    probes: list[pd.DataFrame] = field(default_factory=list)
    neurons: list[pd.DataFrame] = field(default_factory=list)
    detectors: list[pd.DataFrame] = field(default_factory=list)
    top_units: dict[str, pd.DataFrame] = field(default_factory=dict)
    unit_aucs: dict[str, list[np.ndarray]] = field(default_factory=dict)
    levels: dict[str, dict] = field(default_factory=dict)


def probe_member(
    embeddings: dict[str, dict[str, list[np.ndarray]]],
    concepts: ConceptSet,
    is_test_mol: np.ndarray,
    settings: AtlasSettings,
    *,
    member: int,
    control: bool,
) -> MemberTables:
    """Probes (trained, random_init and, when ``control``, the control task), neurons and detector
    counts of one member; every table gets a ``member`` column."""
    out = MemberTables()
    bar = progress(
        (2 + control) * len(concepts.matrices),
        "probe",
        f"probe sets (member {member})",
        interval=10.0,
    )
    kw = {"n_boot": settings.n_boot, "C": settings.C, "seed": settings.seed, "member": member}
    for level, matrix in concepts.matrices.items():
        if level not in embeddings["trained"] or matrix.n_concepts == 0:
            continue
        is_test_item = is_test_mol[matrix.item_mol]
        trained, random = embeddings["trained"][level], embeddings["random_init"][level]
        table_trained = probes.probe_layers(trained, matrix, is_test_item, network="trained", **kw)
        bar.update()
        # layers identical to the trained ones (the input layer) are not refitted: same numbers
        same = [
            layer for layer in range(len(random)) if np.array_equal(random[layer], trained[layer])
        ]
        differ = [layer for layer in range(len(random)) if layer not in same]
        table_random = probes.probe_layers(
            [random[layer] for layer in differ], matrix, is_test_item, network="random_init", **kw
        )
        table_random["layer"] = (
            np.asarray(differ)[table_random["layer"].to_numpy()]
            if differ
            else table_random["layer"]
        )
        bar.update()
        copied = table_trained[table_trained["layer"].isin(same)].assign(network="random_init")
        out.probes += [table_trained, pd.concat([copied, table_random])]
        for name, extra in embeddings.items():
            if name not in NETWORKS and level in extra:  # extra networks (pretrained encoders)
                out.probes.append(
                    probes.probe_layers(extra[level], matrix, is_test_item, network=name, **kw)
                )
        if control:
            out.probes.append(
                probes.probe_layers(
                    trained,
                    probes.control_task_concepts(matrix, seed=settings.seed),
                    is_test_item,
                    network="control_task",
                    **kw,
                )
            )
            bar.update()
        for network, layers in (("trained", trained), ("random_init", random)):
            aucs = neurons.layer_aucs(layers, matrix)
            table, strengths = neurons.neuron_table(layers, matrix, network=network, aucs=aucs)
            if network == "trained":
                out.top_units[level] = neurons.family_top_units(None, matrix, aucs=aucs)
                out.unit_aucs[level] = aucs
            out.neurons.append(table.assign(member=member))
            out.detectors.append(
                neurons.detector_counts(strengths, matrix, network=network).assign(member=member)
            )
        out.levels[level] = {
            "n_items": len(matrix.item_mol),
            "n_test_items": int(is_test_item.sum()),
            "n_concepts": matrix.n_concepts,
            "n_layers": len(trained),
        }
    return out


def run_atlas(
    embeddings: dict,
    concepts: ConceptSet,
    is_test_mol: np.ndarray,
    settings: AtlasSettings,
) -> AtlasResult:
    """Probe, control and analyse one or several ensemble members.

    ``embeddings[network][level]`` (network ``trained`` / ``random_init``) is a list of layers,
    each ``[n_items, d]`` aligned with ``concepts.matrices[level]``; several members are passed as
    ``{member: embeddings}`` (same items). ``is_test_mol`` marks the probe test molecules (whole
    scaffolds). The control task (primary member only: ``settings.member`` when probed, else the
    first) reuses the trained embeddings with labels moved between molecules.
    """
    by_member = (
        embeddings if all(isinstance(k, int) for k in embeddings) else {settings.member: embeddings}
    )
    primary = settings.member if settings.member in by_member else min(by_member)
    parts = {
        m: probe_member(emb, concepts, is_test_mol, settings, member=m, control=m == primary)
        for m, emb in sorted(by_member.items())
    }
    probe_table = (
        pd.concat([t for p in parts.values() for t in p.probes], ignore_index=True)
        .sort_values(["level", "family", "concept", "network", "member", "layer"], kind="stable")[
            probes.PROBE_COLUMNS
        ]
        .reset_index(drop=True)
    )
    selectivity = hierarchy.selectivity_table(probe_table)
    detectors = pd.concat([t for p in parts.values() for t in p.detectors], ignore_index=True)
    levels = parts[primary].levels
    summary = summarize(probe_table, selectivity, settings, levels)
    summary.update(
        detector_units=detectors.to_dict(orient="records"),
        items=levels,
        n_molecules=len(is_test_mol),
        n_test_molecules=int(is_test_mol.sum()),
        settings=asdict(settings),
        primary_member=primary,
        probed_members=sorted(by_member),
    )
    rf_table = pd.DataFrame(columns=receptive_field.RECEPTIVE_FIELD_COLUMNS)
    if "atom" in levels:  # a graph network: layers have a receptive field
        rf_table = receptive_field.receptive_field_table(
            probe_table, replication.member_peaks(selectivity)
        )
        summary["receptive_field"] = receptive_field_summary(
            rf_table, selectivity, levels, settings
        )
    return AtlasResult(
        probes=probe_table,
        neurons=pd.concat([t for p in parts.values() for t in p.neurons], ignore_index=True),
        detectors=detectors,
        hierarchy=summary,
        skipped=concepts.skipped,
        selectivity=selectivity,
        top_units=parts[primary].top_units,
        family_selectivity=replication.family_selectivity(selectivity),
        receptive_field=rf_table,
        unit_aucs={m: p.unit_aucs for m, p in parts.items()},
    )


def summarize(
    probe_table: pd.DataFrame, selectivity: pd.DataFrame, settings: AtlasSettings, levels: dict
) -> dict:
    """Per-member and combined hierarchy tests, verdict, agreement, peak distributions, controls."""
    kw = {"n_permutations": settings.n_permutations, "seed": settings.seed}
    peaks = replication.member_peaks(selectivity)
    tests = replication.level_tests(peaks, **kw)
    per_member = replication.member_tests(peaks, **kw)
    holds = {
        lv: sum(t[lv]["verdict"].startswith("HOLDS") for t in per_member.values() if lv in t)
        for lv in tests
    }
    verdict = " | ".join(
        f"{level}-level concepts: {t['verdict']} "
        f"[{'combined over ' + str(len(per_member)) + ' members; ' if len(per_member) > 1 else ''}"
        f"holds in {holds[level]}/{len(per_member)} member(s) alone]"
        for level, t in tests.items()
    )
    return {
        "question": "does selectivity (trained - random_init probe AUC) peak in earlier layers for "
        "functional groups than interaction centers than pharmacophores?",
        "verdict": verdict,
        "tests": tests,
        "members": {
            str(m): {
                "tests": t,
                "verdict": " | ".join(
                    f"{lv}-level concepts: {x['verdict']}" for lv, x in t.items()
                ),
            }
            for m, t in per_member.items()
        },
        "agreement": replication.agreement(peaks),
        "peak_layers": hierarchy.family_peak_distribution(peaks),
        "peaks_per_concept": peaks.to_dict(orient="records"),
        "control_task_mean_auc": {
            level: float(
                probe_table[(probe_table.network == "control_task") & (probe_table.level == level)][
                    "auc"
                ].mean()
            )
            for level in levels
        },
    }


def receptive_field_summary(
    table: pd.DataFrame, selectivity: pd.DataFrame, levels: dict, settings: AtlasSettings
) -> dict:
    """Per level: the distance-vs-first-decodable-layer test and the receptive-field-matched
    hierarchy test."""
    kw = {"n_permutations": settings.n_permutations, "seed": settings.seed}
    out = {}
    for level, info in levels.items():
        n_layers = info["n_layers"] - 1
        out[level] = {
            "bound": "first layer = distance (atom state sees its partner)"
            if level == "atom"
            else "first layer = ceil(distance / 2) (the middle atom sees both features)",
            "distance_test": receptive_field.distance_test(
                table[table.level == level], n_layers, **kw
            ),
            "matched_test": receptive_field.matched_hierarchy_test(
                selectivity, level, settings.matched_layer, **kw
            ),
        }
    return out


def plot_selectivity(selectivity: pd.DataFrame, png: Path, svg: Path) -> None:
    """Heatmap concept x layer of trained - random_init AUC, one panel per level, rows grouped by
    family (the lowest member when ``selectivity`` has several)."""
    if "member" in selectivity.columns and len(selectivity):
        selectivity = selectivity[selectivity["member"] == selectivity["member"].min()]
    levels = sorted(selectivity["level"].unique())
    heights = [max(selectivity[selectivity.level == lv]["concept"].nunique(), 1) for lv in levels]
    fig, axes = plt.subplots(
        1,
        max(len(levels), 1),
        figsize=(5 * max(len(levels), 1), 2 + 0.07 * max(heights, default=1)),
        squeeze=False,
    )
    order = {f: i for i, f in enumerate(hierarchy.FAMILY_ORDER)}
    image = None
    for ax, level in zip(axes[0], levels, strict=False):
        sub = selectivity[selectivity.level == level]
        grid = sub.set_index(["family", "concept", "layer"])["selectivity"].unstack("layer")
        peak = grid.fillna(-np.inf).to_numpy().argmax(axis=1)
        rank = [
            (order.get(f, len(order)), p, c) for (f, c), p in zip(grid.index, peak, strict=False)
        ]
        grid = grid.iloc[sorted(range(len(rank)), key=rank.__getitem__)]  # family, then peak layer
        image = ax.imshow(
            grid.to_numpy(dtype=float),
            aspect="auto",
            cmap="RdBu_r",
            vmin=-0.5,
            vmax=0.5,
            interpolation="nearest",
        )
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
        fig.colorbar(
            image, ax=axes[0].tolist(), label="selectivity (AUC trained - random init)", shrink=0.5
        )
    for path in (png, svg):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:], dpi=150)
    plt.close(fig)


def write_atlas(result: AtlasResult, output_dir: str | Path) -> None:
    """``probes.csv neurons.csv skipped_concepts.csv family_selectivity.csv receptive_field.csv
    ablation.csv hierarchy.json selectivity_heatmap.{png,svg} neuron_examples.json`` (the last with
    ``"units": []`` when no examples were computed; the receptive-field and ablation CSVs with their
    header only when not applicable), plus ``receptive_field.{png,svg}`` (graph networks) and
    ``ablation.{png,svg}`` when there are rows to plot."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (
        ("probes.csv", result.probes),
        ("neurons.csv", result.neurons),
        ("skipped_concepts.csv", result.skipped[SKIPPED_COLUMNS]),
        (
            "family_selectivity.csv",
            result.family_selectivity.reindex(columns=replication.FAMILY_SELECTIVITY_COLUMNS),
        ),
        (
            "receptive_field.csv",
            result.receptive_field.reindex(columns=receptive_field.RECEPTIVE_FIELD_COLUMNS),
        ),
        ("ablation.csv", result.ablation.reindex(columns=ablation.ABLATION_COLUMNS)),
    ):
        with atomic_path(out / name) as tmp:
            frame.to_csv(tmp, index=False)
    plot_selectivity(
        result.selectivity, out / "selectivity_heatmap.png", out / "selectivity_heatmap.svg"
    )
    if len(result.receptive_field):
        n_layers = max(info["n_layers"] for info in result.hierarchy["items"].values()) - 1
        receptive_field.plot_distance_vs_layer(
            result.receptive_field,
            n_layers,
            out / "receptive_field.png",
            out / "receptive_field.svg",
        )
    if len(result.ablation):
        ablation.plot_ablation(result.ablation, out / "ablation.png", out / "ablation.svg")
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
                raise ValueError(
                    "featurized atom count differs from RDKit's: atom order cannot be matched"
                )
            lo, hi = np.searchsorted(atom_keep, [offsets[start], offsets[stop]])
            local = atom_keep[lo:hi] - offsets[start]
            atom_parts.append(
                [layer.atom[torch.as_tensor(local)].float().numpy() for layer in layers]
            )
    out = {"molecule": [np.concatenate(parts) for parts in zip(*mol_parts, strict=False)]}
    if atom_parts:
        out["atom"] = [np.concatenate(parts) for parts in zip(*atom_parts, strict=False)]
    return out


@torch.no_grad()
def unit_atom_states(
    model: torch.nn.Module,
    inputs: Callable[[np.ndarray], Any],
    atom_counts: np.ndarray,
    layer_units: list[tuple[int, int]],
    batch_size: int = 256,
) -> np.ndarray:
    """``[n_atoms_total, len(layer_units)]``: atom states (``model.embed``) of the given (layer,
    unit) pairs for every atom of molecules ``0..n-1``, in molecule order then RDKit atom order."""
    model.eval()
    offsets = np.concatenate([[0], np.cumsum(atom_counts)])
    parts = []
    for start in range(0, len(atom_counts), batch_size):
        stop = min(start + batch_size, len(atom_counts))
        layers = model.embed(inputs(np.arange(start, stop)))
        if layers[0].atom is None or layers[0].atom.shape[0] != offsets[stop] - offsets[start]:
            raise ValueError(
                "featurized atom count differs from RDKit's: atom order cannot be matched"
            )
        parts.append(
            torch.stack([layers[layer].atom[:, u] for layer, u in layer_units], dim=1)
            .float()
            .numpy()
        )
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
    model: torch.nn.Module,
    features: torch.Tensor,
    mols: list[Chem.Mol],
    layer_units: list[tuple[int, int]],
    radius: int,
    n_bits: int,
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
    values = (
        torch.stack(
            [full[layer].mol[owner, u] - parts[layer].mol[:, u] for layer, u in layer_units], dim=1
        )
        .float()
        .numpy()
    )
    return np.split(values, np.cumsum(sizes)[:-1])


def concept_carriers(
    concepts: ConceptSet, level: str, concept: str, n_mols: int
) -> np.ndarray | None:
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
    """``neuron_examples.json``: for each concept family and hidden layer the trained unit that
    fires most selectively on a concept of the family (`neurons.family_top_units`; atom level for a
    GNN, molecule level for an SNN), and the probed molecules where it is highest (one per scaffold,
    at most `neurons.EXAMPLE_MAX_ATOMS` heavy atoms) with one value per atom:

    * gnn: the unit's activation at each atom (``embed`` atom states; the molecule score is the
      maximum over its atoms);
    * snn (no atoms in the model): fingerprint occlusion (`fingerprint_occlusion`) with the
      featurizer's Morgan ``radius``/``n_bits`` from ``fingerprint``.

    ``frame`` is ``standardized.csv``; ``rows`` the probed rows (``mols[i]`` parsed from
    ``frame.smiles[rows[i]]``, the atom order of the values).
    """
    level = (
        "atom"
        if kind == "gnn" and "atom" in trained and "atom" in concepts.matrices
        else "molecule"
    )
    if level not in trained or level not in concepts.matrices or settings.examples_per_unit <= 0:
        return {}
    units = (top_units or {}).get(level)
    if units is None:
        units = neurons.family_top_units(trained[level], concepts.matrices[level])
    if units.empty:
        return {}
    layer_units = list(zip(units["layer"].astype(int), units["unit"].astype(int), strict=False))
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
        if (
            not fingerprint
            or fingerprint.get("radius") is None
            or fingerprint.get("n_bits") is None
        ):
            return {}
        scores = np.stack([trained[level][layer][:, u] for layer, u in layer_units], axis=1)
        baselines = np.zeros(len(layer_units))
        values_kind = "occlusion"
    picked = [
        neurons.pick_examples(
            scores[:, k],
            groups,
            n_atoms,
            n=settings.examples_per_unit,
            carriers=concept_carriers(concepts, level, concept, len(mols)),
        )
        for k, concept in enumerate(units["concept"])
    ]
    picks = [[i for i, _ in p] for p in picked]
    occlusion: dict[int, np.ndarray] = {}
    if values_kind == "occlusion":
        chosen = sorted({i for p in picks for i in p})
        values = fingerprint_occlusion(
            model,
            inputs(np.asarray(chosen)),
            [mols[i] for i in chosen],
            layer_units,
            int(fingerprint["radius"]),
            int(fingerprint["n_bits"]),
        )
        occlusion = dict(zip(chosen, values, strict=False))
    concept_atoms: dict[tuple[str, str], dict[int, list[int]]] = {}
    for family, group in units.assign(k=range(len(units))).groupby("family", sort=False):
        chosen = sorted({i for k in group["k"] for i in picks[k]})
        found = neurons.concept_atom_sets(
            [mols[i] for i in chosen], family, group["concept"].tolist()
        )
        for concept, atom_lists in found.items():
            concept_atoms[(family, concept)] = dict(zip(chosen, atom_lists, strict=False))
    out_units = []
    for k, unit in enumerate(units.itertuples(index=False)):
        examples = []
        for i, why in picked[k]:
            values = (
                states[offsets[i] : offsets[i + 1], k]
                if values_kind == "activation"
                else occlusion[i][:, k]
            )
            atoms = concept_atoms.get((unit.family, unit.concept), {}).get(i)
            examples.append(
                {
                    "row": int(rows[i]),
                    "id": str(frame["id"].iloc[rows[i]]),
                    "smiles": str(frame["smiles"].iloc[rows[i]]),
                    "picked": why,
                    "score": round(float(scores[i, k]), 5),
                    "has_concept": None if atoms is None else bool(atoms),
                    "concept_atoms": atoms,
                    "atom_values": [round(float(v), 5) for v in values],
                }
            )
        shown = [v for e in examples for v in e["atom_values"]]
        scale = (
            max((abs(v) for v in shown), default=0.0)
            if values_kind == "occlusion"
            else max(shown, default=0.0)
        )
        out_units.append(
            {
                "family": unit.family,
                "layer": int(unit.layer),
                "unit": int(unit.unit),
                "concept": unit.concept,
                "auc": round(float(unit.auc), 5),
                "baseline": round(float(baselines[k]), 5),
                "scale": round(float(scale), 5),
                "examples": examples,
            }
        )
    meaning = {
        "activation": "the unit's activation (embed atom state) at each atom; score = max over the "
        "molecule's atoms; baseline = the unit's median over all atoms of the probed molecules",
        "occlusion": "unit(full input) - unit(input without the Morgan count-fingerprint "
        "environments that contain the atom; descriptors unchanged); positive = the fingerprint "
        "features around the atom raise the unit; score = the unit's activation for the molecule; "
        "baseline 0",
    }[values_kind]
    return {
        "format_version": EXAMPLES_FORMAT,
        "kind": kind,
        "network": "trained",
        "member": settings.member,
        "level": level,
        "values": values_kind,
        "values_meaning": meaning,
        "selection": "per concept family and hidden layer, the trained unit with the highest AUC "
        "(activation higher on positives) for any concept of the family; examples: half the probed "
        "molecules with the highest score (picked=highest), then the highest-scoring ones that "
        "carry the unit's concept (picked=highest_with_concept); one per Murcko scaffold, at most "
        f"{neurons.EXAMPLE_MAX_ATOMS} heavy atoms",
        "atom_order": "Chem.MolFromSmiles(smiles)",
        "fingerprint": fingerprint if values_kind == "occlusion" else None,
        "units": out_units,
    }


def load_probe_molecules(
    dataset_dir: str | Path, max_molecules: int | None, seed: int
) -> tuple[np.ndarray, list[Chem.Mol]]:
    """Row indices (sorted, seeded random subset of ``standardized.csv``) and their molecules
    parsed with ``Chem.MolFromSmiles`` (the featurizer's atom order); unparsable rows dropped."""
    frame, _ = read_labels(Path(dataset_dir) / "standardized.csv", [])
    rows = np.arange(len(frame))
    if max_molecules is not None and len(rows) > max_molecules:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_molecules, replace=False))
    mols = [Chem.MolFromSmiles(s) for s in frame["smiles"].to_numpy()[rows]]
    keep = np.array([m is not None for m in mols], dtype=bool)
    return rows[keep], [m for m in mols if m is not None]


def probe_model_dir(
    dataset_dir: str | Path,
    model_dir: str | Path,
    settings: AtlasSettings,
    log: Callable[[str], None] = print,
) -> AtlasResult:
    """Atlas of the first ``settings.members`` members (all when None) of the ensemble in
    ``model_dir`` on ``dataset_dir``; control task and neuron examples for ``settings.member``;
    ablation of detector units on the validation split when ``settings.ablation``."""
    torch.set_num_threads(settings.threads)
    timings: dict[str, float] = {}
    t0, cpu0 = time.perf_counter(), time.process_time()
    # the selection fit: its validation rows are held out, so the ablation's validation ROC-AUC is
    # measured on molecules the probed members never trained on (a refit saw them)
    ensemble = load_model_dir(model_dir, fit="selection")
    if ensemble.kind not in ("gnn", "snn"):
        raise ValueError(f"probing needs a deep model (gnn|snn), {model_dir} holds {ensemble.kind}")
    members = probed_members(len(ensemble.members), settings)
    seeds = {
        m: int((ensemble.member_info[m] if ensemble.member_info else {}).get("seed", m))
        for m in members
    }
    rows, mols = load_probe_molecules(dataset_dir, settings.max_molecules, settings.seed)
    levels = ("atom", "molecule") if ensemble.kind == "gnn" else ("molecule",)
    concepts = all_concepts(
        mols,
        min_positives=settings.min_positives,
        levels=levels,
        atoms_per_molecule=settings.atoms_per_molecule,
        seed=settings.seed,
    )
    timings["concepts_s"] = time.perf_counter() - t0
    log(
        f"{len(mols)} molecules, members {members}; concepts kept: "
        + ", ".join(f"{lv}={m.n_concepts}" for lv, m in concepts.matrices.items())
    )
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
        m: {
            name: collect_embeddings(net, inputs, counts, atom_keep, settings.batch_size)
            for name, net in (
                ("trained", ensemble.members[m]),
                ("random_init", random_init_like(ensemble.members[m], ensemble.hparams, seeds[m])),
            )
        }
        for m in members
    }
    primary = settings.member
    for name, extra_dir in settings.extra_models.items():
        embeddings[primary][name] = extra_embeddings(
            name, extra_dir, store, rows, counts, atom_keep, settings
        )
    timings["embed_s"] = time.perf_counter() - t1
    groups = probes.scaffold_groups(mols)
    is_test_mol = probes.split_molecules(
        groups, test_fraction=settings.test_fraction, seed=settings.seed
    )
    t2 = time.perf_counter()
    result = run_atlas(embeddings, concepts, is_test_mol, settings)
    timings["probe_s"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    primary = result.hierarchy["primary_member"]
    frame, _ = read_labels(Path(dataset_dir) / "standardized.csv", [])
    fingerprint = {
        k: dict(getattr(store, "settings", {}) or {}).get(k) for k in ("radius", "n_bits")
    }
    result.examples = neuron_examples(
        ensemble.members[primary],
        ensemble.kind,
        inputs,
        mols,
        rows,
        frame,
        embeddings[primary]["trained"],
        concepts,
        groups,
        replace(settings, member=primary),
        fingerprint,
        result.top_units,
    )
    timings["examples_s"] = time.perf_counter() - t3
    t4 = time.perf_counter()
    result.ablation, result.hierarchy["ablation"] = run_ablation(
        dataset_dir, ensemble, embeddings, concepts, result, settings, store
    )
    timings["ablation_s"] = time.perf_counter() - t4
    timings["total_s"] = time.perf_counter() - t0
    timings["cpu_s"] = (
        time.process_time() - cpu0
    )  # all threads; compare with total_s to see machine load
    result.hierarchy.update(
        model_dir=str(model_dir),
        dataset_dir=str(dataset_dir),
        kind=ensemble.kind,
        fit="selection",
        member=primary,
        member_seed=seeds[primary],
        member_seeds={str(m): s for m, s in seeds.items()},
        random_init="per member: build_model(hparams) after torch.manual_seed(member seed); "
        "input scaling buffers copied from the trained member",
        timings=timings,
    )
    return result


def extra_embeddings(
    name: str,
    model_dir: str | Path,
    store: Any,
    rows: np.ndarray,
    counts: np.ndarray,
    atom_keep: np.ndarray | None,
    settings: AtlasSettings,
) -> dict[str, list[np.ndarray]]:
    """Embeddings of member 0 of another gnn/snn model directory on the probed items (an extra
    network)."""
    if name in NETWORKS:
        raise ValueError(f"extra network name {name!r} is reserved ({', '.join(NETWORKS)})")
    extra = load_model_dir(model_dir)
    if extra.kind not in ("gnn", "snn"):
        raise ValueError(
            f"extra network {name}: {model_dir} holds {extra.kind}, probing needs gnn|snn"
        )
    return collect_embeddings(
        extra.members[0],
        lambda pos: model_inputs(store, rows[pos], extra.kind, extra.use_descriptors),
        counts,
        atom_keep,
        settings.batch_size,
    )


def probed_members(n_members: int, settings: AtlasSettings) -> list[int]:
    """Members ``0..members-1`` (all when ``settings.members`` is None); the primary member must
    exist."""
    if settings.member >= n_members or settings.member < 0:
        raise ValueError(
            f"member {settings.member} does not exist: the ensemble has {n_members} member(s)"
        )
    if settings.members is not None and settings.members < 1:
        raise ValueError(f"probe.members must be >= 1 (or all), got {settings.members}")
    count = n_members if settings.members is None else min(settings.members, n_members)
    return sorted(set(range(count)) | {settings.member})


def run_ablation(
    dataset_dir: str | Path,
    ensemble: Any,
    embeddings: dict,
    concepts: ConceptSet,
    result: AtlasResult,
    settings: AtlasSettings,
    store: Any,
) -> tuple[pd.DataFrame, dict]:
    """`ablation.ablation_table` of every probed member on the validation split (classification
    only), unit means from the probed items; returns the table and a summary for
    ``hierarchy.json``."""
    empty = pd.DataFrame(columns=ablation.ABLATION_COLUMNS)
    if not settings.ablation:
        return empty, {"status": "off (probe.ablation: false)"}
    if ensemble.task != "classification":
        return empty, {
            "status": "skipped: validation ROC-AUC needs a classification task, this model is "
            f"{ensemble.task}"
        }
    data = load_dataset(dataset_dir, ensemble.targets, store=store)
    val = data.indices("val")
    if len(val) == 0:
        return empty, {"status": "skipped: the dataset has no validation rows"}
    level = "atom" if ensemble.kind == "gnn" else "molecule"

    def inputs(positions: np.ndarray) -> Any:
        return model_inputs(store, val[positions], ensemble.kind, ensemble.use_descriptors)

    tables = []
    for member, emb in embeddings.items():
        aucs = result.unit_aucs[member].get(level)
        if not aucs:
            continue
        means = [
            np.asarray(layer, dtype=np.float64).mean(axis=0) for layer in emb["trained"][level][1:]
        ]
        tables.append(
            ablation.ablation_table(
                ensemble.members[member],
                inputs,
                data.y[val],
                ensemble.targets,
                aucs,
                means,
                concepts.matrices[level],
                member=member,
                k=settings.ablation_k,
                draws=settings.ablation_draws,
                seed=settings.seed,
                batch_size=settings.batch_size,
            )
        )
    table = pd.concat(tables, ignore_index=True) if tables else empty
    return table, ablation_summary(table, level, len(val))


def ablation_summary(table: pd.DataFrame, level: str, n_val: int) -> dict:
    """Mean over tasks and members of the top-k and random-k drops per family and layer."""
    excess = ablation.excess_drops(table) if len(table) else pd.DataFrame()
    rows = []
    if len(excess):
        grouped = excess.groupby(["family", "layer"])[
            ["top_drop", "random_mean_drop", "excess_drop"]
        ].mean()
        rows = grouped.reset_index().to_dict(orient="records")
    return {
        "status": "done",
        "level": level,
        "n_validation_molecules": int(n_val),
        "replacement": "unit mean over the probed items (mean ablation)",
        "per_family_layer": rows,
    }
