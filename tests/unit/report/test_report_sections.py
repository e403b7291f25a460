"""Section builders of the HTML report on a synthetic results tree (real molecules, pipeline
formats)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from drugnet.report import html as H
from drugnet.report.candidate_section import (
    candidate_card,
    candidate_section,
    enrichment_table,
    objective_columns,
)
from drugnet.report.data_section import (
    data_section,
    label_balance,
    reject_reasons,
    split_sizes,
)
from drugnet.report.depict import (
    ACTIVATION,
    INHIBITION,
    NEGATIVE,
    POSITIVE,
    hex_colour,
    mol_svg,
    mol_svg_weights,
    parse_atom_weights,
    shade,
    weight_colours,
)
from drugnet.report.model_section import (
    mean_metrics_table,
    model_section,
    per_task_table,
    prediction_curves,
)
from drugnet.report.probe_section import (
    _some_examples,
    best_concepts,
    concept_atoms,
    neuron_examples,
    probe_section,
    top_neurons,
    unit_examples,
)

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
    frame = pd.DataFrame(
        {"A": pd.array([1, 0, None, 1, 1], dtype="Int64"), "B": [0.5, 1.5, np.nan, 2.0, 3.0]}
    )
    split = pd.Series(["train", "test", "test", "test", "val"])
    cls = label_balance(frame, ["A"], "classification", split)
    assert cls.iloc[0][
        ["labelled", "positive", "negative", "missing", "test_positive"]
    ].tolist() == [4, 3, 1, 1, 1]
    assert cls.iloc[0]["positive_rate"] == pytest.approx(0.75)
    reg = label_balance(frame, ["B", "not_there"], "regression")
    assert reg["task"].tolist() == ["B"]
    assert reg.iloc[0]["mean"] == pytest.approx(1.75) and reg.iloc[0]["missing"] == 1


# --- models ---------------------------------------------------------------------------------------


def test_metric_tables_compare_to_the_baseline_in_the_right_direction():
    metrics = {
        "gnn": {"test": {"mean": {"rmse": 1.0}, "per_task": {"y": {"rmse": 1.0}}}},
        "rf_ecfp": {
            "test": {"mean": {"rmse": 1.5}, "per_task": {"y": {"rmse": 1.5}}},
            "train": {"mean": {"rmse": 0.2}, "per_task": {"y": {"rmse": 0.2}}},
        },
    }
    mean = mean_metrics_table(metrics)
    assert mean.set_index("model").loc["rf_ecfp", "train rmse"] == 0.2
    tasks = per_task_table(metrics, "test")
    assert tasks.attrs["metric"] == "rmse"
    assert tasks.loc[0, "gnn - rf_ecfp"] == pytest.approx(0.5)  # lower RMSE is better: positive
    html = H.table(tasks, row_best=["gnn", "rf_ecfp"], row_best_is_max=False)
    assert '<td class="best">1.000</td>' in html and '<td class="best">1.500</td>' not in html


def test_prediction_curves_drop_missing_labels():
    table = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "smiles": ["C", "CC", "CCC"],
            "t": [0.1, 0.9, 0.4],
            "t.std": [0.0, 0.0, 0.0],
            "t.true": [0.0, 1.0, np.nan],
        }
    )
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
            rows.append(
                {
                    "concept": "Donor",
                    "family": "interaction_center",
                    "level": "atom",
                    "layer": layer,
                    "network": net,
                    "auc": auc,
                    "ci_low": auc - 0.1,
                    "ci_high": auc + 0.01,
                    "n_pos": 5,
                    "n_neg": 5,
                }
            )
    best = best_concepts(pd.DataFrame(rows))
    assert len(best) == 1
    row = best.iloc[0]
    assert row["peak_layer"] == 1 and row["selectivity"] == pytest.approx(0.2)
    assert row["trained_auc"] == pytest.approx(0.8) and row["ci_low"] == pytest.approx(0.7)


def test_probe_section_names_datasets_left_out_by_probe_datasets(results_tree):
    config, results = results_tree
    body = probe_section({**config, "probe": {"datasets": ["tox"]}}, results).body
    assert "Not probed: <code>probe.datasets</code> is tox" in body  # esol, by choice
    assert "DOES NOT HOLD" in body  # tox is still reported


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
    examples = neuron_examples(
        neurons, pd.read_csv(results / "tox" / "standardized.csv")
    )  # fallback, old runs
    assert (
        examples.count("<svg") >= 3
        and "Aromatic" in examples
        and "no neuron_examples.json" in examples
    )
    # neuron_examples.json is present: per-atom activations drawn, not the fallback
    assert (
        "where the top unit of each concept family fires" in body
        and "no neuron_examples.json" not in body
    )
    assert hex_colour(ACTIVATION) in _fills(body)


def test_unit_examples_colour_activations_and_ring_concept_atoms(results_tree):
    data = json.loads(
        (results_tree[1] / "tox" / "probes" / "gnn" / "neuron_examples.json").read_text()
    )
    html = unit_examples(data)
    # best unit per family first, in family order; the other layers' units collapsed
    best = [
        "functional_group: layer 1 unit 3",
        "interaction_center: layer 2 unit 4",
        "pharmacophore: layer 3 unit 1",
    ]
    positions = [html.index(title) for title in best]
    assert positions == sorted(positions) and positions[-1] < html.index("<details>")
    details = html[html.index("<details>") :]
    for title in (
        "interaction_center: layer 1 unit 7",
        "functional_group: layer 3 unit 5",
        "pharmacophore: layer 1 unit 2",
    ):
        assert title in details
    assert sum(len(u["examples"]) for u in data["units"]) == 13
    assert html.count("<svg") == 12 and 'class="legend"' in html  # 2 examples per collapsed unit
    assert (
        details.count("<svg") == 4 and details.count("T007") == 0
    )  # pharmacophore layer 1: T000 and T003
    full, light = hex_colour(ACTIVATION), hex_colour(shade(ACTIVATION, 0.0))
    assert full in _fills(html) and light not in _fills(
        html
    )  # 2.0 = scale: full colour; 0.1 = baseline: white
    assert "top among concept carriers" in html and "carries the concept (ringed)" in html
    # the ring is a stroked circle (arc) around the concept atoms; none without concept atoms
    one = data["units"][1]
    ringed = unit_examples({**data, "units": [one]})
    no_ring = unit_examples(
        {**data, "units": [{**one, "examples": [{**one["examples"][0], "concept_atoms": []}]}]}
    )
    assert ringed.count("<path") == no_ring.count("<path") + 6  # aspirin's 6 aromatic atoms


def test_some_examples_keep_one_of_each_kind_first():
    examples = [
        {"picked": p, "n": i}
        for i, p in enumerate(
            ["highest", "highest", "highest_with_concept", "highest_with_concept"]
        )
    ]
    assert [e["n"] for e in _some_examples(examples, 2)] == [0, 2]
    assert [e["n"] for e in _some_examples(examples, 3)] == [0, 1, 2]
    assert (
        _some_examples(examples, None) == examples
        and _some_examples(examples[:1], 2) == examples[:1]
    )


def test_unit_examples_occlusion_is_signed_and_mismatches_are_not_coloured():
    mol = "c1ccccc1O"
    example = {
        "id": "m1",
        "smiles": mol,
        "picked": "highest",
        "score": 1.2,
        "has_concept": None,
        "concept_atoms": None,
        "atom_values": [0.5, 0.1, 0.0, 0.0, 0.0, -0.5, 0.25],
    }
    unit = {
        "family": "pharmacophore",
        "layer": 3,
        "unit": 9,
        "concept": "HA-HD:3",
        "auc": 0.9,
        "baseline": 0.0,
        "scale": 0.5,
    }
    html = unit_examples({"values": "occlusion", "units": [{**unit, "examples": [example]}]})
    assert {hex_colour(ACTIVATION), hex_colour(INHIBITION)} <= _fills(
        html
    ) and "lowers the unit" in html
    broken = {**example, "atom_values": [1.0, 2.0]}
    html = unit_examples({"values": "occlusion", "units": [{**unit, "examples": [broken]}]})
    assert (
        html.count("<svg") == 1
        and "do not match" in html
        and hex_colour(ACTIVATION) not in _fills(html)
    )
    assert "lists no units" in unit_examples({"units": []})


# --- candidates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "n_atoms", "expected"),
    [
        ("", None, {}),
        (None, None, {}),
        (float("nan"), None, {}),
        ("nan", None, {}),
        (0.5, None, {}),
        ("3:+0.123;1:-0.045", None, {3: 0.123, 1: -0.045}),
        (" 3 : 0.5 ; 7:-1e-2 ;", None, {3: 0.5, 7: -0.01}),
        ("0:0.2;5:0.1;12:0.3", 6, {0: 0.2, 5: 0.1}),  # 12 out of range
        (
            "-1:0.2;2:nan;4:inf;x:1;6;7:abc;8:0.5",
            None,
            {8: 0.5},
        ),  # malformed entries skipped, not fatal
        ("2:0.25;2:0.25", None, {2: 0.5}),
        ("garbage", None, {}),
    ],
)
def test_parse_atom_weights(cell, n_atoms, expected):
    got = parse_atom_weights(cell, n_atoms)
    assert got.keys() == expected.keys()
    for atom, value in expected.items():
        assert got[atom] == pytest.approx(value)


EXPLANATION_ATOMS = (
    "7:+0.31;8:+0.2;9:0.25;3:-0.08;99:0.5"  # as in conftest's top.csv; 99: out of range
)
EXPLANATION = "+ carboxylic acid [7,8,9] 0.31; - H-bond donor [3] -0.08"


def _fills(svg: str) -> set[str]:
    return set(re.findall(r"fill:(#[0-9A-Fa-f]{6})", svg))


def test_weight_colours_sign_and_intensity():
    colours = weight_colours({0: 0.4, 1: -0.2, 2: 0.01, 3: 0.0})
    assert colours[0] == POSITIVE and colours[1] == shade(NEGATIVE, 0.5)
    assert 2 not in colours and 3 not in colours  # under 5 % of the largest |value|: left white
    assert weight_colours({0: 1.0, 1: 3.0}, baseline=1.0, negative=None) == {1: POSITIVE}
    assert weight_colours({0: 0.0}) == {}


def test_mol_svg_weights_fills_the_weighted_atoms():
    aspirin = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
    weights = parse_atom_weights("10:+0.3;11:0.15;12:-0.3;50:1.0", aspirin.GetNumAtoms())
    svg = mol_svg_weights(aspirin, weights)
    fills = _fills(svg)
    assert {hex_colour(POSITIVE), hex_colour(shade(POSITIVE, 0.5)), hex_colour(NEGATIVE)} <= fills
    plain = mol_svg(aspirin)
    assert hex_colour(POSITIVE) not in _fills(plain) and hex_colour(NEGATIVE) not in _fills(plain)
    assert mol_svg_weights(None, weights) is None
    assert mol_svg_weights(aspirin, {}) is not None  # nothing to colour: a plain depiction


def test_candidate_card_colours_attributions_and_shows_the_explanation():
    row = pd.Series(
        {
            "rank": 1,
            "id": "X1",
            "smiles": "CC(=O)Oc1ccccc1C(=O)O",
            "score": 0.91,
            "tox.A": 0.2,
            "tox.A.std": 0.05,
            "explanation_atoms": EXPLANATION_ATOMS,
            "explanation": EXPLANATION,
        }
    )
    card = candidate_card(row, objective_columns(pd.DataFrame([row])))
    assert card.count("<svg") == 1
    assert hex_colour(POSITIVE) in _fills(card) and hex_colour(
        shade(NEGATIVE, 0.08 / 0.31)
    ) in _fills(card)
    assert 'class="explain"' in card and "carboxylic acid [7,8,9]" in card
    assert "4 atoms, max |value| 0.310" in card  # index 99 is out of range for aspirin
    for cell in ("", float("nan"), None, "garbage"):
        plain = candidate_card(row.copy().replace(EXPLANATION_ATOMS, cell), [])
        assert (
            plain.count("<svg") == 1
            and hex_colour(POSITIVE) not in _fills(plain)
            and "attribution" not in plain
        )
    bare = candidate_card(
        row.drop(["explanation_atoms", "explanation"]), []
    )  # columns absent: no crash
    assert bare.count("<svg") == 1 and 'class="explain"' not in bare


def test_candidate_card_shows_numbers():
    row = pd.Series(
        {
            "rank": 1,
            "id": "X1",
            "smiles": "c1ccccc1O",
            "score": 0.91,
            "tox.A": 0.2,
            "tox.A.std": 0.05,
            "ad_similarity": 0.4,
            "in_domain": True,
            "qed": 0.6,
            "alerts": "PAINS_A:x",
            "explanation": "",
        }
    )
    card = candidate_card(row, objective_columns(pd.DataFrame([row])))
    assert card.count("<svg") == 1 and "0.200 ± 0.050" in card and "in domain" in card
    assert 'class="alert"' in card and 'class="explain"' not in card
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
    assert (
        table["scorer"].tolist() == ["model", "similarity", "rf_ecfp"]
        and table["roc_auc"].isna().sum() == 1
    )
    body = candidate_section(config, results).body
    assert body.count('class="card"') == 12
    assert (
        body.count('class="legend"') == 1 and "positive attribution" in body
    )  # top.csv has explanation_atoms
    assert "carboxylic acid [7,8,9]" in body and hex_colour(POSITIVE) in _fills(body)
    table = body[body.index("top.csv as a table") :]
    assert "explanation_atoms" not in table and '<th class="text">explanation</th>' in table
    assert "not run" in body and "campaign never" in body
    assert "enrichment of known actives" in body
