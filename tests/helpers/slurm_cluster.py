"""A throw-away single-node SLURM cluster in a temporary folder (munged, slurmctld, slurmd), for
the ``cluster`` test. Needs the Debian packages ``slurm-wlm`` and ``munge`` (``.ci/run`` installs
them) and root (slurmd starts jobs as their owner).

Everything lives in the folder: the munge key, socket and logs, ``slurm.conf``, state and spool
folders, pid and log files. Nothing in /etc is read or changed; clients find the cluster through
``SLURM_CONF`` in :meth:`SlurmCluster.env`. snakemake-executor-plugin-slurm-jobstep removes every
``SLURM_*`` variable but the job's identity before its nested ``srun`` (so ``SLURM_CONF`` too),
which is harmless on a real cluster (config in /etc/slurm or configless) but not here: ``env()``
therefore puts a ``bin/srun`` first on ``PATH`` that sets ``SLURM_CONF`` and runs the real srun.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

BINARIES = (
    "munged",
    "mungekey",
    "slurmctld",
    "slurmd",
    "sbatch",
    "srun",
    "squeue",
    "sinfo",
    "scancel",
)


class ClusterError(RuntimeError):
    """SLURM could not be started; the message carries the daemons' log tails."""


def missing_binaries() -> list[str]:
    return [b for b in BINARIES if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]


def _binary(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def slurm_conf(folder: Path, host: str, cpus: int, memory_mb: int, ports: list[int]) -> str:
    """A minimal one-node ``slurm.conf``: no accounting (jobs are tracked by ``squeue``, kept
    ``MinJobAge`` seconds after they end), CPUs and memory as declared (``config_overrides``)."""
    return "\n".join(
        [
            "ClusterName=drugnet-ci",
            f"SlurmctldHost={host}(127.0.0.1)",
            f"SlurmctldPort={ports[0]}",
            f"SlurmdPort={ports[1]}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={folder / 'munge.socket'}",
            f"StateSaveLocation={folder / 'state'}",
            f"SlurmdSpoolDir={folder / 'spool'}",
            f"SlurmctldPidFile={folder / 'slurmctld.pid'}",
            f"SlurmdPidFile={folder / 'slurmd.pid'}",
            f"SlurmctldLogFile={folder / 'slurmctld.log'}",
            f"SlurmdLogFile={folder / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "MpiDefault=none",
            "SwitchType=switch/none",
            "SchedulerType=sched/builtin",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_CPU",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/none",
            "ReturnToService=2",
            "MinJobAge=3600",
            "SlurmdParameters=config_overrides",
            "SlurmctldTimeout=30",
            "SlurmdTimeout=30",
            f"NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN",
            f"PartitionName=ci Nodes={host} Default=YES MaxTime=INFINITE State=UP",
            "",
        ]
    )


class SlurmCluster:
    """Start with :meth:`start`, stop with :meth:`stop` (kills the daemons it started, by pid).

    The node declares ``cpus`` (at least 4: two of the workflow's 2-thread jobs at a time) and
    ``memory_mb`` whatever the machine has (``config_overrides``; memory is not a consumable)."""

    def __init__(
        self, folder: Path, cpus: int = max(4, os.cpu_count() or 1), memory_mb: int = 16_000
    ):
        self.folder, self.cpus, self.memory_mb = Path(folder), cpus, memory_mb
        self.host = socket.gethostname().split(".")[0]
        self.conf = self.folder / "slurm.conf"
        self._procs: list[subprocess.Popen] = []

    def env(self) -> dict[str, str]:
        path = f"{self.folder / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, "SLURM_CONF": str(self.conf), "PATH": path}

    def _srun_shim(self) -> None:
        """``bin/srun``: the real srun with ``SLURM_CONF`` set (see the module docstring)."""
        shim = self.folder / "bin" / "srun"
        shim.parent.mkdir(exist_ok=True)
        shim.write_text(f'#!/bin/sh\nSLURM_CONF="{self.conf}" exec "{_binary("srun")}" "$@"\n')
        shim.chmod(0o755)

    def start(self, timeout: float = 60.0) -> None:
        for name in ("state", "spool"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)  # munged refuses world-writable folders on its socket path
        self.conf.write_text(
            slurm_conf(self.folder, self.host, self.cpus, self.memory_mb, _free_ports(2))
        )
        self._srun_shim()
        self._start_munge()
        self._spawn([_binary("slurmctld"), "-D", "-i", "-f", str(self.conf)], "slurmctld.out")
        self._spawn([_binary("slurmd"), "-D", "-f", str(self.conf)], "slurmd.out")
        self._wait_idle(timeout)

    def _start_munge(self) -> None:
        key = self.folder / "munge.key"
        subprocess.run(
            [_binary("mungekey"), "--create", f"--keyfile={key}"], check=True, capture_output=True
        )
        key.chmod(0o600)
        self._spawn(
            [
                _binary("munged"),
                "--foreground",
                "--force",
                f"--key-file={key}",
                f"--socket={self.folder / 'munge.socket'}",
                f"--pid-file={self.folder / 'munged.pid'}",
                f"--log-file={self.folder / 'munged.log'}",
                f"--seed-file={self.folder / 'munge.seed'}",
            ],
            "munged.out",
        )
        deadline = time.monotonic() + 15
        while not (self.folder / "munge.socket").exists():
            if time.monotonic() > deadline:
                raise ClusterError(f"munged did not create its socket\n{self.logs()}")
            time.sleep(0.2)

    def _spawn(self, cmd: list[str], out: str) -> None:
        with open(self.folder / out, "wb") as fh:
            self._procs.append(
                subprocess.Popen(
                    cmd, stdout=fh, stderr=subprocess.STDOUT, env=self.env(), start_new_session=True
                )
            )

    def _wait_idle(self, timeout: float) -> None:
        """Until ``sinfo`` reports the node idle (slurmctld up, slurmd registered)."""
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            dead = [p.args[0] for p in self._procs if p.poll() is not None]
            if dead:
                raise ClusterError(f"{dead} exited during start-up\n{self.logs()}")
            result = subprocess.run(
                [_binary("sinfo"), "-h", "-N", "-o", "%t"],
                capture_output=True,
                text=True,
                env=self.env(),
            )
            state = result.stdout.strip() or result.stderr.strip()
            if state == "idle":
                return
            time.sleep(0.5)
        raise ClusterError(f"node not idle after {timeout:.0f} s (sinfo: {state!r})\n{self.logs()}")

    def _queued(self) -> bool:
        result = subprocess.run(
            [_binary("squeue"), "-h", "-t", "PENDING,RUNNING,COMPLETING,SUSPENDED"],
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=30,
        )
        return bool(result.stdout.strip())

    def logs(self, chars: int = 2000) -> str:
        parts = []
        for name in (
            "munged.log",
            "munged.out",
            "slurmctld.log",
            "slurmctld.out",
            "slurmd.log",
            "slurmd.out",
        ):
            path = self.folder / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        """Cancel every job still known (their step daemons would outlive slurmd), then stop the
        daemons this object started."""
        if self._procs and all(p.poll() is None for p in self._procs):
            subprocess.run(
                [_binary("scancel"), "--full", "--user", str(os.getuid())],
                env=self.env(),
                capture_output=True,
                timeout=30,
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self._queued():
                time.sleep(0.5)
        for proc in reversed(self._procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self._procs.clear()
