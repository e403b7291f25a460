"""A small synthetic results tree with real molecules, in the formats the pipeline writes."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from drugnet.chem.curation import standardize_file, write_standardize_outputs
from drugnet.chem.splitting import split_frame
from drugnet.train.metrics import score

# real drugs and drug-like molecules (a few repeated/invalid rows exercise merging and rejects)
SMILES = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "CC(=O)Nc1ccc(O)cc1",
    "COc1ccc2[nH]cc(CCN(C)C)c2c1",
    "CN(C)CCCN1c2ccccc2CCc2ccccc21",
    "Clc1ccc(cc1)C(c1ccccc1)N1CCN(CC1)CCOCC(=O)O",
    "OC(=O)c1ccccc1O",
    "CC(C)NCC(O)COc1cccc2ccccc12",
    "CN1CCC[C@H]1c1cccnc1",
    "O=C(O)Cc1ccccc1Nc1c(Cl)cccc1Cl",
    "CC12CCC3c4ccc(O)cc4CCC3C1CCC2O",
    "NC(=O)c1cnccn1",
    "CCOC(=O)C1=C(C)NC(C)=C(C1c1cccc(c1)[N+](=O)[O-])C(=O)OC",
    "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21",
    "Nc1ccc(cc1)S(=O)(=O)Nc1ccccn1",
    "CC(C)(C)NCC(O)c1ccc(O)c(CO)c1",
    "COc1cc2c(cc1OC)C(=O)C(CC1CCN(Cc3ccccc3)CC1)C2",
    "OCC1OC(O)C(O)C(O)C1O",
    "c1ccc2c(c1)ccc1ccccc12",
    "CCN(CC)CC(=O)Nc1c(C)cccc1C",
    "CC(=O)OCC(=O)C1(O)CCC2C3CCC4=CC(=O)CCC4(C)C3C(O)CC21C",
    "Cn1cnc(c1)CC1COC(=O)C1CC",
    "FC(F)(F)c1ccc(OC(CCNC)c2ccccc2)cc1",
    "CC(N)Cc1ccccc1",
    "OC(=O)CCCc1ccc(N(CCCl)CCCl)cc1",
    "CS(=O)(=O)Nc1ccc(cc1)C(O)CNC(C)C",
    "NC(=N)NC(=N)N(C)C",
    "Oc1ccc(cc1)C(=O)c1ccccc1",
    "CCCCC(CC)COC(=O)c1ccccc1C(=O)OCC(CC)CCCC",
    "c1ccc(cc1)-c1ccccc1",
    "CC(=O)Oc1ccccc1C(=O)O",
    "not_a_smiles",
    "C1CC1N",
    "ClCCl",
    "OC(=O)C(F)(F)F",
    "CCCCCCCCCCCCCCCC(=O)O",
    "Brc1ccc(Br)cc1",
    "O=[N+]([O-])c1ccc(Cl)cc1",
    "CCOc1ccc(NC(C)=O)cc1",
]
TARGETS = ["NR-AR", "SR-ARE"]


def _write_input(path: Path, rng: np.random.Generator) -> None:
    rows = []
    for i, smi in enumerate(SMILES):
        labels = [str(int(v)) if v < 2 else "" for v in rng.integers(0, 3, size=len(TARGETS))]
        if i == 5:
            labels[0] = "maybe"  # rejected: non_numeric_label:NR-AR
        rows.append(
            {"sample_id": f"T{i:03d}", "smiles": smi, **dict(zip(TARGETS, labels, strict=False))}
        )
    pd.DataFrame(rows).to_csv(path, index=False)


def _standardize(
    src: Path, folder: Path, targets: list[str], task: str, id_column: str
) -> pd.DataFrame:
    out = standardize_file(
        src, smiles_column="smiles", id_column=id_column, targets=targets, task=task, n_jobs=1
    )
    folder.mkdir(parents=True, exist_ok=True)
    write_standardize_outputs(
        out,
        folder / "standardized.csv",
        folder / "rejects.csv",
        folder / "standardize_summary.json",
    )
    return out.standardized


def _predictions(
    std: pd.DataFrame,
    split: pd.Series,
    targets: list[str],
    rng: np.random.Generator,
    task: str,
    quality: float,
) -> tuple[dict, pd.DataFrame]:
    """Metrics (real scorer) and a prediction table (``id, smiles, <t>, <t>.std, <t>.true``) per
    split."""
    metrics, test_table = {}, None
    y_all = std[targets].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    for name in ("train", "val", "test"):
        idx = np.flatnonzero(split.to_numpy() == name)
        y = y_all[idx]
        noise = rng.normal(size=y.shape)
        if task == "classification":
            pred = 1 / (1 + np.exp(-(quality * (np.nan_to_num(y, nan=0.5) - 0.5) * 2 + noise)))
        else:
            pred = np.nan_to_num(y, nan=0.0) + noise / quality
        metrics[name] = score(task, y, pred, targets)
        if name == "test":
            cols: dict[str, object] = {
                "id": std["id"].to_numpy()[idx],
                "smiles": std["smiles"].to_numpy()[idx],
            }
            for t, target in enumerate(targets):
                cols[target] = pred[:, t]
                cols[f"{target}.std"] = np.abs(rng.normal(0.05, 0.02, len(idx)))
                cols[f"{target}.true"] = y[:, t]
            test_table = pd.DataFrame(cols)
    return metrics, test_table


def _history(path: Path, rng: np.random.Generator) -> None:
    rows = [
        {
            "member": k,
            "epoch": e,
            "train_loss": 0.7 * np.exp(-e / 8) + 0.05 * rng.random(),
            "val_metric": 0.6 + 0.2 * (1 - np.exp(-e / 5)) + 0.02 * rng.random(),
            "lr": 1e-3,
            "seconds": 0.1,
        }
        for k in range(2)
        for e in range(1, 16)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)


CONCEPTS = [
    ("fr_C=O", "functional_group"),
    ("fr_ester", "functional_group"),
    ("fr_benzene", "functional_group"),
    ("Donor", "interaction_center"),
    ("Aromatic", "interaction_center"),
    ("Acceptor", "interaction_center"),
    ("HA-HD:4", "pharmacophore"),
    ("AR-HA:3", "pharmacophore"),
]


def _probes(folder: Path, rng: np.random.Generator, n_layers: int = 3) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for level in ("atom", "molecule"):
        for concept, family in CONCEPTS:
            base = 0.55 + 0.3 * rng.random()
            for layer in range(n_layers + 1):
                for network in ("trained", "random_init", "control_task"):
                    if network == "control_task":
                        auc = 0.5 + 0.03 * rng.normal()
                    elif layer == 0:
                        auc = base
                    else:
                        auc = min(
                            0.99,
                            base
                            + (0.05 * layer if network == "trained" else -0.02 * layer)
                            + 0.02 * rng.random(),
                        )
                    rows.append(
                        {
                            "concept": concept,
                            "family": family,
                            "level": level,
                            "layer": layer,
                            "network": network,
                            "auc": auc,
                            "ci_low": auc - 0.05,
                            "ci_high": min(1.0, auc + 0.05),
                            "n_pos": 40,
                            "n_neg": 200,
                        }
                    )
    probes = pd.DataFrame(rows)
    probes.to_csv(folder / "probes.csv", index=False)
    neurons = [
        {
            "network": net,
            "level": level,
            "layer": layer,
            "unit": unit,
            "best_concept": c,
            "best_family": f,
            "auc": 0.6 + 0.39 * rng.random(),
            "sign": int(rng.choice([-1, 1])),
        }
        for net in ("trained", "random_init")
        for level in ("atom", "molecule")
        for layer in range(1, n_layers + 1)
        for unit, (c, f) in enumerate(CONCEPTS)
    ]
    neurons = pd.DataFrame(neurons)
    neurons.loc[
        (neurons.network == "trained")
        & (neurons.level == "atom")
        & (neurons.best_concept == "Aromatic"),
        ["auc", "sign"],
    ] = [0.995, 1]
    neurons.to_csv(folder / "neurons.csv", index=False)
    tests = {
        level: {
            "statistic": "spearman(family rank, peak layer)",
            "n_concepts": 8,
            "n_permutations": 10000,
            "seed": 0,
            "alpha": 0.05,
            "rho": 0.21,
            "p_value": 0.31,
            "verdict": (
                "DOES NOT HOLD at alpha=0.05: no significant increase "
                "(Spearman rho=0.210, permutation p=0.31)"
            ),
        }
        for level in ("atom", "molecule")
    }
    hierarchy = {
        "verdict": " | ".join(f"{lv}-level concepts: {t['verdict']}" for lv, t in tests.items()),
        "tests": tests,
        "peak_layers": {
            "atom": {
                "functional_group": {
                    "peak_layer_counts": {"1": 2, "3": 1},
                    "median_peak_layer": 1.0,
                    "n_concepts": 3,
                }
            }
        },
        "control_task_mean_auc": {"atom": 0.502, "molecule": 0.497},
    }
    (folder / "hierarchy.json").write_text(json.dumps(hierarchy))
    pd.DataFrame(columns=["concept", "family", "level", "n_pos", "n_neg", "reason"]).to_csv(
        folder / "skipped_concepts.csv", index=False
    )
    (folder / "neuron_examples.json").write_text(json.dumps(neuron_examples_json()))
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(rng.random((8, 4)), cmap="RdBu_r")
    fig.savefig(folder / "selectivity_heatmap.png", dpi=50)
    plt.close(fig)


def _example(smiles: str, ident: str, picked: str, fires_on) -> dict:
    """One stored example: activation 2.0 on the atoms where ``fires_on(atom)`` is true, 0.1
    elsewhere."""
    mol = Chem.MolFromSmiles(smiles)
    values = [2.0 if fires_on(a) else 0.1 for a in mol.GetAtoms()]
    concept = [a.GetIdx() for a in mol.GetAtoms() if a.GetIsAromatic()]
    return {
        "row": 0,
        "id": ident,
        "smiles": smiles,
        "picked": picked,
        "score": max(values),
        "has_concept": bool(concept),
        "concept_atoms": concept,
        "atom_values": values,
    }


def neuron_examples_json() -> dict:
    """``neuron_examples.json`` as `drugnet probe` writes it for a GNN (atom activations): the best
    unit of each family in two layers, 1-3 example molecules each (13 stored, 12 drawn)."""
    aspirin, salicylic, paracetamol = (
        "CC(=O)Oc1ccccc1C(=O)O",
        "OC(=O)c1ccccc1O",
        "CC(=O)Nc1ccc(O)cc1",
    )

    def aromatic(a):
        return a.GetIsAromatic()

    def hetero(a):
        return a.GetSymbol() in ("N", "O")

    def unit(family, layer, number, concept, auc, examples):
        return {
            "family": family,
            "layer": layer,
            "unit": number,
            "concept": concept,
            "auc": auc,
            "baseline": 0.1,
            "scale": 2.0,
            "examples": examples,
        }

    return {
        "format_version": 1,
        "kind": "gnn",
        "network": "trained",
        "member": 0,
        "level": "atom",
        "values": "activation",
        "units": [
            unit(
                "functional_group",
                1,
                3,
                "fr_Ar_OH",
                0.97,
                [
                    _example(paracetamol, "T003", "highest", hetero),
                    _example(salicylic, "T007", "highest_with_concept", hetero),
                ],
            ),
            unit(
                "interaction_center",
                1,
                7,
                "Aromatic",
                0.95,
                [_example(aspirin, "T000", "highest", aromatic)],
            ),
            unit(
                "pharmacophore",
                1,
                2,
                "HA-HD:4",
                0.8,
                [
                    _example(aspirin, "T000", "highest", hetero),
                    _example(salicylic, "T007", "highest", hetero),
                    _example(paracetamol, "T003", "highest_with_concept", hetero),
                ],
            ),
            unit(
                "functional_group",
                3,
                5,
                "fr_Ar_OH",
                0.9,
                [_example(paracetamol, "T003", "highest", hetero)],
            ),
            unit(
                "interaction_center",
                2,
                4,
                "Aromatic",
                0.995,
                [
                    _example(aspirin, "T000", "highest", aromatic),
                    _example(salicylic, "T007", "highest_with_concept", aromatic),
                    _example(paracetamol, "T003", "highest", aromatic),
                ],
            ),
            unit(
                "pharmacophore",
                3,
                1,
                "HA-HD:4",
                0.93,
                [
                    _example(paracetamol, "T003", "highest", hetero),
                    _example(aspirin, "T000", "highest", hetero),
                    _example(salicylic, "T007", "highest_with_concept", hetero),
                ],
            ),
        ],
    }


EXPLANATION_ATOMS = "7:+0.31;8:+0.2;9:0.25;3:-0.08;99:0.5"  # 99: out of range for aspirin, ignored
EXPLANATION = "+ carboxylic acid [7,8,9] 0.31; - H-bond donor [3] -0.08"


def _screen(folder: Path, std: pd.DataFrame, rng: np.random.Generator) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    n = 12
    top = pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "id": std["id"].head(n).to_numpy(),
            "smiles": std["smiles"].head(n).to_numpy(),
            "n_merged": 1,
            "score": np.sort(rng.random(n))[::-1],
        }
    )
    for col in ("tox.NR-AR", "tox.SR-ARE"):
        top[col] = rng.random(n)
        top[f"{col}.std"] = rng.random(n) / 10
    top["ad_similarity"] = rng.random(n)
    top["nearest_train_id"] = std["id"].tail(n).to_numpy()
    top["in_domain"] = top["ad_similarity"] >= 0.35
    top["qed"] = rng.random(n)
    (
        top["mw"],
        top["clogp"],
        top["hbd"],
        top["hba"],
        top["tpsa"],
        top["rotatable_bonds"],
        top["lipinski_violations"],
    ) = 300.0, 2.0, 1, 3, 60.0, 4, 0
    top["alerts"] = [""] * (n - 1) + ["Brenk:Michael_acceptor_1;PAINS_A:ene_one_ene_A(57)"]
    top["cluster"] = np.arange(1, n + 1)
    top["explanation"] = [EXPLANATION] + [""] * (n - 1)
    top["explanation_atoms"] = [EXPLANATION_ATOMS, "garbage"] + [""] * (n - 2)
    top.to_csv(folder / "top.csv", index=False)
    top.to_csv(folder / "ranked.csv", index=False)
    block = {
        "roc_auc": 0.8,
        "pr_auc": 0.5,
        "ef_1": 5.0,
        "ef_5": 3.0,
        "bedroc_20": 0.6,
        "n": 40,
        "n_actives": 8,
    }
    (folder / "enrichment.json").write_text(
        json.dumps(
            {
                "tox.NR-AR": {
                    "model": block,
                    "similarity": {**block, "roc_auc": 0.6},
                    "rf_ecfp": {**block, "roc_auc": None},
                    "n_actives": 8,
                    "n": 40,
                }
            }
        )
    )


def make_results_tree(root: Path) -> tuple[dict, Path]:
    """Config and results folder: dataset ``tox`` (classification, 2 tasks, 3 models, probes for
    gnn), dataset ``esol`` (regression, 1 model, nothing probed), library ``lib``, campaign ``camp``
    (screened) and campaign ``never`` (not run)."""
    rng = np.random.default_rng(0)
    results = root / "results"
    src = root / "tox.csv"
    _write_input(src, rng)
    std = _standardize(src, results / "tox", TARGETS, "classification", "sample_id")
    split = split_frame(std, method="random", sizes=(0.5, 0.2, 0.3), seed=0)
    pd.DataFrame({"id": std["id"], "inchikey": std["inchikey"], "split": split}).to_csv(
        results / "tox" / "split.csv", index=False
    )
    metrics = {}
    for model, quality in (("gnn", 1.5), ("snn", 1.0), ("rf_ecfp", 1.2)):
        metrics[model], table = _predictions(std, split, TARGETS, rng, "classification", quality)
        (results / "tox" / "predictions").mkdir(parents=True, exist_ok=True)
        table.to_csv(results / "tox" / "predictions" / f"{model}_test.csv", index=False)
        if model != "rf_ecfp":
            _history(results / "tox" / "models" / model / "history.csv", rng)
    (results / "tox" / "metrics.json").write_text(json.dumps(metrics, indent=2))
    _probes(results / "tox" / "probes" / "gnn", rng)

    esol_src = root / "esol.csv"
    pd.DataFrame({"smiles": SMILES[:30], "logS": rng.normal(-3, 1.5, 30).round(2)}).to_csv(
        esol_src, index=False
    )
    esol = _standardize(esol_src, results / "esol", ["logS"], "regression", None)
    esol_split = split_frame(esol, method="random", sizes=(0.6, 0.2, 0.2), seed=1)
    pd.DataFrame({"id": esol["id"], "inchikey": esol["inchikey"], "split": esol_split}).to_csv(
        results / "esol" / "split.csv", index=False
    )
    esol_metrics, esol_table = _predictions(esol, esol_split, ["logS"], rng, "regression", 2.0)
    (results / "esol" / "predictions").mkdir(parents=True)
    esol_table.to_csv(results / "esol" / "predictions" / "gnn_test.csv", index=False)
    (results / "esol" / "metrics.json").write_text(json.dumps({"gnn": esol_metrics}))

    lib_src = root / "lib.csv"
    pd.DataFrame({"smiles": SMILES, "name": [f"L{i}" for i in range(len(SMILES))]}).to_csv(
        lib_src, index=False
    )
    _standardize(lib_src, results / "libraries" / "lib", [], "classification", "name")
    _screen(results / "screens" / "camp", std, rng)
    config = {
        "results": str(results),
        "datasets": {
            "tox": {
                "path": str(src),
                "task": "classification",
                "targets": TARGETS,
                "id_column": "sample_id",
            },
            "esol": {
                "path": str(esol_src),
                "task": "regression",
                "targets": ["logS"],
                "model": {"models": ["gnn"]},
            },
        },
        "libraries": {"lib": {"path": str(lib_src), "id_column": "name"}},
        "model": {"models": ["gnn", "snn", "rf_ecfp"], "ensemble": 2},
        "campaigns": {
            "camp": {
                "library": "lib",
                "objectives": [{"dataset": "tox", "target": "all", "direction": "minimize"}],
            },
            "never": {"library": "lib", "objectives": [{"dataset": "tox", "target": "NR-AR"}]},
        },
    }
    return config, results


@pytest.fixture(scope="session")
def results_tree(tmp_path_factory) -> tuple[dict, Path]:
    return make_results_tree(tmp_path_factory.mktemp("report_tree"))


@pytest.fixture(scope="session")
def report_html(results_tree) -> str:
    from drugnet.report import build_report

    config, results = results_tree
    return build_report(config, results)
