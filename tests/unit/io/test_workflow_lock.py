"""Snakemake locks are never cleared by drugnet; the hint says whose they are and how to unlock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from drugnet.io.workflow_lock import (
    OWNER_PREFIX,
    forget_owner,
    group_members,
    lock_hint,
    record_owner,
)


def _locked(folder):
    (folder / "locks").mkdir(parents=True)
    (folder / "locks" / "0.output.lock").write_text("results/x.csv\n")
    return folder


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _owner(folder, pid, **fields):
    owner = {"host": socket.gethostname(), "pid": pid, "start_time": None, "pgid": pid, **fields}
    (folder / f"{OWNER_PREFIX}{owner['host']}-{pid}.json").write_text(json.dumps(owner))


def test_no_lock_no_hint_and_dead_records_are_dropped(tmp_path):
    folder = tmp_path / ".snakemake"
    assert lock_hint(folder) is None
    (folder / "locks").mkdir(parents=True)
    _owner(folder, _dead_pid())
    record_owner(folder)
    assert lock_hint(folder) is None
    assert [p.name for p in folder.glob(f"{OWNER_PREFIX}*")] == [
        f"{OWNER_PREFIX}{socket.gethostname()}-{os.getpid()}.json"
    ]


def test_dead_owner_lock_is_kept_and_explained(tmp_path):
    folder = _locked(tmp_path / ".snakemake")
    pid = _dead_pid()
    _owner(folder, pid)
    hint = lock_hint(folder)
    assert f"pid {pid}" in hint and "no longer running" in hint and "snakemake --unlock" in hint
    assert (folder / "locks" / "0.output.lock").exists()


def test_orphaned_jobs_of_a_killed_run_are_named(tmp_path):
    """Main process gone, a job of its process group still running: the hint names the job."""
    folder = _locked(tmp_path / ".snakemake")
    job = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True
    )
    try:
        # the recorded leader started at tick 1 is gone (its pid now names the job); its group
        # lives on
        _owner(folder, job.pid, start_time="1", pgid=job.pid)
        assert group_members(job.pid) == [job.pid]
        hint = lock_hint(folder)
        assert f"still running (pids {job.pid})" in hint, hint
    finally:
        job.kill()
        job.wait()
    assert (folder / "locks").is_dir()


def test_live_run_is_named_and_two_runs_keep_separate_records(tmp_path):
    folder = _locked(tmp_path / ".snakemake")
    other = _dead_pid()
    _owner(folder, other)
    record_owner(folder)
    hint = lock_hint(folder)
    assert f"a running Snakemake (pid {os.getpid()}" in hint and f"pid {other}" in hint
    forget_owner(folder)
    assert "running Snakemake" not in lock_hint(folder) and f"pid {other}" in lock_hint(folder)


def test_unknown_owner_and_other_host(tmp_path):
    folder = _locked(tmp_path / ".snakemake")
    assert "no record" in lock_hint(folder)
    _owner(folder, 4242, host="another-host")
    (folder / f"{OWNER_PREFIX}broken.json").write_text("{not json")
    assert "another host" in lock_hint(folder)
    assert (folder / "locks").is_dir()


def test_snakefile_keeps_a_dead_runs_lock_and_prints_the_hint(tmp_path):
    """Reading the Snakefile over a killed run's lock deletes nothing (the previous code removed
    ``locks/`` when its owner pid was dead, while orphaned jobs could still be writing)."""
    from helpers.workflow import run_snakemake, snakemake_workdir

    work = snakemake_workdir(tmp_path)
    folder = _locked(work / ".snakemake")
    pid = _dead_pid()
    _owner(folder, pid)
    (folder / "drugnet-lock-owner.json").write_text(
        json.dumps({"host": socket.gethostname(), "pid": pid})
    )
    result = run_snakemake(work, "-n", "--quiet", "rules")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (
        "snakemake --unlock" in result.stdout + result.stderr
        and f"pid {pid}" in result.stdout + result.stderr
    )
    assert (folder / "locks" / "0.output.lock").exists()
