"""The one-line ``why`` of top.csv: objectives met/missed, domain, nearest training compound and
its label."""

import pandas as pd

from drugnet.screening.desirability import TaskInfo
from drugnet.screening.score import DatasetModel
from drugnet.screening.why import why_column


def _bace_model() -> DatasetModel:
    labels = pd.DataFrame({"Class": [1.0, 0.0]})
    calibration = {"shrinkage": {"threshold": 0.41, "beta": 40.0, "prevalence": [0.45]}}
    return DatasetModel(
        "bace",
        None,
        TaskInfo("classification", ("Class",)),
        ["b1", "b2"],
        ["CC(=O)Nc1ccc(O)cc1", "c1ccccc1O"],
        labels,
        calibration=calibration,
    )


def test_why_names_objectives_domain_and_nearest_label():
    campaign = {
        "objectives": [
            {"dataset": "bace", "target": "Class"},
            {"property": "mw", "window": [200, 500]},
            {"property": "qed", "window": [0.5, None]},
        ]
    }
    frame = pd.DataFrame(
        {
            "bace.Class": [0.82, 0.45],
            "bace.Class.std": [0.05, 0.49],
            "ad_similarity": [0.62, 0.2],
            "nearest_train_id": ["b1", "b2"],
            "mw": [320.0, 650.0],
            "qed": [0.71, 0.2],
        }
    )
    why = why_column(frame, campaign, [_bace_model()])
    assert why[0] == (
        "bace.Class 0.82+-0.05 (in domain: sim 0.62 >= 0.41 to b1, Class=1); meets mw, qed"
    )
    assert why[1] == (
        "bace.Class 0.45+-0.49 (OUT of domain: sim 0.20 < 0.41 to b2, Class=0); "
        "misses mw 650.00, qed 0.20"
    )


def test_campaign_threshold_overrides_the_fitted_one():
    campaign = {"objectives": [{"dataset": "bace", "target": "Class"}], "in_domain_threshold": 0.7}
    frame = pd.DataFrame(
        {
            "bace.Class": [0.8],
            "bace.Class.std": [0.1],
            "ad_similarity": [0.62],
            "nearest_train_id": ["b1"],
        }
    )
    assert "OUT of domain: sim 0.62 < 0.70" in why_column(frame, campaign, [_bace_model()])[0]
