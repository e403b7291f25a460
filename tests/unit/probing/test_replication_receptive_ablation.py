"""Replication over members, receptive field by pharmacophore distance, and causal ablation, on
planted networks built on real (ESOL) molecules."""

import numpy as np
import pandas as pd
import pytest
import torch

from drugnet.concepts import all_concepts, interaction_centers
from drugnet.models import build_model, default_hparams
from drugnet.probing import (
    ablation,
    hierarchy,
    neurons,
    probes,
    receptive_field,
    replication,
)
from drugnet.probing.atlas import AtlasSettings, run_atlas


def test_combined_test_on_identical_members_equals_the_single_member_test(rng):
    family = np.repeat(hierarchy.FAMILY_ORDER, 25)
    peaks = np.where(rng.random(75) < 0.6, np.repeat([1, 2, 3], 25), rng.integers(1, 5, 75))
    single = hierarchy.ordering_test(family, peaks, n_permutations=5000, seed=3)
    combined = hierarchy.ordering_test(
        family, np.column_stack([peaks] * 3), n_permutations=5000, seed=3
    )
    assert (
        combined["rho"] == pytest.approx(single["rho"], abs=1e-12)
        and combined["p_value"] == single["p_value"]
    )
    assert combined["n_members"] == 3 and single["p_value"] < 0.01
    frame = pd.DataFrame(
        {
            "concept": [f"c{i}" for i in range(75)],
            "family": family,
            "level": "atom",
            "peak_layer": peaks,
            "peak_selectivity": 0.1,
        }
    )
    one = replication.level_tests(frame.assign(member=0), n_permutations=2000, seed=0)
    three = replication.level_tests(
        pd.concat([frame.assign(member=m) for m in range(3)]), n_permutations=2000, seed=0
    )
    assert three["atom"]["p_value"] == one["atom"]["p_value"]
    for pair, test in one["atom"]["pairwise"].items():
        assert three["atom"]["pairwise"][pair]["p_value"] == test["p_value"]
        assert three["atom"]["pairwise"][pair]["rho"] == pytest.approx(test["rho"], abs=1e-12)
    agree = replication.agreement(pd.concat([frame.assign(member=m) for m in range(3)]))["atom"]
    assert agree["same_peak_fraction"] == 1.0 and agree["mean_pairwise_spearman"] == pytest.approx(
        1.0
    )


def test_combined_test_pools_evidence_of_weak_members(rng):
    family = np.repeat(hierarchy.FAMILY_ORDER, 20)
    members = [
        np.where(rng.random(60) < 0.35, np.repeat([1, 2, 3], 20), rng.integers(1, 4, 60))
        for _ in range(3)
    ]
    single_p = [
        hierarchy.ordering_test(family, m, n_permutations=4000, seed=0)["p_value"] for m in members
    ]
    combined = hierarchy.ordering_test(
        family, np.column_stack(members), n_permutations=4000, seed=0
    )
    assert combined["p_value"] <= np.median(single_p)


def test_family_selectivity_interval_across_members():
    rows = [("c1", "pharmacophore", "atom", 2, m, 0.10 + 0.02 * m) for m in range(3)]
    sel = pd.DataFrame(
        rows, columns=["concept", "family", "level", "layer", "member", "selectivity"]
    )
    table = replication.family_selectivity(sel)
    row = table.iloc[0]
    assert row.n_members == 3 and row.mean_selectivity == pytest.approx(0.12)
    assert row.ci_low < 0.10 < 0.14 < row.ci_high  # t interval with 2 degrees of freedom is wide
    single = replication.family_selectivity(sel[sel.member == 0]).iloc[0]
    assert single.n_members == 1 and np.isnan(single.ci_low)


def test_pharmacophore_distance_parsing():
    assert receptive_field.pharmacophore_distance("HA-HD:4") == 4
    assert receptive_field.pharmacophore_distance("AR-BG:8+") == 8
    assert receptive_field.pharmacophore_distance("HA-HD:2-3") == 2
    assert receptive_field.pharmacophore_distance("AR-HA-HD:2|3|5") is None
    assert receptive_field.pharmacophore_distance("fr_COO") is None
    assert (
        receptive_field.bound_layer(5, "atom") == 5
        and receptive_field.bound_layer(5, "molecule") == 3
    )


