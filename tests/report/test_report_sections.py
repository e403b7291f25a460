"""Section builders of the HTML report on a synthetic results tree (real molecules, pipeline formats)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from drugnet.report import html as H
from drugnet.report.candidate_section import candidate_card, candidate_section, enrichment_table, objective_columns
from drugnet.report.data_section import data_section, label_balance, reject_reasons, split_sizes
from drugnet.report.depict import explanation_atoms, mol_svg
from drugnet.report.model_section import mean_metrics_table, model_section, per_task_table, prediction_curves
from drugnet.report.probe_section import best_concepts, concept_atoms, neuron_examples, probe_section, top_neurons


# --- data -----------------------------------------------------------------------------------------

def test_data_section_counts_match_the_standardize_outputs(results_tree):
    config, results = results_tree
    summary = json.loads((results / "tox" / "standardize_summary.json").read_text())
    reasons = reject_reasons(results / "tox")
    assert reasons["n"].sum() == summary["rejected"] == 2
    assert "non_numeric_label:NR-AR" in set(reasons["reason"]) and len(reasons) == 2
    sizes = split_sizes(results / "tox")
    assert list(sizes["split"]) == ["train", "val", "test"]
    assert sizes["n"].sum() == summary["accepted_unique"]
    body = data_section(config, results).body
    for name in ("tox", "esol", "lib"):
        assert f">{name}<" in body
    assert "non_numeric_label:NR-AR" in body and "<svg" in body


def test_label_balance_counts_classes_missing_and_test_positives():
    frame = pd.DataFrame({"A": pd.array([1, 0, None, 1, 1], dtype="Int64"), "B": [0.5, 1.5, np.nan, 2.0, 3.0]})
    split = pd.Series(["train", "test", "test", "test", "val"])
    cls = label_balance(frame, ["A"], "classification", split)
    assert cls.iloc[0][["labelled", "positive", "negative", "missing", "test_positive"]].tolist() == [4, 3, 1, 1, 1]
    assert cls.iloc[0]["positive_rate"] == pytest.approx(0.75)
    reg = label_balance(frame, ["B", "not_there"], "regression")
    assert reg["task"].tolist() == ["B"]
    assert reg.iloc[0]["mean"] == pytest.approx(1.75) and reg.iloc[0]["missing"] == 1


# --- models ---------------------------------------------------------------------------------------

def test_metric_tables_compare_to_the_baseline_in_the_right_direction():
    metrics = {
        "gnn": {"test": {"mean": {"rmse": 1.0}, "per_task": {"y": {"rmse": 1.0}}}},
        "rf_ecfp": {"test": {"mean": {"rmse": 1.5}, "per_task": {"y": {"rmse": 1.5}}},
                    "train": {"mean": {"rmse": 0.2}, "per_task": {"y": {"rmse": 0.2}}}},
    }
    mean = mean_metrics_table(metrics)
    assert mean.set_index("model").loc["rf_ecfp", "train rmse"] == 0.2
    tasks = per_task_table(metrics, "test")
    assert tasks.attrs["metric"] == "rmse"
    assert tasks.loc[0, "gnn - rf_ecfp"] == pytest.approx(0.5)  # lower RMSE is better: positive
    html = H.table(tasks, row_best=["gnn", "rf_ecfp"], row_best_is_max=False)
    assert '<td class="best">1.000</td>' in html and '<td class="best">1.500</td>' not in html


def test_prediction_curves_drop_missing_labels():
    table = pd.DataFrame({"id": ["a", "b", "c"], "smiles": ["C", "CC", "CCC"], "t": [0.1, 0.9, 0.4],
                          "t.std": [0.0, 0.0, 0.0], "t.true": [0.0, 1.0, np.nan]})
    curves = prediction_curves({"gnn": table}, ["t"])
    y, p = curves["t"]["gnn"]
    assert y.tolist() == [0.0, 1.0] and p.tolist() == [0.1, 0.9]


def test_model_section_has_curves_and_metrics(results_tree):
    config, results = results_tree
    body = model_section(config, results).body
    assert "learning curves: gnn" in body and "learning curves: snn" in body
    assert "ROC curves" in body and "precision-recall curves" in body
    assert "predicted vs true" in body  # regression dataset esol
    assert "test roc_auc per task" in body and "gnn - rf_ecfp" in body


# --- probing --------------------------------------------------------------------------------------

def test_best_concepts_take_the_peak_selectivity_layer():
    rows = []
    for layer, (trained, random) in enumerate([(0.7, 0.7), (0.8, 0.6), (0.95, 0.9)]):
        for net, auc in (("trained", trained), ("random_init", random), ("control_task", 0.5)):
            rows.append({"concept": "Donor", "family": "interaction_center", "level": "atom", "layer": layer,
                         "network": net, "auc": auc, "ci_low": auc - 0.1, "ci_high": auc + 0.01, "n_pos": 5, "n_neg": 5})
    best = best_concepts(pd.DataFrame(rows))
    assert len(best) == 1
    row = best.iloc[0]
    assert row["peak_layer"] == 1 and row["selectivity"] == pytest.approx(0.2)
    assert row["trained_auc"] == pytest.approx(0.8) and row["ci_low"] == pytest.approx(0.7)


def test_concept_atoms_highlight_the_aromatic_ring_of_aspirin():
    aspirin = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
    atoms = concept_atoms([aspirin], "Aromatic", "interaction_center")
    assert atoms == [[a.GetIdx() for a in aspirin.GetAtoms() if a.GetIsAromatic()]]
    assert concept_atoms([aspirin], "no_such_concept", "interaction_center") is None
    assert concept_atoms([aspirin], "Donor", "unknown_family") is None


def test_probe_section_reports_verdict_neurons_and_examples(results_tree):
    config, results = results_tree
    body = probe_section(config, results).body
    assert "DOES NOT HOLD" in body
    assert "data:image/png;base64," in body  # the selectivity heatmap
    assert "best concepts per family" in body and "Aromatic" in body
    assert "not run: no probes under" in body  # esol was not probed
    neurons = pd.read_csv(results / "tox" / "probes" / "gnn" / "neurons.csv")
    top = top_neurons(neurons, 3)
    assert (top["network"] == "trained").all() and top["auc"].is_monotonic_decreasing
    examples = neuron_examples(neurons, pd.read_csv(results / "tox" / "standardized.csv"))
    assert examples.count("<svg") >= 3 and "Aromatic" in examples


# --- candidates -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("cell", "expected"),
    [("", []), (None, []), (float("nan"), []), ("3;1;2", [1, 2, 3]), ("4, 5 6", [4, 5, 6]),
     ("1:0.2;2:-0.5;3:0.9", [3, 1]), ("[7, 2]", [2, 7]), ('{"2": 0.1, "5": 0.4}', [5, 2]), ("garbage", [])],
)
def test_explanation_atoms_forms(cell, expected):
    assert explanation_atoms(cell) == expected


def test_candidate_card_shows_numbers_and_highlights():
    row = pd.Series({"rank": 1, "id": "X1", "smiles": "c1ccccc1O", "score": 0.91, "tox.A": 0.2, "tox.A.std": 0.05,
                     "ad_similarity": 0.4, "in_domain": True, "qed": 0.6, "alerts": "PAINS_A:x", "explanation": "6"})
    card = candidate_card(row, objective_columns(pd.DataFrame([row])))
    assert card.count("<svg") == 1 and "0.200 ± 0.050" in card and "in domain" in card
    assert 'class="alert"' in card and "atoms from explanation" in card
    assert "no depiction" in candidate_card(row.replace("c1ccccc1O", "not a smiles"), [])


def test_mol_svg_highlights_only_existing_atoms():
    mol = Chem.MolFromSmiles("CCO")
    plain, lit = mol_svg(mol), mol_svg(mol, [2, 99])
    assert plain.startswith("<svg") and "<?xml" not in plain
    assert lit != plain and mol_svg(None) is None


def test_enrichment_table_and_candidate_section(results_tree):
    config, results = results_tree
    enrichment = json.loads((results / "screens" / "camp" / "enrichment.json").read_text())
    table = enrichment_table(enrichment)
    assert table["scorer"].tolist() == ["model", "similarity", "rf_ecfp"] and table["roc_auc"].isna().sum() == 1
    body = candidate_section(config, results).body
    assert body.count('class="card"') == 12
    assert "not run" in body and "campaign never" in body
    assert "enrichment of known actives" in body
