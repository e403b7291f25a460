"""The Snakefile on a real SLURM cluster: a throw-away single-node cluster (munged, slurmctld,
slurmd in a temporary folder, ``tests/helpers/slurm_cluster.py``) runs the quick config through
``--profile profiles/slurm`` (snakemake-executor-plugin-slurm: every job goes through ``sbatch``),
and its outputs must be byte-identical to the local quick run (the ``quick_run`` fixture).

Needs the Debian packages ``slurm-wlm`` and ``munge`` and root; ``.ci/run`` installs them. In CI
(``CI=true``) a SLURM that is missing or does not start FAILS this test; elsewhere a machine without
the packages or root skips it with the reason.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from helpers.slurm_cluster import ClusterError, SlurmCluster, missing_binaries
from helpers.workflow import (
    QUICK,
    QUICK_COMPARED,
    REPO,
    snakemake_command,
    snakemake_env,
    snakemake_workdir,
)

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

#: ``squeue`` tracks the jobs (no accounting database); status checks start after 1 s, not 40.
SLURM_ARGS = (
    "--slurm-no-account",
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "1",
    "--latency-wait",
    "10",
)


def _slurm_problems() -> list[str]:
    missing = missing_binaries()
    problems = (
        [f"missing {', '.join(missing)} (apt-get install slurm-wlm munge)"] if missing else []
    )
    if os.geteuid() != 0:
        problems.append("not root (slurmd starts jobs as their owner)")
    return problems


@pytest.fixture(scope="session")
def slurm_installed() -> None:
    """Skip (outside CI) or fail (CI) before the quick-run fixture spends its minutes."""
    problems = _slurm_problems()
    if not problems:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"SLURM cannot start in CI: {'; '.join(problems)}")
    pytest.skip(f"SLURM not available here: {'; '.join(problems)}; .ci/run installs it")


def _slurm_jobs(cluster: SlurmCluster) -> list[str]:
    """``name state`` of every job slurmctld still knows (``MinJobAge`` keeps finished ones)."""
    result = subprocess.run(
        ["squeue", "-h", "-t", "all", "-o", "%j %T"],
        capture_output=True,
        text=True,
        env=cluster.env(),
        check=True,
    )
    return result.stdout.split("\n")[:-1]


def _run_on_cluster(cluster: SlurmCluster, work) -> tuple[subprocess.CompletedProcess, list[str]]:
    targets = [f"results/quick/{name}" for name in QUICK_COMPARED]
    try:
        try:
            cluster.start()
        except (ClusterError, OSError, subprocess.CalledProcessError) as exc:
            pytest.fail(f"SLURM did not start: {exc}")
        command = snakemake_command(
            "--profile", str(REPO / "profiles" / "slurm"), *targets, *SLURM_ARGS, *QUICK
        )
        result = subprocess.run(
            command,
            cwd=work,
            env={**snakemake_env(), **cluster.env()},
            capture_output=True,
            text=True,
            timeout=2400,
        )
        return result, _slurm_jobs(cluster)
    finally:
        cluster.stop()


def test_quick_run_on_slurm_equals_local_run(slurm_installed, quick_run, tmp_path):
    local_work, local = quick_run
    assert local.returncode == 0, local.stderr[-3000:]
    cluster = SlurmCluster(tmp_path / "cluster")
    (tmp_path / "work").mkdir()
    work = snakemake_workdir((tmp_path / "work").resolve())
    result, jobs = _run_on_cluster(cluster, work)
    assert result.returncode == 0, result.stderr[-6000:] + "\n" + cluster.logs()
    assert jobs and all(job.endswith(" COMPLETED") for job in jobs), jobs
    assert len(jobs) >= 10, jobs  # standardize, split, featurize, train, evaluate, score, rank ...
    for name in QUICK_COMPARED:
        ours = work / "results" / "quick" / name
        assert ours.read_bytes() == (local_work / "results" / "quick" / name).read_bytes(), name
