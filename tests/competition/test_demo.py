"""`manage.py demo`: the README's first command, played end to end in a throwaway var/ folder."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from competition.management.commands.demo import PASSWORD_FILE, organizer_ensure

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_command(var: Path, *extra: str) -> tuple[list[str], dict]:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    # The real settings (not the suite's, whose tasks run inline), on a database of its own.
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", "ARENA_VAR_DIR": str(var), "COLUMNS": "80"}
    argv = [sys.executable, "manage.py", "demo", "--no-serve", "--latency", "0", "--bots-port", str(free_port())]
    return [*argv, *extra], env


@pytest.mark.slow
def test_it_plays_the_practice_round_first_and_prints_a_clean_80_column_summary(tmp_path):
    argv, env = demo_command(tmp_path)
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = done.stdout

    assert done.returncode == 0, output + done.stderr
    assert "Demo Cup 2026 · Practice" in output
    assert "Tournament" not in output
    # No log line between the progress bars: they are in var/demo-main.log. (Only what apps log while
    # Django starts, before the demo's first line, such as django-axes's banner, may reach stderr.)
    assert not re.search(r"\b(INFO|WARNING|DEBUG)\b", output)
    assert not re.search(r"django-q|Enqueued|competition\.|judging\.|requests_hardened", done.stderr)
    assert "Enqueued" in (tmp_path / "demo-main.log").read_text()
    assert all(len(line) <= 80 for line in output.splitlines()), [
        line for line in output.splitlines() if len(line) > 80
    ]
    for bot in ("Direct Line / direct", "Stage Actors / roleplay", "Stone Wall / refuser", "Safe Hands / careful"):
        (line,) = [line for line in output.splitlines() if line.startswith(bot)]
        assert re.search(r"\d+/\d+", line)
    (probes,) = [line for line in output.splitlines() if line.startswith("Arena probes")]
    assert re.match(r"Arena probes / benign-probe\s+probe\s", probes), probes  # never "attacker"
    password = (tmp_path / PASSWORD_FILE).read_text().strip()
    assert f"organizer / {password}" in output
    assert oct((tmp_path / PASSWORD_FILE).stat().st_mode & 0o777) == "0o600"
    assert "secret" not in output.lower()


@pytest.mark.slow
def test_it_says_stopped_after_ctrl_c(tmp_path):
    argv, env = demo_command(tmp_path)
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Example bots answer"):
                break
        time.sleep(1)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    output = "".join(lines) + rest
    assert "Stopping the site, the workers and the example bots" in output
    assert "Demo stopped." in output.splitlines()[-1]


@pytest.mark.django_db
def test_it_keeps_the_organizers_password_unless_asked_to_reset_it(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    first = organizer_ensure(reset=False)
    assert first and User.objects.get(username="organizer").check_password(first)

    assert organizer_ensure(reset=False) == first
    assert User.objects.get(username="organizer").check_password(first)

    reset = organizer_ensure(reset=True)
    assert reset != first
    assert User.objects.get(username="organizer").check_password(reset)
    assert (tmp_path / PASSWORD_FILE).read_text().strip() == reset

    # The organizer changed it in the admin: the demo keeps it and says it does not know it.
    user = User.objects.get(username="organizer")
    user.set_password("my own choice 2026")
    user.save()
    assert organizer_ensure(reset=False) is None
    assert User.objects.get(username="organizer").check_password("my own choice 2026")
