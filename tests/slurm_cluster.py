"""A real single-node SLURM on this machine for the cluster tests (Debian ``slurm-wlm``).

Recipe of ``shared/reference/snakemake-and-slurm.md`` §3: the config must live at
``/etc/slurm/slurm.conf`` (the plugin's job step drops ``SLURM_CONF``), no munge
(``auth/none``), no accounting database (so Snakemake polls ``squeue``; finished jobs stay visible to
``scontrol`` for an hour, ``MinJobAge``), the node's
CPUs and memory from ``slurmd -C``. ``slurmctld`` and ``slurmd`` are started in the
foreground as children of the test and stopped by PID.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CONF = Path("/etc/slurm/slurm.conf")
GRES = CONF.parent / "gres.conf"
MARK = "# written by tests/slurm_cluster.py"
RUN = Path("/run/photoz-slurm")


def why_unavailable() -> str | None:
    """Why a local SLURM cannot be started here (None when it can)."""
    for tool in ("slurmctld", "slurmd", "sbatch", "squeue", "sinfo"):
        if shutil.which(tool) is None:
            return f"{tool} not found: install Debian slurm-wlm (.ci/run does)"
    if os.geteuid() != 0:
        return "starting slurmctld/slurmd needs root"
    for path in (CONF, GRES):
        if path.exists() and MARK not in path.read_text():
            return f"{path} exists and is not this test's: not touching a real cluster's config"
    return None


def _node_config() -> tuple[int, int]:
    out = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    cpus = int(re.search(r"CPUs=(\d+)", out)[1])
    memory = int(re.search(r"RealMemory=(\d+)", out)[1])
    return cpus, int(memory * 0.9)


def write_config() -> tuple[int, int]:
    """Write /etc/slurm/slurm.conf for one local node; returns (cpus, memory MB)."""
    cpus, memory = _node_config()
    for path, owner in (
        (RUN, None),
        (Path("/var/spool/slurmctld"), "slurm"),
        (Path("/var/spool/slurmd"), None),
    ):
        path.mkdir(parents=True, exist_ok=True)
        if owner:
            shutil.chown(path, owner, owner)
    CONF.parent.mkdir(parents=True, exist_ok=True)
    CONF.write_text(
        f"""{MARK}
ClusterName=photoz-test
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/none
CredType=cred/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
ReturnToService=2
MinJobAge=3600
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile={RUN}/slurmctld.pid
SlurmdPidFile={RUN}/slurmd.pid
SlurmctldLogFile={RUN}/slurmctld.log
SlurmdLogFile={RUN}/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory} Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""
    )
    # a fake GPU (no device): lets the GPU request path (--gpus / --gres) be scheduled
    GRES.write_text(f"{MARK}\nNodeName=localhost Name=gpu File=/dev/null\n")
    return cpus, memory


@dataclass
class Cluster:
    """The running daemons."""

    controller: subprocess.Popen
    node: subprocess.Popen
    cpus: int
    memory_mb: int
    logs: list

    def stop(self) -> None:
        for proc in (self.node, self.controller):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for log in self.logs:
            log.close()


def start(timeout_s: float = 60) -> Cluster:
    """Start slurmctld and slurmd; return when the node is idle."""
    reason = why_unavailable()
    if reason:
        raise RuntimeError(f"cannot start a local SLURM: {reason}")
    cpus, memory = write_config()
    shutil.rmtree("/var/spool/slurmctld", ignore_errors=True)  # no jobs of an earlier run
    Path("/var/spool/slurmctld").mkdir(parents=True)
    shutil.chown("/var/spool/slurmctld", "slurm", "slurm")
    logs = {name: open(RUN / f"{name}.out", "w") for name in ("ctld", "d")}  # noqa: SIM115
    controller = subprocess.Popen(["slurmctld", "-D", "-i"], stdout=logs["ctld"], stderr=subprocess.STDOUT)
    time.sleep(2)
    node = subprocess.Popen(["slurmd", "-D", "-N", "localhost"], stdout=logs["d"], stderr=subprocess.STDOUT)
    cluster = Cluster(controller, node, cpus, memory, list(logs.values()))
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        state = subprocess.run(["sinfo", "-h", "-n", "localhost", "-o", "%t"], capture_output=True, text=True)
        if state.stdout.strip() in ("idle", "mix", "alloc"):
            return cluster
        if controller.poll() is not None or node.poll() is not None:
            break
        time.sleep(1)
    cluster.stop()
    raise RuntimeError(
        "local SLURM did not come up: "
        + (RUN / "ctld.out").read_text()[-2000:]
        + (RUN / "d.out").read_text()[-2000:]
    )
