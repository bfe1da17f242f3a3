"""Behind the documented reverse proxy (Debian's nginx, the server block of docs/deploy.md, on loopback in
front of gunicorn), login throttling and the API throttles see each client's own address: a stranger's
wrong passwords lock out no one else, and a made-up X-Forwarded-For does not dodge a throttle.

Clients at different addresses are loopback source addresses (127.0.0.2, 127.0.0.3: Linux answers the
whole 127.0.0.0/8). Skipped, saying why, without /usr/sbin/nginx (`.ci/run` installs it as root).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from django.test import override_settings
from requests.adapters import HTTPAdapter

from tests import cast
from tests.webserver import free_port, gunicorn_serving

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
STRANGER, OWNER = "127.0.0.2", "127.0.0.3"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian's nginx; .ci/run installs it as root)"),
]


def documented_server_block(*, listen_port: int, upstream: str) -> str:
    """The nginx server block of docs/deploy.md, listening on loopback without TLS, proxying to ``upstream``."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    block = re.search(r"```nginx\n(.*?)```", text, re.S).group(1)
    block = block.replace("listen 443 ssl;", f"listen 127.0.0.1:{listen_port};")
    return block.replace("proxy_pass http://127.0.0.1:8000;", f"proxy_pass {upstream};")


class Nginx:
    def __init__(self, tmp_path: Path, upstream: str) -> None:
        self.port = free_port()
        prefix = tmp_path / "nginx"
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / name).mkdir(parents=True)
        temp = "\n".join(f"  {name}_temp_path {prefix / name};" for name in ("proxy", "fastcgi", "uwsgi", "scgi"))
        config = f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
{temp}
{documented_server_block(listen_port=self.port, upstream=upstream)}
}}
"""
        (prefix / "nginx.conf").write_text(config)
        self.process = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while True:
            assert self.process.poll() is None, self.process.stderr.read().decode()
            try:
                requests.get(f"{self.url}/healthz", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=20)


class FromAddress(HTTPAdapter):
    """Connections from one loopback source address: one client machine."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def client_at(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(address))
    return session


def log_in(session: requests.Session, base: str, username: str, password: str) -> int:
    page = session.get(f"{base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    form = {"csrfmiddlewaretoken": token, "username": username, "password": password}
    answer = session.post(f"{base}/accounts/login/", data=form, allow_redirects=False, timeout=30)
    return answer.status_code


@pytest.fixture
def proxied(transactional_db, tmp_path):
    env = {"ARENA_PROXY_COUNT": "1", "API_THROTTLE_ANON": "3/minute"}
    with gunicorn_serving(tmp_path, workers=2, env=env) as upstream:
        nginx = Nginx(tmp_path, upstream)
        try:
            yield nginx.url
        finally:
            nginx.stop()


def test_it_locks_out_only_the_address_that_guessed_wrong(proxied):
    arena = cast.build()
    # The server runs the production settings, whose hashers do not read the tests' fast MD5 hashes.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"]):
        arena.olivia.set_password(cast.PASSWORD)
        arena.olivia.save()
    stranger, owner = client_at(STRANGER), client_at(OWNER)

    wrong = [log_in(stranger, proxied, arena.olivia.username, "not the password") for _ in range(5)]

    assert wrong[:4] == [200] * 4  # the form again, with its error
    assert log_in(stranger, proxied, arena.olivia.username, cast.PASSWORD) == 429  # locked from there
    assert log_in(owner, proxied, arena.olivia.username, cast.PASSWORD) == 302  # not from elsewhere
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {STRANGER}


def test_it_throttles_an_anonymous_client_whatever_x_forwarded_for_it_sends(proxied):
    stranger, owner = client_at(STRANGER), client_at(OWNER)

    statuses = [
        stranger.get(f"{proxied}/api/schema/", headers={"X-Forwarded-For": f"198.51.100.{n}"}, timeout=60).status_code
        for n in range(4)
    ]

    assert statuses == [200, 200, 200, 429]
    assert owner.get(f"{proxied}/api/schema/", timeout=60).status_code == 200
