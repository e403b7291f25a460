"""Kill and resume: a quick run killed with SIGKILL in the middle of a rule, three times at three
different rules, is finished by a plain ``snakemake`` with the same bytes as an uninterrupted run.

Plain ``snakemake`` resumes because the Snakefile clears the lock a killed run leaves behind
(``drugnet/workflow_lock.py``; otherwise: ``LockException`` until ``snakemake --unlock``) and
``profiles/default`` (a workflow profile Snakemake 9 applies by itself) sets ``rerun-incomplete``
(otherwise: ``IncompleteFilesException`` whenever a killed job's output exists, e.g. the evaluate
rule's ``predictions/`` folder; outputs written through ``drugnet.io.atomic`` do not exist until
complete). The uninterrupted run is the one ``tests/test_workflow.py`` checks (``quick_run``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from workflow_helpers import (
    QUICK,
    QUICK_COMPARED,
    run_snakemake,
    snakemake_command,
    snakemake_env,
    snakemake_workdir,
)

RES = Path("results") / "quick"
STALE_LOCK_MESSAGE = "removed the lock left by a killed Snakemake run"


def _exists(relative: str) -> Callable[[Path], bool]:
    return lambda res: (res / relative).exists()


def _contains(relative: str, text: str) -> Callable[[Path], bool]:
    def check(res: Path) -> bool:
        try:
            return text in (res / relative).read_text()
        except OSError:
            return False
    return check


# rule, when to kill (the job is running), an output of that job that must still be missing
KILL_POINTS = [
    ("standardize", _exists("logs/tox21/standardize.log"), "tox21/standardized.csv"),
    ("train", _contains("logs/tox21/train_gnn.log", "member 0"), "tox21/models/gnn/model.json"),
    ("screen_score", _exists("logs/screens/bace_safe/score_0.log"), "screens/bace_safe/shards/0.csv"),
]


def _env(work: Path) -> dict[str, str]:
    (work / "tmp").mkdir(exist_ok=True)
    return {**snakemake_env(), "TMPDIR": str(work / "tmp")}  # a killed job's temporary files stay in here


def _kill_when(work: Path, when: Callable[[Path], bool], log: Path, timeout: float = 600) -> None:
    """Start plain ``snakemake`` in its own process group; SIGKILL the whole group once ``when``."""
    with open(log, "w") as out:
        proc = subprocess.Popen(snakemake_command(*QUICK), cwd=work, env=_env(work), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while not when(work / RES):
            assert proc.poll() is None, f"snakemake ended before the kill point:\n{log.read_text()[-5000:]}"
            assert time.monotonic() < deadline, "kill point not reached in time"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # snakemake and every job it started
        proc.wait()
    for _ in range(100):  # children re-parented to init may take a moment to go
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("processes of the killed run are still alive")


@pytest.mark.slow
def test_sigkill_mid_rule_then_plain_snakemake_gives_identical_results(tmp_path, quick_run):
    reference, result = quick_run
    assert result.returncode == 0, result.stderr[-5000:]
    (tmp_path / "work").mkdir()
    work = snakemake_workdir(tmp_path / "work")
    logs = []
    for i, (rule, when, output) in enumerate(KILL_POINTS):
        assert not when(work / RES), rule
        logs.append(tmp_path / f"run{i}.log")
        _kill_when(work, when, logs[-1])
        assert not (work / RES / output).exists(), f"{rule} finished before the kill"
        assert any((work / ".snakemake" / "incomplete").iterdir()), "killed job not marked incomplete"
        assert (work / ".snakemake" / "locks").is_dir(), "a killed run leaves its lock"

    # the user-facing command: plain `snakemake`, no --unlock, no --rerun-incomplete, no --cores
    result = subprocess.run(snakemake_command(*QUICK), cwd=work, env=_env(work), capture_output=True, text=True,
                            timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-5000:]
    for log in logs[1:]:  # runs 2 and 3 started over a killed run's lock
        assert STALE_LOCK_MESSAGE in log.read_text(), log.read_text()[-3000:]
    assert STALE_LOCK_MESSAGE in result.stderr
    for name in QUICK_COMPARED:
        assert (work / RES / name).read_bytes() == (reference / RES / name).read_bytes(), name
    assert not (work / ".snakemake" / "locks").exists()
    assert not any((work / ".snakemake" / "incomplete").iterdir())
    done = run_snakemake(work, "-n", *QUICK)
    assert done.returncode == 0 and "Nothing to be done" in done.stdout + done.stderr, done.stdout[-3000:]