def _planted_pharmacophore(esol_mols):
    concepts = all_concepts(
        esol_mols[:240], min_positives=12, levels=("atom",), atoms_per_molecule=4, seed=0
    )
    matrix = concepts.matrices["atom"]
    five = [c for c in matrix.names if receptive_field.pharmacophore_distance(c) == 5]
    assert five, "ESOL sample should hold a 5-bond pharmacophore"
    return concepts, matrix, five[0]


def test_planted_five_bond_detector_is_found_at_layer_three_not_earlier(esol_mols, rng):
    concepts, matrix, concept = _planted_pharmacophore(esol_mols)
    mols = esol_mols[:240]
    is_test_mol = probes.split_molecules(probes.scaffold_groups(mols), seed=0)
    n = len(matrix.item_mol)
    label = matrix.column(concept).astype(float)

    def layer(with_unit: bool):
        x = rng.normal(size=(n, 6))
        if with_unit:
            x[:, 2] = label  # the unit is exactly the 5-bond pharmacophore detector
        return x

    trained = [layer(False), layer(False), layer(False), layer(True), layer(True)]
    random = [trained[0]] + [layer(False) for _ in range(4)]
    settings = AtlasSettings(n_boot=200, n_permutations=500, min_positives=12)
    result = run_atlas(
        {"trained": {"atom": trained}, "random_init": {"atom": random}},
        concepts,
        is_test_mol,
        settings,
    )
    table = result.receptive_field
    row = table[(table.concept == concept) & (table.level == "atom")].iloc[0]
    assert row.first_layer == 3 and row.distance == 5 and row.bound_layer == 5
    # the unit itself: a detector from layer 3 on, nothing before
    unit = result.neurons[(result.neurons.network == "trained") & (result.neurons.unit == 2)]
    strength = dict(zip(unit.layer, unit.auc, strict=False))
    assert (
        strength[3] == pytest.approx(1.0)
        and strength[4] == pytest.approx(1.0)
        and max(strength[1], strength[2]) < 0.8
    )
    summary = result.hierarchy["receptive_field"]["atom"]
    assert summary["distance_test"]["n_concepts"] == table.concept.nunique()
    assert summary["matched_test"]["matched_layer"] == 2


