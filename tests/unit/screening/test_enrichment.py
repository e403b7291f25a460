import math

import numpy as np
import pytest

from drugnet.features.tanimoto import ecfp4_bits
from drugnet.screening.enrichment import (
    bedroc,
    enrichment_factor,
    enrichment_metrics,
    rf_ecfp_scores,
    similarity_baseline_scores,
)

SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
LABELS = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])


def bedroc_closed_form(ranks: list[int], n: int, alpha: float) -> float:
    """Truchon & Bayly 2007, eq. 36, with 1-based ranks of the actives."""
    n_act = len(ranks)
    ra = n_act / n
    rie = sum(math.exp(-alpha * r / n) for r in ranks) / (
        ra * (1 - math.exp(-alpha)) / (math.exp(alpha / n) - 1)
    )
    return rie * ra * math.sinh(alpha / 2) / (
        math.cosh(alpha / 2) - math.cosh(alpha / 2 - alpha * ra)
    ) + 1 / (1 - math.exp(alpha * (1 - ra)))


def test_metrics_on_hand_computed_ranking():
    m = enrichment_metrics(SCORES, LABELS)
    # active ranks 1, 3, 10 among 7 inactives: 7 + 6 + 0 winning pairs of 21
    assert m["roc_auc"] == pytest.approx(13 / 21)
    # precision at each active: 1/1, 2/3, 3/10
    assert m["pr_auc"] == pytest.approx((1 + 2 / 3 + 3 / 10) / 3)
    # ceil(0.01 * 10) = ceil(0.05 * 10) = 1 compound, an active: (1/1) / (3/10)
    assert m["ef_1"] == pytest.approx(10 / 3)
    assert m["ef_5"] == pytest.approx(10 / 3)
    assert m["bedroc_20"] == pytest.approx(bedroc_closed_form([1, 3, 10], 10, 20.0), rel=1e-9)
    assert (m["n"], m["n_actives"]) == (10, 3)


def test_enrichment_factor_rounds_top_count_up():
    assert enrichment_factor(SCORES, LABELS, 0.2) == pytest.approx((1 / 2) / (3 / 10))
    assert enrichment_factor(SCORES, LABELS, 0.25) == pytest.approx(
        (2 / 3) / (3 / 10)
    )  # ceil(2.5) = 3


def test_perfect_ranking_bedroc_is_one_and_missing_labels_dropped():
    labels = np.array([1, 1, 0, 0, np.nan, 0])
    scores = np.array([0.9, 0.8, 0.3, 0.2, 0.95, 0.1])
    m = enrichment_metrics(scores, labels)
    assert m["n"] == 5 and m["roc_auc"] == 1.0
    assert bedroc(scores[:4], labels[:4]) == pytest.approx(1.0, abs=1e-6)


def test_single_class_gives_none():
    m = enrichment_metrics(np.array([0.1, 0.2]), np.array([0, 0]))
    assert m["roc_auc"] is None and m["ef_1"] is None and m["n_actives"] == 0


def test_baselines_rank_training_actives_first(bace_head):
    train = bace_head.iloc[:80]
    query = bace_head.iloc[80:]
    train_fps, query_fps = ecfp4_bits(train["smiles"]), ecfp4_bits(query["smiles"])
    # a training active scored against the training set has similarity 1 to itself
    sim_self = similarity_baseline_scores(train_fps, train_fps, train["Class"].to_numpy())
    assert np.all(sim_self[train["Class"].to_numpy() == 1] == 1.0)
    sim = similarity_baseline_scores(query_fps, train_fps, train["Class"].to_numpy())
    rf = rf_ecfp_scores(query_fps, train_fps, train["Class"].to_numpy())
    assert sim.shape == rf.shape == (len(query),)
    assert np.all((rf >= 0) & (rf <= 1)) and np.all((sim >= 0) & (sim <= 1))
