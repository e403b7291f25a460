"""Shared fixtures: paths to the bundled data, the repository root, and one quick Snakemake run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from workflow_helpers import QUICK, run_snakemake, snakemake_workdir

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """One uninterrupted ``snakemake --cores 2 --configfile config/quick.yaml`` run (working
    directory, result), shared by the workflow test and the kill-and-resume test."""
    work = snakemake_workdir(tmp_path_factory.mktemp("quick"))
    return work, run_snakemake(work, "--cores", "2", *QUICK, timeout=900)
