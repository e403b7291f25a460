"""Run the atheris intake harness (``atheris_intake.py``) for a bounded, seeded number of runs.

atheris ships binary wheels for CPython 3.11-3.13 on Linux x86-64 only (the ``test`` extra
installs it there); elsewhere this test is skipped and ``test_intake_fuzz.py`` (Hypothesis,
including raw random bytes) still runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

if os.environ.get("CI"):
    # CI installs atheris (the test extra, Python 3.11 on Linux x86-64): missing there is a failure
    import atheris  # noqa: F401
else:
    pytest.importorskip(
        "atheris", reason="atheris wheels exist for CPython 3.11-3.13 on Linux x86-64 only"
    )

HARNESS = Path(__file__).resolve().parent / "atheris_intake.py"
RUNS = 2000


def test_atheris_intake_runs_clean(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    command = [
        sys.executable,
        str(HARNESS),
        f"-atheris_runs={RUNS}",
        "-seed=1",
        "-timeout=20",
        "-max_len=1024",
        "-rss_limit_mb=4096",
        f"-artifact_prefix={tmp_path}/",
        str(corpus),
    ]
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "DRUGNET_ATHERIS_WORKDIR": str(work)}
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    crashes = sorted(p.name for p in tmp_path.glob("*-*") if p.is_file())
    assert done.returncode == 0 and not crashes, (
        f"atheris found a failing input {crashes} (exit {done.returncode}):\n{done.stderr[-6000:]}"
    )
    assert "Done" in done.stderr
