"""The report opens with a one-screen summary: top 10 with depictions and why, shortlist numbers,
best model per dataset; reliability diagrams are drawn from calibrated predictions."""

import json

import numpy as np
import pandas as pd

from drugnet.report import SECTIONS
from drugnet.report.plots import reliability_diagrams, reliability_points
from drugnet.report.summary_section import shortlist_stats, summary_section

SMILES = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
    "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21",
    "CC(C)NCC(O)COc1cccc2ccccc12",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
] * 3


def test_summary_is_the_first_section_and_shows_the_shortlist(tmp_path):
    assert SECTIONS[0][0] == "summary"
    folder = tmp_path / "screens" / "camp"
    folder.mkdir(parents=True)
    n = len(SMILES)
    ranked = pd.DataFrame(
        {
            "rank": range(1, n + 1),
            "id": [f"c{i}" for i in range(n)],
            "smiles": SMILES,
            "score": np.linspace(0.9, 0.1, n),
            "bace.Class": 0.7,
            "bace.Class.std": 0.1,
            "ad_similarity": 0.5,
            "in_domain": [True] * 12 + [False] * 3,
            "mw": [180.0 + 10 * i for i in range(n)],
            "qed": 0.6,
            "why": "bace.Class 0.70+-0.10 (in domain)",
        }
    )
    ranked.to_csv(folder / "ranked.csv", index=False)
    ranked.head(12).to_csv(folder / "top.csv", index=False)
    (tmp_path / "bace").mkdir()
    metrics = {
        m: {"val": {"mean": {"roc_auc": v}}, "test": {"mean": {"roc_auc": v - 0.1, "ece": 0.05}}}
        for m, v in (("gnn", 0.8), ("rf_ecfp", 0.85))
    }
    (tmp_path / "bace" / "metrics.json").write_text(json.dumps(metrics))
    config = {
        "campaigns": {
            "camp": {
                "library": "lib",
                "objectives": [
                    {"dataset": "bace", "target": "Class"},
                    {"property": "mw", "window": [200, 500]},
                ],
            }
        },
        "datasets": {"bace": {}},
    }
    html = summary_section(config, tmp_path).render()
    assert html.count('class="card"') == 10
    assert "80 % in domain" in html and "max MW 320" in html and "mw in [200, 500]" in html
    assert "rf_ecfp" in html and "bace.Class 0.70+-0.10 (in domain)" in html
    stats = shortlist_stats(ranked, 10)
    assert stats["in_domain"] == 1.0 and stats["median_qed"] == 0.6 and stats["max_mw"] == 270.0


def test_reliability_points_and_diagram():
    y = np.array([0, 0, 1, 1, 1, 0], float)
    p = np.array([0.05, 0.15, 0.95, 0.92, 0.55, 0.52])
    mean_p, frac, count = reliability_points(y, p)
    assert (
        mean_p.tolist() == [0.05, 0.15, 0.535, 0.935]
        and frac.tolist() == [0, 0, 0.5, 1]
        and count.tolist() == [1, 1, 2, 2]
    )
    svg = reliability_diagrams({"Class": {"gnn": (y, p)}})
    assert svg.startswith("<svg") or "<svg" in svg[:500]
