"""The Snakemake workflow: the DAG builds, lint is clean, wrong configs stop early, and the quick
config runs every stage end to end with every input row accounted for, twice with identical bytes."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from workflow_helpers import QUICK_COMPARED, REPO, SNAKEMAKE
from workflow_helpers import run_snakemake as _snakemake
from workflow_helpers import snakemake_workdir as _workdir


def test_dry_run_shows_every_stage(tmp_path):
    result = _snakemake(_workdir(tmp_path), "-n", "--quiet", "rules")
    assert result.returncode == 0, result.stderr
    for rule in ("standardize", "split", "featurize", "train", "evaluate", "probe", "screen_score", "screen_rank", "report"):
        assert rule in result.stdout, (rule, result.stdout)


def test_lint_is_clean():
    result = subprocess.run([*SNAKEMAKE, "--lint"], check=False, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert "Lints for" not in result.stdout + result.stderr, result.stdout


def test_wrong_config_fails_before_any_job(tmp_path):
    work = _workdir(tmp_path)
    (work / "bad.yaml").write_text("datasets:\n  bace:\n    split: {method: scafold}\n")
    result = _snakemake(work, "-n", "--configfile", "bad.yaml")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "'scafold'" in output and "['split']['method']" in output, output
    (work / "bad2.yaml").write_text("datasets:\n  bace:\n    targets: [pIC50]\n")
    result = _snakemake(work, "-n", "--configfile", "bad2.yaml")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "datasets.bace.targets[0]" in output and "'pIC50'" in output, output


def _input_rows(path: Path) -> int:
    with gzip.open(path, "rt") as fh:
        return sum(1 for line in fh if line.strip()) - 1


@pytest.mark.slow
def test_quick_config_runs_every_stage(quick_run):
    work, result = quick_run
    assert result.returncode == 0, result.stderr[-5000:]
    res = work / "results" / "quick"

    # every input row merged or rejected with a reason
    for name, source in [("tox21", "data/quick/tox21_every8th.csv.gz"), ("bace", "data/bace.csv.gz"),
                         ("libraries/drugcentral", "data/quick/drugcentral_head400.tsv.gz")]:
        std = pd.read_csv(res / name / "standardized.csv")
        rejects = pd.read_csv(res / name / "rejects.csv")
        assert std["n_merged"].sum() + len(rejects) == _input_rows(REPO / source), name
        assert rejects["reason"].notna().all() and std["inchikey"].is_unique

    split = pd.read_csv(res / "tox21" / "split.csv")
    assert set(split["split"]) == {"train", "val", "test"} and split["inchikey"].is_unique

    metrics = json.loads((res / "tox21" / "metrics.json").read_text())
    assert set(metrics) == {"gnn", "snn", "rf_ecfp"}
    assert set(metrics["gnn"]) >= {"train", "val", "test"}
    assert 0.0 <= metrics["rf_ecfp"]["test"]["mean"]["roc_auc"] <= 1.0
    assert len(metrics["gnn"]["test"]["per_task"]) == 12

    probes = pd.read_csv(res / "tox21" / "probes" / "gnn" / "probes.csv")
    assert list(probes.columns) == ["concept", "family", "level", "layer", "network", "auc", "ci_low", "ci_high", "n_pos", "n_neg",
                                    "member"]
    assert set(probes["network"]) == {"trained", "random_init", "control_task"}
    assert set(probes["member"]) == {0, 1}  # probe.members: all of the quick run's 2
    ablation = pd.read_csv(res / "tox21" / "probes" / "gnn" / "ablation.csv")
    assert set(ablation["units"]) == {"top", "random"} and set(ablation["member"]) == {0, 1}
    assert set(probes["family"]) == {"functional_group", "interaction_center", "pharmacophore"}
    assert "verdict" in json.loads((res / "tox21" / "probes" / "gnn" / "hierarchy.json").read_text())

    ranked = pd.read_csv(res / "screens" / "bace_safe" / "ranked.csv")
    library = pd.read_csv(res / "libraries" / "drugcentral" / "standardized.csv")
    assert len(ranked) == len(library) and list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert ranked["score"].is_monotonic_decreasing
    for column in ("id", "smiles", "n_merged", "score", "bace.Class", "bace.Class.std", "tox21.SR-p53",
                   "ad_similarity", "nearest_train_id", "in_domain", "qed", "alerts", "cluster"):
        assert column in ranked.columns, column
    top = pd.read_csv(res / "screens" / "bace_safe" / "top.csv")
    assert 0 < len(top) <= 20
    assert (res / "screens" / "bace_safe" / "top.sdf").read_text().count("$$$$") == len(top)

    html = (res / "report.html").read_text()
    assert "<svg" in html and "bace_safe" in html

    # same config, second run from scratch: byte-identical outputs on CPU
    result = _snakemake(work, "--cores", "2", "--configfile", "config/quick.yaml", "--config", "results=results/rerun",
                        timeout=900)
    assert result.returncode == 0, result.stderr[-5000:]
    for name in QUICK_COMPARED:
        assert (res / name).read_bytes() == (work / "results" / "rerun" / name).read_bytes(), name

    # Snakemake's own report collects the captioned outputs
    result = _snakemake(work, "--configfile", "config/quick.yaml", "--report", "report.zip", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    import zipfile

    names = zipfile.ZipFile(work / "report.zip").namelist()
    assert any(n.endswith("selectivity_heatmap.png") for n in names) and any(n.endswith("/report.html") for n in names)


@pytest.mark.parametrize("profile", ["local", "slurm"])
def test_profiles_build_the_dag(tmp_path, profile):
    result = _snakemake(_workdir(tmp_path), "-n", "--profile", str(REPO / "profiles" / profile))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "screen_score" in result.stdout and "This was a dry-run" in result.stdout
