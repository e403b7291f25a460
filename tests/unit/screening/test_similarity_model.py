"""Nearest-neighbour similarity model and rank fusion."""

import numpy as np
import pytest

from drugnet.screening.similarity import (
    fit_fusion_weight,
    rank_fusion,
    similarity_features,
    similarity_model_scores,
)


def test_rank_fusion_of_identical_rankings_is_that_ranking():
    s = np.array([0.3, 0.9, 0.1, 0.5, 0.7])
    fused = rank_fusion([s, s * 10 + 1], [0.3, 0.7])
    assert np.argsort(-fused).tolist() == np.argsort(-s).tolist()
    assert rank_fusion([s, s]).tolist() == pytest.approx([0.4, 1.0, 0.2, 0.6, 0.8])
    with pytest.raises(ValueError):
        rank_fusion([s, s], [1.0])


def test_similarity_model_prefers_analogues_of_actives(bace_head):
    train = bace_head.iloc[:80]
    query = bace_head.iloc[80:120]
    scores = similarity_model_scores(
        query["smiles"].tolist(), train["smiles"].tolist(), train["Class"].to_numpy()
    )
    assert scores.shape == (40,) and (scores >= 0).all() and (scores <= 1).all()
    own = similarity_features(
        train["smiles"].tolist()[:3], train["smiles"][train["Class"] == 1].tolist()
    )
    assert set(own) == {
        "ecfp4.max",
        "ecfp4.mean5",
        "fcfp4.max",
        "fcfp4.mean5",
        "atompair.max",
        "atompair.mean5",
    }
    active_rows = np.flatnonzero(train["Class"].to_numpy()[:3] == 1)
    assert np.allclose(own["ecfp4.max"][active_rows], 1.0)  # an active is its own nearest active


def test_fusion_weight_follows_the_better_scorer_on_validation():
    rng = np.random.default_rng(0)
    y = (rng.uniform(size=400) < 0.1).astype(float)
    good = y + rng.normal(0, 0.3, 400)
    noise = rng.normal(0, 1, 400)
    assert fit_fusion_weight(good, noise, y) >= 0.8
    assert fit_fusion_weight(noise, good, y) <= 0.2
