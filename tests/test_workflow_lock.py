"""Stale Snakemake locks: cleared only when the recorded owner is a dead process on this host."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from drugnet.workflow_lock import (
    OWNER_FILE,
    clear_stale_lock,
    forget_owner,
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


def _owner(folder, **fields):
    owner = {"host": socket.gethostname(), "pid": os.getpid(), "start_time": None, **fields}
    (folder / OWNER_FILE).write_text(json.dumps(owner))


def test_live_owner_keeps_lock_and_forget_removes_own_record(tmp_path):
    folder = _locked(tmp_path / ".snakemake")
    record_owner(folder)
    assert json.loads((folder / OWNER_FILE).read_text())["pid"] == os.getpid()
    assert clear_stale_lock(folder) is None and (folder / "locks").is_dir()
    forget_owner(folder)
    assert not (folder / OWNER_FILE).exists()


def test_dead_owner_lock_is_cleared(tmp_path):
    folder = _locked(tmp_path / ".snakemake")
    _owner(folder, pid=_dead_pid())
    message = clear_stale_lock(folder)
    assert message and "killed" in message
    assert not (folder / "locks").exists() and not (folder / OWNER_FILE).exists()


def test_reused_pid_counts_as_dead(tmp_path):
    folder = _locked(tmp_path / ".snakemake")
    _owner(folder, start_time="1")  # this process, but not the one that started at tick 1
    assert clear_stale_lock(folder) is not None or not os.path.isdir("/proc")


def test_unknown_owner_other_host_or_no_record_keep_lock(tmp_path):
    folder = _locked(tmp_path / ".snakemake")
    assert clear_stale_lock(folder) is None  # killed before onstart, or a dry run: no record
    _owner(folder, host="another-host", pid=_dead_pid())
    assert clear_stale_lock(folder) is None
    (folder / OWNER_FILE).write_text("{not json")
    assert clear_stale_lock(folder) is None
    assert (folder / "locks").is_dir()


def test_dead_owner_record_without_lock_is_dropped(tmp_path):
    folder = tmp_path / ".snakemake"
    folder.mkdir()
    _owner(folder, pid=_dead_pid())
    assert clear_stale_lock(folder) is None and not (folder / OWNER_FILE).exists()
    _owner(folder, pid=12345678, host="another-host")
    forget_owner(folder)  # not ours: stays
    assert (folder / OWNER_FILE).exists()
