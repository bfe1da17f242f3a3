"""The deployment files in deploy/: a qcluster stopped the way arena-worker.service stops it ends
within seconds, with every process of the cluster gone."""

from __future__ import annotations

import configparser
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.competition.test_player_kill import database_url

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
# Generous on purpose: a clean stop takes a second or two; a hung one never ends.
STOP_SECONDS = 20
START_SECONDS = 60


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string((DEPLOY / name).read_text().replace("\\\n", " "))
    return parser


def test_it_ships_a_worker_unit_that_signals_only_the_main_process():
    service = unit("arena-worker.service")["Service"]
    assert service["ExecStart"].endswith("manage.py qcluster")
    assert service["KillMode"] == "mixed"
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) >= STOP_SECONDS


def test_it_ships_a_web_unit_running_gunicorn_on_the_wsgi_application():
    service = unit("arena-web.service")["Service"]
    assert "gunicorn config.wsgi:application" in service["ExecStart"]
    assert service["EnvironmentFile"] == "/etc/arena/arena.env"


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_it_stops_a_real_qcluster_within_seconds_on_sigterm_to_the_main_process(transactional_db, tmp_path):
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "ARENA_VAR_DIR": str(tmp_path),
        "Q_WORKERS": "2",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    # A session of its own, like the unit's control group, so every process of the cluster is seen.
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(cluster.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + START_SECONDS
        while not any("running" in line for line in lines):
            assert cluster.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "the cluster did not start:\n" + "".join(lines)
            time.sleep(0.1)
        children = subprocess.run(["pgrep", "-g", str(cluster.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) >= 4  # main, sentinel, pusher, monitor, workers

        # KillMode=mixed: SIGTERM to the main process only.
        cluster.send_signal(signal.SIGTERM)
        cluster.wait(timeout=STOP_SECONDS)
        deadline = time.monotonic() + STOP_SECONDS
        while group_alive(cluster.pid):
            assert time.monotonic() < deadline, "processes of the cluster outlived its main process"
            time.sleep(0.1)
    finally:
        if group_alive(cluster.pid):
            os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait(timeout=10)
    reader.join(timeout=5)
    assert cluster.returncode == 0, "".join(lines)
    assert any("stopped" in line.lower() for line in lines), "".join(lines)
