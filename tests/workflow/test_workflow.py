"""The Snakemake workflow: the DAG builds, lint is clean, wrong configs stop early, and the quick
config runs every stage end to end with every input row accounted for, twice with identical
bytes."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from rdkit import Chem

from helpers.workflow import REPO, SNAKEMAKE
from helpers.workflow import run_snakemake as _snakemake
from helpers.workflow import snakemake_workdir as _workdir


def test_dry_run_shows_every_stage(tmp_path):
    result = _snakemake(_workdir(tmp_path), "-n", "--quiet", "rules")
    assert result.returncode == 0, result.stderr
    for rule in (
        "standardize",
        "split",
        "featurize",
        "train",
        "evaluate",
        "probe",
        "screen_score",
        "screen_rank",
        "report",
    ):
        assert rule in result.stdout, (rule, result.stdout)


def test_tox21_trains_a_second_gnn_from_the_shipped_encoder_and_bace_does_not(tmp_path):
    result = _snakemake(
        _workdir(tmp_path),
        "-n",
        "-p",
        "results/tox21/models/consensus/model.json",
        "results/bace/models/consensus/model.json",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "--output-dir results/tox21/models/gnn_pretrained --model gnn " in out
    assert """--hparams '{"pretrained": "data/pretrained/gnn_encoder.pt"}'""" in out
    assert "--output-dir results/tox21/models/gnn --model gnn --task" in out
    assert "bace/models/gnn_pretrained" not in out and "rule pretrain" not in out
    assert "--models gnn gnn_pretrained snn rf_ecfp --method auto" in out


def test_screens_choose_best_among_the_configured_models_only(tmp_path):
    result = _snakemake(_workdir(tmp_path), "-n", "-p", "results/screens/bace_safe/ranked.csv")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for step in ("drugnet screen score", "drugnet screen rank"):
        commands = [line for line in out.splitlines() if step in line]
        assert commands, out[-3000:]
        for line in commands:
            assert "--best-of=bace=gnn,snn,rf_ecfp,consensus" in line, line
            assert "--best-of=tox21=gnn,gnn_pretrained,snn,rf_ecfp,consensus" in line, line


def test_lint_is_clean():
    result = subprocess.run(
        [*SNAKEMAKE, "--lint"], check=False, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Lints for" not in output and "good condition" in output, output[-3000:]


def test_shard_wildcard_is_digits_only(tmp_path):
    work = _workdir(tmp_path)
    ok = _snakemake(work, "-n", "results/screens/bace_safe/shards/0.csv")
    assert ok.returncode == 0, ok.stderr[-3000:]
    bad = _snakemake(work, "-n", "results/screens/bace_safe/shards/x.csv")
    assert bad.returncode != 0 and "MissingRuleException" in bad.stdout + bad.stderr, bad.stderr[
        -3000:
    ]


def test_wrong_config_fails_before_any_job(tmp_path):
    work = _workdir(tmp_path)
    (work / "bad.yaml").write_text("datasets:\n  bace:\n    split: {method: scafold}\n")
    result = _snakemake(work, "-n", "--configfile", "bad.yaml")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "'scafold'" in output and "config key datasets.bace.split.method" in output, output
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
    for name, source in [
        ("tox21", "data/quick/tox21_every8th.csv.gz"),
        ("bace", "data/bace.csv.gz"),
        ("libraries/drugcentral", "data/quick/drugcentral_head400.tsv.gz"),
    ]:
        std = pd.read_csv(res / name / "standardized.csv")
        rejects = pd.read_csv(res / name / "rejects.csv")
        assert std["n_merged"].sum() + len(rejects) == _input_rows(REPO / source), name
        assert rejects["reason"].notna().all() and std["inchikey"].is_unique

    split = pd.read_csv(res / "tox21" / "split.csv")
    assert set(split["split"]) == {"train", "val", "test"} and split["inchikey"].is_unique

    metrics = json.loads((res / "tox21" / "metrics.json").read_text())
    assert set(metrics) == {"gnn", "gnn_pretrained", "snn", "rf_ecfp", "consensus"}
    bace_metrics = json.loads((res / "bace" / "metrics.json").read_text())
    assert set(bace_metrics) == {"gnn", "snn", "rf_ecfp", "consensus"}
    assert set(metrics["gnn"]) >= {"train", "val", "test"}
    assert {m["fit"] for split in metrics.values() for m in split.values()} == {
        "selection"
    }  # no external set here
    consensus = json.loads((res / "tox21" / "models" / "consensus" / "model.json").read_text())
    assert (
        consensus["models"] == ["gnn", "gnn_pretrained", "snn", "rf_ecfp"]
        and consensus["method"] in consensus["crossfit_val_scores"]
    )
    gnn = json.loads((res / "tox21" / "models" / "gnn" / "model.json").read_text())
    assert gnn["refit"] is True and gnn["hparams"]["pretrained"] is None
    # the second GNN fine-tuned from the encoder this quick run pretrained (pretrain.rebuild)
    tuned = json.loads((res / "tox21" / "models" / "gnn_pretrained" / "model.json").read_text())
    assert tuned["kind"] == "gnn" and tuned["hparams"]["pretrained"].endswith(
        "results/quick/pretrain/gnn_encoder.pt"
    )
    assert 0.0 <= metrics["rf_ecfp"]["test"]["mean"]["roc_auc"] <= 1.0
    assert len(metrics["gnn"]["test"]["per_task"]) == 12

    probes = pd.read_csv(res / "tox21" / "probes" / "gnn" / "probes.csv")
    assert list(probes.columns) == [
        "concept",
        "family",
        "level",
        "layer",
        "network",
        "auc",
        "ci_low",
        "ci_high",
        "n_pos",
        "n_neg",
        "member",
    ]
    assert set(probes["network"]) == {"trained", "random_init", "control_task"}
    assert set(probes["member"]) == {0, 1}  # probe.members: all of the quick run's 2
    ablation = pd.read_csv(res / "tox21" / "probes" / "gnn" / "ablation.csv")
    assert set(ablation["units"]) == {"top", "random"} and set(ablation["member"]) == {0, 1}
    assert set(probes["family"]) == {"functional_group", "interaction_center", "pharmacophore"}
    assert "verdict" in json.loads(
        (res / "tox21" / "probes" / "gnn" / "hierarchy.json").read_text()
    )

    ranked = pd.read_csv(res / "screens" / "bace_safe" / "ranked.csv")
    library = pd.read_csv(res / "libraries" / "drugcentral" / "standardized.csv")
    assert len(ranked) == len(library) and list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert ranked["score"].is_monotonic_decreasing
    for column in (
        "id",
        "smiles",
        "n_merged",
        "score",
        "bace.Class",
        "bace.Class.std",
        "tox21.SR-p53",
        "ad_similarity",
        "nearest_train_id",
        "in_domain",
        "qed",
        "alerts",
        "cluster",
    ):
        assert column in ranked.columns, column
    top = pd.read_csv(res / "screens" / "bace_safe" / "top.csv")
    assert 0 < len(top) <= 20
    assert (res / "screens" / "bace_safe" / "top.sdf").read_text().count("$$$$") == len(top)

    html = (res / "report.html").read_text()
    assert "<svg" in html and "bace_safe" in html

    # a second run from scratch giving the same bytes is checked by test_resume.py (killed and
    # resumed run vs this one) and test_cluster.py (SLURM run vs this one)

    # Snakemake's own report collects the captioned outputs
    result = _snakemake(
        work, "--configfile", "config/quick.yaml", "--report", "report.zip", timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    import zipfile

    names = zipfile.ZipFile(work / "report.zip").namelist()
    assert any(n.endswith("selectivity_heatmap.png") for n in names) and any(
        n.endswith("/report.html") for n in names
    )


@pytest.mark.parametrize("profile", ["local", "slurm"])
def test_profiles_build_the_dag(tmp_path, profile):
    result = _snakemake(_workdir(tmp_path), "-n", "--profile", str(REPO / "profiles" / profile))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "screen_score" in result.stdout and "This was a dry-run" in result.stdout


NA_IDS = ["NA", "None", "null", "nan", "N/A", "NaN", "#N/A", "<NA>", "n/a", "NULL"]
MINIMAL_CONFIG = """\
results: results
datasets:
  esol:                      # only the three required keys: every other setting is a default
    path: inputs/esol.csv
    task: regression
    targets: [log_solubility]
  odd:
    path: inputs/odd.csv
    id_column: name
    task: regression
    targets: [log_solubility]
