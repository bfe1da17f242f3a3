"""The site served as production serves it: gunicorn (deploy/arena-web.service) on a free loopback port,
on the test database, with the real settings (tasks queued to the ORM broker, never run inline).

Use it with ``transactional_db`` so the rows a test makes are visible to the server's processes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.test import override_settings

from tests.competition.test_player_kill import database_url

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 90
DATABASE_CACHE = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "arena_cache"}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_cookie(user) -> dict[str, str]:
    """A signed-in session of ``user`` stored in the test database, as the cookie a browser would send."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


@contextlib.contextmanager
def gunicorn_serving(tmp_path: Path, *, workers: int = 3, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run gunicorn with ``workers`` sync workers (the unit's 3 by default); yields its base URL."""
    # A flush by an earlier transactional test (a live server's) recreates content types under new ids
    # while this process's ContentType cache keeps the old ones, so the groups' permissions granted
    # after that flush can point at the wrong rows: harmless here, wrong in the server's fresh
    # processes. Grant them again with a fresh cache.
    ContentType.objects.clear_cache()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    # The settings' database cache (no REDIS_URL) needs its table in the test database too.
    with override_settings(CACHES=DATABASE_CACHE):
        call_command("createcachetable", verbosity=0)
    port = free_port()
    server_env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "ARENA_VAR_DIR": str(tmp_path),
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "1",
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    server_env.pop("REDIS_URL", None)
    log = (tmp_path / "gunicorn.log").open("w")
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--timeout", "60", "--preload", "--forwarded-allow-ips", "127.0.0.1"]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start:\n" + (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()
