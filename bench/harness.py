"""What the benchmarks share: Django set up on a throwaway database, and a real django-q2 cluster
run as a subprocess (ORM broker) beside it.

The benchmarks run as scripts (``.venv/bin/python bench/<name>.py``), so this module is imported as
``harness`` from their folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_LOG = "qcluster.log"


def django_setup(
    *, database_url: str, workdir: Path, workers: int, redis_url: str = "", **extra_env: str
) -> dict[str, str]:
    """Set Django up on ``database_url`` with ``workdir`` as its var folder, and return the environment
    the cluster and other children must run with (``extra_env`` added; django-q2's broker is Redis
    at ``redis_url`` when given, else the ORM broker).

    Call it once, before anything imports the project's models.
    """
    env = os.environ | {
        "DATABASE_URL": database_url,
        "ARENA_VAR_DIR": str(workdir),
        "Q_WORKERS": str(workers),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        # Production settings: with DEBUG on, Django logs every query (about a tenth of a player's
        # CPU on SQLite). ARENA_BENCH_DEBUG=1 measures with DEBUG on, as the figures before
        # 2026-11-30 were.
        "DEBUG": "1" if os.environ.get("ARENA_BENCH_DEBUG") == "1" else "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret-key-not-for-production-0123456789",
        **extra_env,
    }
    if env["DEBUG"] == "0":
        env.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1")
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    return env


def cluster_start(*, env: dict[str, str], workdir: Path, log: str = CLUSTER_LOG) -> subprocess.Popen:
    """A django-q2 cluster (``manage.py qcluster``) in its own session, logging to ``workdir``/``log``."""
    cluster_log = open(workdir / log, "wb")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=cluster_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def cluster_idle_wait(root_pid: int, *, timeout: float = 60) -> None:
    """Wait until the process tree under ``root_pid`` uses less than 5% of a core over half a second."""
    deadline = time.monotonic() + timeout
    before = process_tree_cpu(root_pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = process_tree_cpu(root_pid)
        if now - before < 0.025:
            return
        before = now
    raise SystemExit(f"the cluster was still busy starting after {timeout} s")


def process_tree_cpu(root_pid: int) -> float:
    """User + system CPU seconds of a process and all its live descendants, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(cpu.get(pid, 0.0) for pid in tree)


def cluster_check(cluster: subprocess.Popen, *, deadline: float, unfinished: str, workdir: Path) -> None:
    """Leave with SystemExit when the ``deadline`` (a time.monotonic() value) has passed, saying
    ``unfinished``, or when the cluster has died."""
    if time.monotonic() > deadline:
        raise SystemExit(f"{unfinished} (see {workdir}/{CLUSTER_LOG})")
    if cluster.poll() is not None:
        raise SystemExit(f"the cluster died (see {workdir}/{CLUSTER_LOG})")


def processes_stop(processes: list[subprocess.Popen], *, timeout: float) -> None:
    """Stop the children with SIGTERM (a cluster's main process stops its workers in order), and kill
    the process group of any that has not ended within ``timeout`` seconds."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def postgres_database(url: str, *, create: bool, keep_existing: bool = False) -> None:
    """Drop the PostgreSQL database of ``url`` and, with ``create``, create it empty; with
    ``keep_existing``, leave a database that exists alone (a filled one kept by an earlier run)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and keep_existing:
            return
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            connection.execute(f'CREATE DATABASE "{name}"')


def bench_database(*, database_url: str, workdir: Path) -> str:
    """The database URL a benchmark fills: ``database_url`` (PostgreSQL; created when missing, a
    database kept by an earlier ``--keep`` run reused as it is) or a SQLite file in ``workdir``."""
    if not database_url:
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    postgres_database(database_url, create=True, keep_existing=True)
    return database_url


def bench_database_drop(database_url: str) -> None:
    """Drop a benchmark's PostgreSQL database (nothing for SQLite: its folder goes with the workdir)."""
    if database_url:
        from django.db import connections

        connections.close_all()
        postgres_database(database_url, create=False)
