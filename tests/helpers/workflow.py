"""Running the repository's Snakefile from tests (``test_workflow.py``, ``test_resume.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers.paths import REPO

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
QUICK = ("--configfile", "config/quick.yaml")
# quick-run outputs that must come out byte-identical however the run got there
QUICK_COMPARED = (
    "tox21/standardized.csv",
    "tox21/split.csv",
    "tox21/metrics.json",
    "bace/metrics.json",
    "screens/bace_safe/ranked.csv",
    "libraries/drugcentral/standardized.csv",
)


def snakemake_workdir(path: Path) -> Path:
    """A working directory for the repository's Snakefile: ``data`` and ``config`` linked in."""
    for name in ("data", "config"):
        (path / name).symlink_to(REPO / name)
    return path


def snakemake_command(*args: str) -> list[str]:
    return [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), *args]


def snakemake_env() -> dict[str, str]:
    """The environment for Snakemake: this interpreter's scripts (``drugnet``) first on PATH."""
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def run_snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        snakemake_command(*args),
        check=False,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=snakemake_env(),
    )