libraries:
  lib:
    path: inputs/lib.csv
    id_column: name
model:
  models: [snn, rf_ecfp]
  ensemble: 1
  snn: {hidden: 32, depth: 2, epochs: 2, patience: 2, warmup_epochs: 1}
  rf_ecfp: {n_estimators: 20}
probe: {max_molecules: 100, atoms_per_molecule: 2, min_positives: 10, n_boot: 100}
campaigns:
  soluble:
    library: lib
    objectives: [{dataset: odd, target: log_solubility}]
    top_n: 100                  # every compound reaches top.sdf, the line-break id too
    annotate_top: 100
    explain_top: 10
    filters: {max_per_cluster: 100}
    shards: 2
"""


def _write_inputs(folder: Path) -> None:
    """ESOL molecules: a plain dataset, one whose ids look like missing values, and a library
    whose ids hold line breaks, ``$$$$``, ``;``, a duplicate and blanks."""
    esol = pd.read_csv(REPO / "data" / "esol_delaney.csv.gz")
    folder.mkdir()
    esol.iloc[:300].to_csv(folder / "esol.csv", index=False)
    odd = esol.iloc[300:500].copy()
    odd.insert(0, "name", NA_IDS + [f"odd{i}" for i in range(len(odd) - len(NA_IDS))])
    odd.to_csv(folder / "odd.csv", index=False)
    lib = esol.iloc[500:580][["smiles"]].copy()
    names = [f"L{i}" for i in range(len(lib))]
    names[:8] = ["evil\n$$$$\ninjected", "a;b", "NA", "", "dup", "dup", "tab\tid", "None"]
    lib.insert(0, "name", names)
    lib.to_csv(folder / "lib.csv", index=False)


@pytest.mark.slow
def test_minimal_dataset_block_and_odd_ids_run_end_to_end(tmp_path):
    work = tmp_path
    (work / "config").mkdir()
    (work / "config" / "config.yaml").write_text(MINIMAL_CONFIG)
    _write_inputs(work / "inputs")
    result = _snakemake(work, "--cores", "2", timeout=1200)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    res = work / "results"

    split = pd.read_csv(res / "esol" / "split.csv")
    assert set(split["split"]) == {
        "train",
        "val",
        "test",
    }  # the documented default split was applied
    assert (
        json.loads((res / "esol" / "models" / "snn" / "model.json").read_text())["ensemble_size"]
        == 1
    )

    std = pd.read_csv(res / "odd" / "standardized.csv", dtype=str, keep_default_na=False)
    odd_split = pd.read_csv(res / "odd" / "split.csv", dtype=str, keep_default_na=False)
    assert set(NA_IDS) <= set(std["id"]) and odd_split["id"].tolist() == std["id"].tolist()
    assert "test" in json.loads((res / "odd" / "metrics.json").read_text())["snn"]

    lib = pd.read_csv(
        res / "libraries" / "lib" / "standardized.csv", dtype=str, keep_default_na=False
    )
    rejects = pd.read_csv(
        res / "libraries" / "lib" / "rejects.csv", dtype=str, keep_default_na=False
    )
    assert (
        lib["id"].is_unique and "#4" in set(lib["id"]) and {"NA", "None", "a;b"} <= set(lib["id"])
    )
    assert rejects.loc[rejects["id"] == "dup", "reason"].str.startswith("duplicate_id").all()
    assert sum(len(json.loads(ids)) for ids in lib["merged_ids"]) + len(rejects) == 80

    ranked = pd.read_csv(
        res / "screens" / "soluble" / "ranked.csv", dtype={"id": str}, keep_default_na=False
    )
    assert len(ranked) == len(lib) and ranked["id"].is_unique
    top = pd.read_csv(
        res / "screens" / "soluble" / "top.csv", dtype={"id": str}, keep_default_na=False
    )
    mols = list(Chem.SDMolSupplier(str(res / "screens" / "soluble" / "top.sdf")))
    assert len(mols) == len(top) == len(ranked) and all(m is not None for m in mols)
    assert "evil\n$$$$\ninjected" in set(top["id"]) and "evil $$$$ injected" in {
        m.GetProp("_Name") for m in mols
    }
    assert (res / "report.html").is_file()
