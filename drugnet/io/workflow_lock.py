"""Explain a Snakemake lock left by a killed run; never clear it.

Snakemake locks the working directory by writing ``.snakemake/locks/*.lock`` when a run starts
and removes them when it ends. A run killed with SIGKILL (OOM killer, ``kill -9``, a lost node)
cannot remove them, and the next ``snakemake`` stops with ``LockException`` until someone runs
``snakemake --unlock``. Clearing the lock automatically is not safe: when only the main process
dies, its local jobs keep running as orphans (and cluster jobs keep running on the cluster), so a
second run would start a second writer on the same outputs. So drugnet only explains:

- ``record_owner()`` (``onstart``) writes ``.snakemake/drugnet-run-<host>-<pid>.json`` (host,
  pid, process start time, process group) for this run; ``forget_owner()`` (``onsuccess`` /
  ``onerror``) removes it. One file per run, so concurrent runs do not overwrite each other.
- ``lock_hint()`` (when the Snakefile is read) returns, when locks exist, which recorded runs
  are still alive, which are gone and whether processes of their process group still run, and
  the ``snakemake --unlock`` hint. It never touches a lock; once no lock is left it drops the
  records of dead runs on this host (they hold nothing any more).
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

OWNER_PREFIX = "drugnet-run-"


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (index 0 is field 3); None when
    gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_time(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[19] if fields else None  # field 22: start time in clock ticks since boot


def _alive(pid: int, start_time: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return start_time is None or not Path("/proc").is_dir() or _start_time(pid) == start_time


def group_members(pgid: int) -> list[int]:
    """Pids of live processes in process group ``pgid`` (Linux ``/proc``; empty elsewhere)."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat_fields(int(entry.name))
        if fields and fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return sorted(pids)


def _owner_path(folder: Path, pid: int) -> Path:
    return folder / f"{OWNER_PREFIX}{socket.gethostname()}-{pid}.json"


def record_owner(snakemake_dir: str | os.PathLike = ".snakemake") -> Path:
    """Record this process (the main Snakemake process) as a run holding locks in
    ``snakemake_dir``."""
    folder = Path(snakemake_dir)
    folder.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    owner = {
        "host": socket.gethostname(),
        "pid": pid,
        "start_time": _start_time(pid),
        "pgid": os.getpgrp(),
    }
    path = _owner_path(folder, pid)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(owner) + "\n")
    os.replace(tmp, path)
    return path


def forget_owner(snakemake_dir: str | os.PathLike = ".snakemake") -> None:
    """Remove this process's run record."""
    _owner_path(Path(snakemake_dir), os.getpid()).unlink(missing_ok=True)


def _owners(folder: Path) -> list[dict]:
    owners = []
    for path in sorted(folder.glob(f"{OWNER_PREFIX}*.json")):
        try:
            owner = json.loads(path.read_text())
            owners.append(
                {
                    "host": str(owner["host"]),
                    "pid": int(owner["pid"]),
                    "start_time": owner.get("start_time"),
                    "pgid": owner.get("pgid"),
                    "path": path,
                }
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return owners


def _drop_dead_records(folder: Path) -> None:
    for owner in _owners(folder):
        if owner["host"] == socket.gethostname() and not _alive(owner["pid"], owner["start_time"]):
            owner["path"].unlink(missing_ok=True)


def _describe(owner: dict) -> str:
    where = f"pid {owner['pid']} on {owner['host']}"
    if owner["host"] != socket.gethostname():
        return f"a run on another host ({where}): cannot tell from here whether it is alive"
    if _alive(owner["pid"], owner["start_time"]):
        return f"a running Snakemake ({where}): wait for it to finish"
    pgid = owner.get("pgid")
    left = group_members(int(pgid)) if pgid == owner["pid"] else []
    if left:
        return (
            f"a killed Snakemake ({where}) whose jobs are "
            f"still running (pids {', '.join(map(str, left))})"
        )
    return f"a Snakemake ({where}) that is no longer running"


def lock_hint(snakemake_dir: str | os.PathLike = ".snakemake") -> str | None:
    """A message explaining the locks in ``snakemake_dir`` and how to remove them; None without
    locks."""
    folder = Path(snakemake_dir)
    locks = folder / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        if folder.is_dir():
            _drop_dead_records(folder)
        return None
    owners = [_describe(owner) for owner in _owners(folder)]
    held = (
        "; ".join(owners)
        if owners
        else "a run drugnet has no record of (killed before its first job, or a dry run)"
    )
    return (
        f"{locks} holds Snakemake locks, from {held}. If Snakemake stops with LockException: "
        "Snakemake never removes a killed run's lock itself, and drugnet does not either, because "
        "the killed run's jobs may still be writing (local orphans, cluster jobs). Make sure none "
        "is left (`ps`, or `squeue` on SLURM), then run `snakemake --unlock` and `snakemake` again "
        "(the profiles set rerun-incomplete, so killed jobs are rerun)."
    )
