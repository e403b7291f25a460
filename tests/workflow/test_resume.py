"""Kill and resume: a quick run killed with SIGKILL in the middle of a rule, three times at three
different rules, is finished with the same bytes as an uninterrupted run.

Two kinds of kill: the main Snakemake process alone (``kill -9 <pid>``, an OOM kill; its running
job lives on as an orphan) and the whole process group. After each, the next plain ``snakemake``
stops with ``LockException`` and drugnet's hint (``drugnet/io/workflow_lock.py``: the lock is never
cleared automatically, because orphans may still be writing); once no process of the killed run
is left, ``snakemake --unlock`` and a plain ``snakemake`` finish the run. ``profiles/default`` (a
workflow profile Snakemake 9 applies by itself) sets ``rerun-incomplete`` (otherwise:
``IncompleteFilesException`` whenever a killed job's output exists). The uninterrupted run is the
one ``tests/workflow/test_workflow.py`` checks (``quick_run``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drugnet.io.workflow_lock import group_members
from helpers.workflow import (
    QUICK,
    QUICK_COMPARED,
    run_snakemake,
    snakemake_command,
    snakemake_env,
    snakemake_workdir,
)

RES = Path("results") / "quick"
UNLOCK_HINT = "run `snakemake --unlock`"


def _exists(relative: str) -> Callable[[Path], bool]:
    return lambda res: (res / relative).exists()


def _contains(relative: str, text: str) -> Callable[[Path], bool]:
    def check(res: Path) -> bool:
        try:
            return text in (res / relative).read_text()
        except OSError:
            return False

    return check


# rule, when to kill (the job is running), what to kill, an output of that job that a group kill
# leaves missing (after a main-only kill the orphaned job may finish it; it is rerun all the same)
KILL_POINTS = [
    ("standardize", _exists("logs/tox21/standardize.log"), "main", "tox21/standardized.csv"),
    (
        "train",
        _contains("logs/tox21/train_gnn.log", "member 0"),
        "main",
        "tox21/models/gnn/model.json",
    ),
    (
        "screen_score",
        _exists("logs/screens/bace_safe/score_0.log"),
        "group",
        "screens/bace_safe/shards/0.csv",
    ),
]


def _env(work: Path) -> dict[str, str]:
    (work / "tmp").mkdir(exist_ok=True)
    return {
        **snakemake_env(),
        "TMPDIR": str(work / "tmp"),
    }  # a killed job's temporary files stay in here


def _kill_when(
    work: Path, when: Callable[[Path], bool], log: Path, what: str, timeout: float = 600
) -> None:
    """Start plain ``snakemake`` as its own process group; once ``when``, SIGKILL the main process
    (``what="main"``) or the whole group, then wait until no process of the group is left."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            snakemake_command(*QUICK),
            cwd=work,
            env=_env(work),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    try:
        while not when(work / RES):
            assert proc.poll() is None, (
                f"snakemake ended before the kill point:\n{log.read_text()[-5000:]}"
            )
            assert time.monotonic() < deadline, "kill point not reached in time"
            time.sleep(0.05)
    finally:
        if what == "main":
            os.kill(proc.pid, signal.SIGKILL)
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if what == "main":
        assert group_members(proc.pid), "the killed run's job should outlive its main process"
    deadline = time.monotonic() + timeout  # orphans finish their job; nothing may be left writing
    while group_members(proc.pid):
        assert time.monotonic() < deadline, (
            f"processes of the killed run still alive: {group_members(proc.pid)}"
        )
        time.sleep(0.2)


def _unlock_after_refusal(work: Path) -> str:
    """A plain ``snakemake`` over a killed run's lock refuses with the hint; then unlock."""
    refused = subprocess.run(
        snakemake_command(*QUICK),
        cwd=work,
        env=_env(work),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0 and "LockException" in output, output[-3000:]
    assert UNLOCK_HINT in output and "no longer running" in output, output[-3000:]
    unlocked = run_snakemake(work, "--unlock", *QUICK)
    assert unlocked.returncode == 0, unlocked.stderr[-3000:]
    return output


@pytest.mark.slow
def test_sigkill_mid_rule_then_plain_snakemake_gives_identical_results(tmp_path, quick_run):
    reference, result = quick_run
    assert result.returncode == 0, result.stderr[-5000:]
    (tmp_path / "work").mkdir()
    work = snakemake_workdir(tmp_path / "work")
    logs = []
    for i, (rule, when, what, output) in enumerate(KILL_POINTS):
        assert not when(work / RES), rule
        logs.append(tmp_path / f"run{i}.log")
        _kill_when(work, when, logs[-1], what)
        assert what == "main" or not (work / RES / output).exists(), (
            f"{rule} finished before the kill"
        )
        assert any((work / ".snakemake" / "incomplete").iterdir()), (
            "killed job not marked incomplete"
        )
        assert (work / ".snakemake" / "locks").is_dir(), "a killed run leaves its lock"
        _unlock_after_refusal(work)

    # the user-facing command: plain `snakemake`, no --rerun-incomplete, no --cores
    result = subprocess.run(
        snakemake_command(*QUICK),
        cwd=work,
        env=_env(work),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    for name in QUICK_COMPARED:
        assert (work / RES / name).read_bytes() == (reference / RES / name).read_bytes(), name
    assert not (work / ".snakemake" / "locks").exists()
    assert not any((work / ".snakemake" / "incomplete").iterdir())
    done = run_snakemake(work, "-n", *QUICK)
    assert done.returncode == 0 and "Nothing to be done" in done.stdout + done.stderr, done.stdout[
        -3000:
    ]
