"""End-to-end fixtures: one quick Snakemake run shared by the workflow and kill-and-resume tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers.workflow import QUICK, run_snakemake, snakemake_workdir


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """One uninterrupted ``snakemake --cores 2 --configfile config/quick.yaml`` run (working
    directory, result), shared by the workflow test and the kill-and-resume test."""
    work = snakemake_workdir(tmp_path_factory.mktemp("quick"))
    return work, run_snakemake(work, "--cores", "2", *QUICK, timeout=900)