def test_distance_test_finds_a_planted_distance_relation():
    rows = []
    for d in range(2, 9):
        for i in range(6):
            first = (
                -(-d // 2) + (i % 2) if -(-d // 2) + (i % 2) <= 4 else np.nan
            )  # ceil(d/2) or one later
            rows.append(
                (
                    0,
                    "molecule",
                    f"X-Y{i}:{d}",
                    str(d),
                    d,
                    receptive_field.bound_layer(d, "molecule"),
                    first,
                    first,
                )
            )
    table = pd.DataFrame(rows, columns=receptive_field.RECEPTIVE_FIELD_COLUMNS)
    test = receptive_field.distance_test(table, n_layers=4, n_permutations=2000, seed=0)
    assert test["rho"] > 0.8 and test["p_value"] < 0.001
    assert test["fraction_at_or_after_bound"] == 1.0
    flat = table.assign(first_layer=2.0)
    assert np.isnan(receptive_field.distance_test(flat, n_layers=4)["rho"])


def _planted_snn(hidden: int = 64):
    """An SNN whose layer-1 unit 0 is 3 x (aromatic indicator) and whose task 0 reads only that
    unit; task 1 reads the other units (noise features)."""
    torch.manual_seed(0)
    hp = default_hparams(
        "snn", {"hidden": hidden, "depth": 1, "dropout": 0.0, "input_dropout": 0.0}
    )
    hp.update(in_dim=9, n_log=0, n_tasks=2, min_feature_count=0)
    model = build_model(hp).eval()
    with torch.no_grad():
        model.linears[0].weight[0] = torch.tensor([3.0] + [0.0] * 8)
        model.linears[0].weight[1:, 0] = 0.0
        model.head.weight.zero_()
        model.head.bias.zero_()
        model.head.weight[0, 0] = 1.0
        model.head.weight[1, 1:] = torch.randn(hidden - 1) / np.sqrt(hidden)
    return model


def test_ablating_a_planted_detector_drops_its_task_and_random_units_do_not(esol_mols, rng):
    mols = esol_mols[:300]
    concepts = interaction_centers.concept_labels(mols, level="molecule")
    aromatic = concepts.column("Aromatic").astype(np.float32)
    features = torch.as_tensor(
        np.column_stack([aromatic, rng.normal(size=(len(mols), 8))]), dtype=torch.float32
    )
    model = _planted_snn()
    with torch.no_grad():
        logits = model(features).numpy()
    y = np.column_stack(
        [aromatic, (logits[:, 1] + 0.2 * rng.normal(size=len(mols)) > np.median(logits[:, 1]))]
    )
    y = y.astype(np.float32)
    y[::7, 1] = np.nan  # missing labels are skipped
    layers = [e.mol.numpy() for e in model.embed(features)]
    aucs = neurons.layer_aucs(layers, concepts)
    means = [layers[1].mean(axis=0)]
    table = ablation.ablation_table(
        model,
        lambda idx: features[idx],
        y,
        ["planted", "other"],
        aucs,
        means,
        concepts,
        member=0,
        k=2,
        draws=6,
        seed=0,
    )
    assert list(table.columns) == ablation.ABLATION_COLUMNS
    top = table[(table.units == "top") & (table.family == "interaction_center")]
    assert "0" in top.unit_ids.iloc[0].split(";")
    assert top.base_auc[top.task == "planted"].iloc[0] == pytest.approx(1.0)
    assert top["drop"][top.task == "planted"].iloc[0] > 0.4
    random = table[table.units == "random"]
    assert not any("0" in ids.split(";") for ids in random.unit_ids)
    assert random[random.task == "planted"]["drop"].abs().max() < 1e-9
    assert random[random.task == "other"]["drop"].mean() < 0.1
    excess = ablation.excess_drops(table)
    planted = excess[(excess.family == "interaction_center") & (excess.task == "planted")].iloc[0]
    assert planted.excess_drop > 0.4


def test_atlas_of_identical_members_combines_to_the_single_member_result(esol_mols, rng, tmp_path):
    import json

    from drugnet.probing.atlas import write_atlas

    concepts, matrix, concept = _planted_pharmacophore(esol_mols)
    is_test_mol = probes.split_molecules(probes.scaffold_groups(esol_mols[:240]), seed=0)
    n = len(matrix.item_mol)
    base = rng.normal(size=(n, 5))
    trained = [base] + [
        np.column_stack([matrix.values[:, :3] * (layer >= 2), rng.normal(size=(n, 5))])
        for layer in (1, 2, 3)
    ]
    random = [base] + [rng.normal(size=(n, 8)) for _ in range(3)]
    member = {"trained": {"atom": trained}, "random_init": {"atom": random}}
    settings = AtlasSettings(n_boot=100, n_permutations=500, min_positives=12)
    result = run_atlas({0: member, 1: member}, concepts, is_test_mol, settings)
    summary = result.hierarchy
    assert summary["probed_members"] == [0, 1] and set(summary["members"]) == {"0", "1"}
    assert (
        summary["tests"]["atom"]["p_value"] == summary["members"]["0"]["tests"]["atom"]["p_value"]
    )
    assert summary["tests"]["atom"]["n_members"] == 2 and "holds in" in summary["verdict"]
    assert summary["agreement"]["atom"]["same_peak_fraction"] == 1.0
    assert set(result.probes.member) == {0, 1} and set(
        result.probes[result.probes.network == "control_task"].member
    ) == {0}
    family = result.family_selectivity
    assert (
        (family.n_members == 2).all()
        and np.allclose(family.sd, 0)
        and np.allclose(family.ci_low, family.mean_selectivity)
    )
    write_atlas(result, tmp_path)
    for name in (
        "family_selectivity.csv",
        "receptive_field.csv",
        "receptive_field.png",
        "selectivity_heatmap.png",
    ):
        assert (tmp_path / name).stat().st_size > 0
    assert (
        json.loads((tmp_path / "hierarchy.json").read_text())["receptive_field"]["atom"][
            "matched_test"
        ]["matched_layer"]
        == 2
    )
    assert pd.read_csv(tmp_path / "ablation.csv").columns.tolist() == ablation.ABLATION_COLUMNS
