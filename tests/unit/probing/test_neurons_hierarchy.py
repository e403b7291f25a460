"""Single-unit AUCs and the peak-layer ordering test."""

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from drugnet.concepts import interaction_centers
from drugnet.probing import hierarchy, neurons


def test_unit_auc_matches_sklearn(rng):
    acts = rng.integers(0, 5, size=(200, 6)).astype(float)  # many ties, like ReLU/SELU zeros
    labels = rng.random((200, 3)) < 0.4
    ours = neurons.unit_auc(acts, labels)
    for c in range(3):
        for u in range(6):
            assert abs(ours[c, u] - roc_auc_score(labels[:, c], acts[:, u])) < 1e-12


def test_planted_unit_is_a_detector(esol_mols, rng):
    concepts = interaction_centers.concept_labels(esol_mols[:100], level="atom")
    aromatic = concepts.column("Aromatic").astype(float)
    layer = rng.normal(size=(len(aromatic), 8))
    layer[:, 5] = -aromatic + 0.01 * rng.normal(size=len(aromatic))  # fires LOW on aromatic atoms
    table, strengths = neurons.neuron_table([layer, layer], concepts, network="trained")
    unit5 = table[(table.layer == 1) & (table.unit == 5)].iloc[0]
    assert unit5.best_concept == "Aromatic" and unit5.auc > 0.99 and unit5.sign == -1
    assert (table.layer == 0).sum() == 0  # the input layer is not a hidden unit
    counts = neurons.detector_counts(strengths, concepts, network="trained")
    ic = counts[(counts.layer == 1) & (counts.family == "interaction_center")].iloc[0]
    assert ic.n_detectors >= 1 and ic.n_units == 8


def _peaks(order_strength: float, rng, n_per_family: int = 30):
    family = np.repeat(hierarchy.FAMILY_ORDER, n_per_family)
    base = np.repeat([1, 2, 3], n_per_family)
    noise = rng.integers(1, 4, size=len(base))
    return family, np.where(rng.random(len(base)) < order_strength, base, noise)


def test_ordering_test_detects_planted_order_and_not_random(rng):
    family, perfect = _peaks(1.0, rng)
    result = hierarchy.ordering_test(family, perfect, n_permutations=10_000, seed=0)
    assert result["p_value"] < 0.001 and result["rho"] > 0.9
    assert result["verdict"].startswith("HOLDS")
    family, random = _peaks(0.0, rng)
    result = hierarchy.ordering_test(family, random, n_permutations=10_000, seed=0)
    assert result["p_value"] > 0.05 and result["verdict"].startswith("DOES NOT HOLD")
    reversed_result = hierarchy.ordering_test(family, 4 - perfect, n_permutations=2_000, seed=0)
    assert reversed_result["p_value"] > 0.99
    assert reversed_result["n_permutations"] == 2_000


def test_peak_layers_from_probe_table():
    rows = []
    for concept, family, peak in (("a", "functional_group", 1), ("b", "pharmacophore", 3)):
        for layer in range(4):
            for network in ("trained", "random_init"):
                auc = 0.6 + (0.3 if network == "trained" and layer == peak else 0.0)
                rows.append((concept, family, "atom", layer, network, auc))
    probes = pd.DataFrame(rows, columns=["concept", "family", "level", "layer", "network", "auc"])
    selectivity = hierarchy.selectivity_table(probes)
    assert (
        len(selectivity) == 8
    )  # one row per (concept, level, layer): no cross product of families
    peaks = hierarchy.peak_layers(selectivity)
    assert dict(zip(peaks.concept, peaks.peak_layer, strict=False)) == {"a": 1, "b": 3}
    assert np.allclose(peaks.peak_selectivity, 0.3)


def test_pairwise_ordering_exposes_a_reversed_step(rng):
    family = np.repeat(hierarchy.FAMILY_ORDER, 20)
    peaks = np.repeat([1, 3, 2], 20)  # interaction centers peak after pharmacophores
    pairs = hierarchy.pairwise_ordering(family, peaks, n_permutations=2000, seed=0)
    assert pairs["functional_group<interaction_center"]["p_value"] < 0.01
    assert pairs["functional_group<pharmacophore"]["p_value"] < 0.01
    assert pairs["interaction_center<pharmacophore"]["p_value"] > 0.5


def test_family_top_units_pick_units_that_fire_on_the_concept(esol_mols, rng):
    concepts = interaction_centers.concept_labels(esol_mols[:100], level="atom")
    aromatic = concepts.column("Aromatic").astype(float)
    layer = rng.normal(size=(len(aromatic), 6))
    layer[:, 2] = -aromatic + 0.01 * rng.normal(
        size=len(aromatic)
    )  # perfect, but LOW on aromatic atoms
    layer[:, 4] = aromatic + 0.3 * rng.normal(size=len(aromatic))  # noisier, HIGH on aromatic atoms
    top = neurons.family_top_units([layer, layer], concepts)
    assert len(top) == 1
    row = top.iloc[0]
    assert (row.family, row.layer, row.unit, row.concept) == (
        "interaction_center",
        1,
        4,
        "Aromatic",
    ) and row.auc > 0.9
    aucs = neurons.layer_aucs([layer, layer], concepts)
    pd.testing.assert_frame_equal(neurons.family_top_units(None, concepts, aucs=aucs), top)
    table, _ = neurons.neuron_table([layer, layer], concepts, network="trained", aucs=aucs)
    pd.testing.assert_frame_equal(
        table, neurons.neuron_table([layer, layer], concepts, network="trained")[0]
    )


def test_pick_examples_half_highest_then_concept_carriers_one_per_scaffold():
    scores = np.array([9.0, 8.0, 7.0, 6.0, 5.0, 4.0, np.nan, 10.0])
    groups = np.array([0, 0, 1, 2, 3, 4, 5, 6])
    n_atoms = np.array([10, 10, 10, 10, 10, 10, 10, 99])  # molecule 7: too large to draw
    carriers = np.array([False, False, False, False, True, True, True, True])
    picked = neurons.pick_examples(scores, groups, n_atoms, n=4, max_atoms=40, carriers=carriers)
    # 0 and 2 (1 shares 0's scaffold), then the best carriers 4 and 5 (6 has no score, 7 is too
    # large)
    assert picked == [
        (0, "highest"),
        (2, "highest"),
        (4, "highest_with_concept"),
        (5, "highest_with_concept"),
    ]
    few = neurons.pick_examples(
        scores, groups, n_atoms, n=4, max_atoms=40, carriers=np.zeros(8, dtype=bool)
    )
    assert few == [(0, "highest"), (2, "highest"), (3, "highest"), (4, "highest")]  # topped up
    assert neurons.pick_examples(scores, groups, n_atoms, n=2) == [(0, "highest"), (2, "highest")]
