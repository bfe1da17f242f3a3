"""A throwaway PostgreSQL cluster of the test's own, from the server binaries on this machine.

The fault suite restarts PostgreSQL mid-round, so it never uses a server other people share: it
makes its own with initdb in a temporary directory, on a free loopback port, and removes it after.
As root, PostgreSQL refuses to run, so the server runs as the ``postgres`` user (like .ci/run).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def server_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: [int(p) for p in path.split("/")[4:5]])
    for path in reversed(found):
        if os.access(f"{path}/initdb", os.X_OK) and os.access(f"{path}/pg_ctl", os.X_OK):
            return Path(path)
    return None


def unavailable_reason() -> str | None:
    """Why no throwaway cluster can be made here, or None when it can."""
    if server_bindir() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin"
    if os.geteuid() == 0 and shutil.which("su") is None:
        return "running as root without su: PostgreSQL refuses to run as root"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ThrowawayPostgres:
    bindir: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, command: str, *, timeout: float = 120) -> None:
        """Run a server command as the user that owns the cluster (postgres when we are root)."""
        argv = ["su", "postgres", "-s", "/bin/sh", "-c", command] if os.geteuid() == 0 else ["sh", "-c", command]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise RuntimeError(f"{command!r} failed: {result.stdout}{result.stderr}\n{log[-3000:]}")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            f"{self.bindir}/pg_ctl -D {self.data} -o '{options}' -l {self.root}/log -w -t 60 {action} {' '.join(extra)}"
        )

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self) -> None:
        """Stop fast (every open connection is cut, as in a crash or failover) and start again."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._run(f"{self.bindir}/pg_ctl -D {self.data} -m immediate -w stop", timeout=60)

    def createdb(self, name: str) -> None:
        self._run(f"{self.bindir}/createdb -h 127.0.0.1 -p {self.port} -U postgres {name}")


def throwaway_postgres_start() -> ThrowawayPostgres:
    """initdb a new cluster in a temporary directory and start it; ``throwaway_postgres_remove`` after."""
    bindir = server_bindir()
    if bindir is None:
        raise RuntimeError(unavailable_reason())
    root = Path(tempfile.mkdtemp(prefix="arena-faults-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
    cluster = ThrowawayPostgres(bindir=bindir, root=root, port=free_port())
    cluster._run(f"{bindir}/initdb -D {cluster.data} -A trust -U postgres --no-sync >/dev/null")
    cluster.start()
    return cluster


def throwaway_postgres_remove(cluster: ThrowawayPostgres) -> None:
    with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
        cluster.stop()
    deadline = time.monotonic() + 10
    while (cluster.data / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    shutil.rmtree(cluster.root, ignore_errors=True)
