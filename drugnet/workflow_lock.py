"""Clear the Snakemake lock a killed run leaves behind, so a plain ``snakemake`` resumes.

Snakemake locks the working directory by writing ``.snakemake/locks/*.lock`` when a run starts
and removes them when it ends. A run killed with SIGKILL (OOM killer, ``kill -9``, a lost node)
cannot remove them, and the next ``snakemake`` stops with ``LockException`` until someone runs
``snakemake --unlock``. Snakemake does not record who holds a lock, so the Snakefile does:

- ``record_owner()`` (``onstart``: after Snakemake took the lock, before the first job) writes
  ``.snakemake/drugnet-lock-owner.json``: host, pid and the process start time;
- ``forget_owner()`` (``onsuccess``/``onerror``) removes it again;
- ``clear_stale_lock()`` (when the Snakefile is read, before Snakemake checks the lock) removes
  the locks only if the owner file names a process on this host that is gone (a pid that was
  reused by a newer process counts as gone). A live owner, another host, or locks without an
  owner file (killed before its first job started, or a dry run) are left alone: Snakemake then
  refuses as before and ``snakemake --unlock`` remains the manual way out.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import uuid
from pathlib import Path

OWNER_FILE = "drugnet-lock-owner.json"


def _start_time(pid: int) -> str | None:
    """Start time of ``pid`` in clock ticks since boot (Linux ``/proc``); None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the command name


def _alive(pid: int, start_time: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if start_time is None or not Path("/proc").is_dir():
        return True
    return _start_time(pid) == start_time


def record_owner(snakemake_dir: str | os.PathLike = ".snakemake") -> Path:
    """Record this process as the holder of the Snakemake lock in ``snakemake_dir``."""
    folder = Path(snakemake_dir)
    folder.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    owner = {"host": socket.gethostname(), "pid": pid, "start_time": _start_time(pid)}
    tmp = folder / f".{OWNER_FILE}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(json.dumps(owner) + "\n")
    os.replace(tmp, folder / OWNER_FILE)
    return folder / OWNER_FILE


def forget_owner(snakemake_dir: str | os.PathLike = ".snakemake") -> None:
    """Remove the owner record if this process wrote it."""
    path = Path(snakemake_dir) / OWNER_FILE
    try:
        owner = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if owner.get("host") == socket.gethostname() and owner.get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def clear_stale_lock(snakemake_dir: str | os.PathLike = ".snakemake") -> str | None:
    """Remove ``locks/`` when its recorded owner is a dead process on this host.

    A dead owner's record is removed even when there are no locks (the run ended without its
    ``onsuccess``/``onerror``), so it cannot later vouch for another run's fresh locks. Returns a
    one-line message when locks were removed, else None.
    """
    folder = Path(snakemake_dir)
    path = folder / OWNER_FILE
    if not path.is_file():
        return None
    try:
        owner = json.loads(path.read_text())
        pid = int(owner["pid"])
        host = owner["host"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if host != socket.gethostname() or _alive(pid, owner.get("start_time")):
        return None
    # take the owner record away first: of several runs starting at once, only one clears
    claimed = folder / f".{OWNER_FILE}.stale-{uuid.uuid4().hex[:8]}"
    try:
        os.replace(path, claimed)
    except OSError:
        return None
    claimed.unlink(missing_ok=True)
    locks = folder / "locks"
    if not locks.is_dir():
        return None
    shutil.rmtree(locks, ignore_errors=True)
    return f"removed the lock left by a killed Snakemake run (pid {pid} on {host})"
