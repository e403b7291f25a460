"""The Probing section opens with the answer per model and shows replication, receptive field and
ablation, every figure captioned (files as `drugnet probe` writes them)."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from drugnet.probing.ablation import ABLATION_COLUMNS
from drugnet.probing.replication import FAMILY_SELECTIVITY_COLUMNS
from drugnet.report.probe_findings import answer_paragraph
from drugnet.report.probe_section import probe_section


def _test(rho: float, p: float) -> dict:
    word = "HOLDS" if p < 0.05 and rho > 0 else "DOES NOT HOLD"
    return {
        "rho": rho,
        "p_value": p,
        "n_concepts": 30,
        "n_members": 3,
        "verdict": f"{word} at alpha=0.05: ...",
    }


def _hierarchy() -> dict:
    members = {
        str(m): {
            "tests": {"atom": _test(0.1, 0.2 + m / 10), "molecule": _test(0.3, 0.01 if m else 0.2)},
            "verdict": "...",
        }
        for m in range(3)
    }
    receptive = {
        "atom": {
            "distance_test": {
                "rho": 0.42,
                "p_value": 0.001,
                "fraction_decodable": 0.5,
                "fraction_at_or_after_bound": 0.25,
            },
            "matched_test": {
                **_test(-0.1, 0.8),
                "matched_layer": 2,
                "max_pharmacophore_distance": 2,
            },
        }
    }
    ablation = {
        "status": "done",
        "per_family_layer": [
            {
                "family": "interaction_center",
                "layer": 2,
                "top_drop": 0.05,
                "random_mean_drop": 0.01,
                "excess_drop": 0.04,
            },
            {
                "family": "pharmacophore",
                "layer": 4,
                "top_drop": 0.01,
                "random_mean_drop": 0.01,
                "excess_drop": 0.0,
            },
        ],
    }
    return {
        "verdict": "atom-level concepts: DOES NOT HOLD",
        "tests": {"atom": _test(0.1, 0.31), "molecule": _test(0.3, 0.004)},
        "members": members,
        "agreement": {
            "atom": {"same_peak_fraction": 0.4, "n_concepts": 30, "mean_pairwise_spearman": 0.5}
        },
        "receptive_field": receptive,
        "ablation": ablation,
    }


def _png(path):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1])
    fig.savefig(path, dpi=30)
    plt.close(fig)


def test_answer_paragraph_states_each_level_with_combined_p():
    text = answer_paragraph("tox21", "gnn", _hierarchy())
    assert "at atom level it does not hold (combined over 3 members: ρ = 0.100, p = 0.31" in text
    assert (
        "at molecule level it holds (combined over 3 members" in text
        and "holds in 2/3 member(s) alone" in text
    )
    assert (
        "first decodable layer vs distance ρ = 0.420" in text
        and "matched hierarchy test (layers ≥ 2" in text
    )
    assert "0.040 for interaction centers in layer 2" in text


def test_probe_section_opens_with_the_answer_and_captions_figures(tmp_path):
    folder = tmp_path / "tox" / "probes" / "gnn"
    folder.mkdir(parents=True)
    (folder / "hierarchy.json").write_text(json.dumps(_hierarchy()))
    rows = [
        (0, "atom", 2, fam, kind, d, 2, task, 0.8, 0.8 - drop, drop, "1;2")
        for fam, kind, d, drop in (
            ("interaction_center", "top", 0, 0.06),
            ("", "random", 0, 0.01),
            ("", "random", 1, 0.0),
        )
        for task in ("NR-AhR", "SR-MMP")
    ]
    pd.DataFrame(rows, columns=ABLATION_COLUMNS).to_csv(folder / "ablation.csv", index=False)
    fam = [
        ("atom", "pharmacophore", layer, 3, 20, 0.01 * layer, 0.01, 0.0, 0.02 * layer)
        for layer in (1, 2)
    ]
    pd.DataFrame(fam, columns=FAMILY_SELECTIVITY_COLUMNS).to_csv(
        folder / "family_selectivity.csv", index=False
    )
    for stem in ("receptive_field", "ablation"):
        _png(folder / f"{stem}.png")
    body = probe_section({"datasets": {"tox": {}}}, tmp_path).body
    assert (
        body.index("The answer")
        < body.index("tox / gnn: the hierarchy")
        < body.index("<h3>tox / gnn</h3>")
    )
    assert body.count("data:image/png;base64,") == 2
    assert body.count("How to read:") == 2  # both figures captioned
    assert (
        "replication over ensemble members" in body
        and "combined" in body
        and "40% of 30 concepts" in body
    )
    assert "NR-AhR" in body and "largest excess drops" in body
    assert "+0.020 [+0.000, +0.040]" in body
