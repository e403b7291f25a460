import math

import numpy as np
import pandas as pd
import pytest

from drugnet.screening.desirability import (
    TaskInfo,
    combined_score,
    expand_objectives,
    rank_frame,
)

TASKS = {
    "bace": TaskInfo("classification", ("Class",)),
    "esol": TaskInfo(
        "regression", ("log_solubility",), {"log_solubility": -3.0}, {"log_solubility": 2.0}
    ),
    "tox": TaskInfo("classification", ("NR-AR", "SR-p53")),
}


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def five_compounds() -> pd.DataFrame:
    # c3 and c1 tie, as do c5 and c2; input order puts the larger id first
    return pd.DataFrame(
        {
            "id": ["c3", "c5", "c4", "c1", "c2"],
            "bace.Class": [0.9, 0.5, 0.2, 0.9, 0.5],
            "esol.log_solubility": [-3.0, -1.0, -5.0, -3.0, -1.0],
        }
    )


def test_rank_frame_weighted_geometric_mean_and_tie_order():
    objectives = [
        {"dataset": "bace", "target": "Class", "direction": "maximize", "weight": 1.0},
        {"dataset": "esol", "target": "log_solubility", "direction": "maximize", "weight": 1.0},
    ]
    ranked = rank_frame(five_compounds(), objectives, TASKS)
    assert ranked["id"].tolist() == ["c1", "c3", "c2", "c5", "c4"]
    assert ranked["rank"].tolist() == [1, 2, 3, 4, 5]
    expected = {
        "c1": math.sqrt(0.9 * 0.5),
        "c2": math.sqrt(0.5 * sigmoid(1.0)),
        "c4": math.sqrt(0.2 * sigmoid(-1.0)),
    }
    got = dict(zip(ranked["id"], ranked["score"], strict=False))
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12)
    assert list(ranked.columns[:3]) == ["rank", "id", "score"]


def test_minimize_and_weights():
    objectives = [
        {"dataset": "bace", "target": "Class", "direction": "minimize", "weight": 3.0},
        {"dataset": "esol", "target": "log_solubility", "direction": "maximize", "weight": 1.0},
    ]
    ranked = rank_frame(five_compounds(), objectives, TASKS)
    got = dict(zip(ranked["id"], ranked["score"], strict=False))
    assert got["c4"] == pytest.approx((0.8**3 * sigmoid(-1.0)) ** 0.25)
    assert ranked["id"].iloc[0] == "c4"


def test_target_all_splits_weight_over_tasks():
    columns = expand_objectives(
        [{"dataset": "tox", "target": "all", "direction": "minimize", "weight": 0.5}], TASKS
    )
    assert [c.column for c in columns] == ["tox.NR-AR", "tox.SR-p53"]
    assert [c.weight for c in columns] == [0.25, 0.25]
    frame = pd.DataFrame({"id": ["a"], "tox.NR-AR": [0.2], "tox.SR-p53": [0.6]})
    assert combined_score(frame, columns)[0] == pytest.approx(math.sqrt(0.8 * 0.4))


def test_zero_desirability_is_floored_not_minus_inf():
    columns = expand_objectives(
        [{"dataset": "bace", "target": "Class", "direction": "maximize"}], TASKS
    )
    score = combined_score(pd.DataFrame({"bace.Class": [0.0, 1.0]}), columns)
    assert np.all(np.isfinite(score)) and score[0] < score[1]


def test_unknown_target_rejected():
    with pytest.raises(ValueError, match="no target"):
        expand_objectives([{"dataset": "bace", "target": "pIC50"}], TASKS)
