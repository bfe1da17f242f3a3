"""A real django-q2 cluster runs our tasks through each broker the settings can choose.

The ORM broker is always tested; Redis when a server answers on REDIS_URL or 127.0.0.1:6379 (CI
machines have one), else the test is skipped with the reason.
"""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]

ENQUEUE_AND_WAIT = """
import sys, time
import django
django.setup()
from django_q.tasks import async_task, result
task_id = async_task("competition.tasks.rounds_reap_task")
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    answer = result(task_id)
    if answer is not None:
        print("RESULT", answer)
        sys.exit(0)
    time.sleep(0.2)
print("no result within 60 s")
sys.exit(1)
"""


def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return url
    except OSError:
        return None


def run_through_cluster(tmp_path: Path, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    environment |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ARENA_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'broker.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    } | env
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=environment, check=True, timeout=120)
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        client = subprocess.run(
            [sys.executable, "-c", ENQUEUE_AND_WAIT],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        # SIGTERM to the cluster's main process only: it stops its workers in order (a signal to
        # the whole group makes it wait for children that already left).
        cluster.terminate()
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait()
    assert client.returncode == 0, client.stdout + client.stderr
    return client.stdout


@pytest.mark.slow
def test_it_runs_a_task_through_the_orm_broker(tmp_path):
    assert "RESULT {'claims_expired': 0" in run_through_cluster(tmp_path)


@pytest.mark.slow
def test_it_runs_a_task_through_redis(tmp_path):
    url = redis_url()
    if url is None:
        pytest.skip("no Redis server answers on REDIS_URL or 127.0.0.1:6379")
    assert "RESULT {'claims_expired': 0" in run_through_cluster(tmp_path, REDIS_URL=url)
