"""Property desirability windows on hand-checked values; expected / lcb / mean rankings; a planted
out-of-domain compound with a confident raw prediction ranks below in-domain ones by default."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import beta as beta_fn

from drugnet.inference.calibration import apply_shrinkage
from drugnet.screening.desirability import (
    DEFAULT_RANKING,
    TaskInfo,
    combined_score,
    expand_objectives,
)
from drugnet.screening.properties import property_values, window_desirability
from helpers.paths import DATA

TASKS = {"bace": TaskInfo("classification", ("Class",))}


def test_window_desirability_hand_checked():
    values = np.array([150.0, 200.0, 350.0, 500.0, 550.0, 600.0, 700.0, np.nan])
    d = window_desirability(values, (200.0, 500.0), 100.0)
    assert d.tolist() == [0.5, 1.0, 1.0, 1.0, 0.5, 0.0, 0.0, 0.0]
    assert window_desirability(
        np.array([0.3, 0.5, 0.9]), (0.5, None), 0.2
    ).tolist() == pytest.approx([0.0, 1.0, 1.0])
    assert window_desirability(np.array([0.0, 1.0, 2.0]), (None, 0.0), 1.0).tolist() == [
        1.0,
        0.0,
        0.0,
    ]


def test_property_values_of_real_molecules():
    # aspirin: MW 180.16, 1 donor, TPSA 63.6, one Brenk alert (phenol ester); ibuprofen: none
    frame = property_values(
        ["CC(=O)Oc1ccccc1C(=O)O", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "not a smiles"],
        ["mw", "hbd", "tpsa", "alerts", "qed"],
    )
    assert frame["mw"].iloc[0] == pytest.approx(180.159, abs=1e-3)
    assert frame["hbd"].iloc[0] == 1 and frame["tpsa"].iloc[0] == pytest.approx(63.6, abs=0.05)
    assert frame["n_alerts"].iloc[0] == 1 and frame["n_alerts"].iloc[1] == 0
    assert frame["qed"].iloc[0] == pytest.approx(0.550, abs=1e-3)
    assert frame.iloc[2].isna().all()


def test_property_values_in_worker_processes_equal_one_process():
    """Chunks in two processes give the same frame, in input order (the score step's
    ``--threads``)."""
    frame = pd.read_csv(DATA / "quick" / "drugcentral_head400.tsv.gz", sep="\t")
    smiles = frame["SMILES"].tolist()[:120] + ["not a smiles"]
    names = ["mw", "qed", "clogp", "tpsa", "hbd", "alerts"]
    one = property_values(smiles, names)
    two = property_values(smiles, names, threads=2, chunk=25)
    pd.testing.assert_frame_equal(one, two)
    assert one["n_alerts"].gt(0).sum() > 10 and one.iloc[-1].isna().all()


def test_property_objective_in_the_geometric_mean():
    objectives = [
        {"dataset": "bace", "target": "Class", "weight": 1.0},
        {"property": "mw", "window": [200, 500], "weight": 1.0},
    ]
    columns = expand_objectives(objectives, TASKS)
    frame = pd.DataFrame(
        {"bace.Class": [0.8, 0.8], "bace.Class.std": [0.0, 0.0], "mw": [300.0, 550.0]}
    )
    score = combined_score(frame, columns, "mean")
    assert score.tolist() == pytest.approx([math.sqrt(0.8), math.sqrt(0.8 * 0.5)])
    with pytest.raises(ValueError, match="window"):
        expand_objectives([{"property": "mw", "window": [500, 200]}], TASKS)
    with pytest.raises(ValueError, match="must be one of"):
        expand_objectives([{"property": "weight", "window": [1, 2]}], TASKS)


def test_expected_is_the_beta_moment_and_lcb_subtracts_one_std():
    columns = expand_objectives(
        [
            {"dataset": "bace", "target": "Class", "weight": 2.0},
            {"property": "qed", "window": [0.5, None], "weight": 2.0},
        ],
        TASKS,
    )
    frame = pd.DataFrame({"bace.Class": [0.7], "bace.Class.std": [0.2], "qed": [0.6]})
    m, v, k = 0.7, 0.04, 0.5
    kappa = m * (1 - m) / v - 1
    a, b = m * kappa, (1 - m) * kappa
    assert combined_score(frame, columns, "expected")[0] == pytest.approx(
        beta_fn(a + k, b) / beta_fn(a, b)
    )
    assert combined_score(frame, columns, "lcb")[0] == pytest.approx(math.sqrt(0.5))
    assert combined_score(frame, columns, "mean")[0] == pytest.approx(math.sqrt(0.7))
    frame["bace.Class.std"] = 0.0  # no uncertainty: every mode is the plain geometric mean
    assert (
        len(
            {
                round(float(combined_score(frame, columns, r)[0]), 12)
                for r in ("expected", "lcb", "mean")
            }
        )
        == 1
    )


def test_planted_out_of_domain_compound_ranks_below_in_domain_ones():
    """Raw p = 0.9999 at similarity 0.15 vs in-domain p = 0.75-0.9: after the domain shrinkage,
    the default ranking puts the planted compound last."""
    shrink = {"beta": 40.0, "threshold": 0.35, "prevalence": [0.45]}
    raw = np.array([[0.9999], [0.9], [0.8], [0.75]])
    std = np.array([[0.0001], [0.05], [0.08], [0.1]])
    sim = np.array([0.15, 0.7, 0.6, 0.55])
    mean, sd, w = apply_shrinkage(shrink, raw, std, sim)
    frame = pd.DataFrame({"bace.Class": mean[:, 0], "bace.Class.std": sd[:, 0]})
    columns = expand_objectives([{"dataset": "bace", "target": "Class"}], TASKS)
    score = combined_score(frame, columns, DEFAULT_RANKING)
    assert DEFAULT_RANKING == "expected"
    assert np.argsort(-score).tolist() == [1, 2, 3, 0]
    assert w[0] < 0.01 and mean[0, 0] == pytest.approx(0.45, abs=0.01)
    # without the domain (raw, mean ranking) it would have been first
    raw_frame = pd.DataFrame({"bace.Class": raw[:, 0], "bace.Class.std": std[:, 0]})
    assert int(np.argmax(combined_score(raw_frame, columns, "mean"))) == 0


def test_unknown_ranking_is_a_clear_error():
    columns = expand_objectives([{"dataset": "bace", "target": "Class"}], TASKS)
    with pytest.raises(ValueError, match="ranking must be one of"):
        combined_score(
            pd.DataFrame({"bace.Class": [0.5], "bace.Class.std": [0.1]}), columns, "best"
        )


def test_score_library_applies_shrinkage_threshold_and_properties(bace_head):
    """A library scored end to end (score step): the planted far compound with a confident raw
    prediction gets ``ad_weight`` ~0, is out of domain at the fitted threshold, and ranks last."""
    from drugnet.screening.ordering import sort_by_rank
    from drugnet.screening.score import DatasetModel, score_library

    train = bace_head.iloc[:60]
    library = pd.DataFrame(
        {
            "id": ["near1", "near2", "far"],
            "smiles": [
                bace_head["smiles"].iloc[0],
                bace_head["smiles"].iloc[1],
                "CCCCCCCCCCCCCCCC(=O)OCC(COP(=O)(O)OCC[N+](C)(C)C)OC(=O)CCCCCCCCCCCCCCC",
            ],
            "n_merged": 1,
        }
    )
    calibration = {"shrinkage": {"threshold": 0.4, "beta": 40.0, "prevalence": [0.45]}}
    dm = DatasetModel(
        "bace",
        None,
        TaskInfo("classification", ("Class",)),
        train["id"].tolist(),
        train["smiles"].tolist(),
        train[["Class"]].reset_index(drop=True),
        calibration=calibration,
    )

    def predictor(smiles):
        raw = np.array([[0.8], [0.7], [0.9999]])[: len(smiles)]
        return raw, np.full_like(raw, 0.05)

    campaign = {
        "objectives": [
            {"dataset": "bace", "target": "Class"},
            {"property": "mw", "window": [200, 500], "weight": 0.5},
        ]
    }
    out = sort_by_rank(score_library(library, [dm], {"bace": predictor}, campaign=campaign))
    assert out["id"].tolist()[-1] == "far"
    far = out.set_index("id").loc["far"]
    assert (
        far["ad_weight"] < 0.01
        and not far["in_domain"]
        and far["bace.Class"] == pytest.approx(0.45, abs=0.01)
    )
    assert far["bace.Class.std"] > 0.45 and far["mw"] > 700
    near = out.set_index("id").loc["near1"]
    assert (
        near["in_domain"]
        and near["ad_similarity"] == 1.0
        and near["bace.Class"] == pytest.approx(0.8, abs=1e-6)
    )
    # a number overrides the fitted threshold for every dataset
    strict = score_library(library, [dm], {"bace": predictor}, ad_threshold=1.01, campaign=campaign)
    assert not strict["in_domain"].any()
