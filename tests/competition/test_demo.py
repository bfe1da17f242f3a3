"""`manage.py demo`: the README's first command, played end to end in a throwaway var/ folder."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management.base import OutputWrapper
from rich.console import Console

from competition.management.commands.demo import Command
from competition.management.console import command_console
from competition.management.demo_parts import (
    PASSWORD_FILE,
    SUMMARY_NOTE,
    organizer_ensure,
    round_started_text,
    serve_hint,
    site_command,
    summary_table,
    tournament_round_next,
)
from competition.models import Competition, Round
from competition.pipeline import lifecycle

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
    # No log line between the progress bars: they are in var/demo-main.log; nor django-axes's banner.
    assert not re.search(r"\b(INFO|WARNING|DEBUG)\b", output)
    assert "AXES" not in output + done.stderr
    # Piped: one line per bar when it ends, not one per refresh.
    assert len([line for line in output.splitlines() if line.lstrip().startswith("Playing")]) == 1
    # The demo publishes the round it played and says so, and where to see it.
    assert "Published Practice: a demo publishes the round it played once it is scored." in output
    assert re.search(r"Leaderboard: http://127\.0\.0\.1:\d+/competitions/demo-2026/rounds/1/", output)
    assert re.search(r"Transcripts: http://127\.0\.0\.1:\d+/conversations/", output)
    assert "Team owner:  autocomplete-owner / demo-autocomplete-owner-pw" in output
    assert not re.search(r"django-q|Enqueued|competition\.|judging\.|requests_hardened", done.stderr)
    assert "Enqueued" in (tmp_path / "demo-main.log").read_text()
    assert all(len(line) <= 80 for line in output.splitlines()), [
        line for line in output.splitlines() if len(line) > 80
    ]
    for bot in ("Direct Line / direct", "Stage Actors / roleplay", "Stone Wall / refuser", "Safe Hands / careful"):
        (line,) = [line for line in output.splitlines() if line.startswith(bot)]
        assert re.search(r"\d+/\d+", line)
    # In the pages' words and counts: 12 matches, 24 conversations (a defender's 8 games) and 24 probes.
    assert "Started Demo Cup 2026 · Practice\n  12 matches, 24 conversations and 24 benign probes\n" in output
    (probes,) = [line for line in output.splitlines() if line.startswith("Benign probe (the platform)")]
    assert re.match(r"Benign probe \(the platform\)\s+probe\s+24/24\s", probes), probes  # never "attacker"
    (defender,) = [line for line in output.splitlines() if line.startswith("Safe Hands / careful")]
    assert re.match(r"Safe Hands / careful\s+defender\s+8/8\s", defender), defender
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
def test_it_counts_matches_conversations_and_benign_probes_as_the_pages_do(arena):
    arena.competition.benign_prompts = ["How do I hash passwords safely in Python?"]
    arena.competition.save()
    round_ = lifecycle.round_start(round_id=arena.round.pk)
    console = Console(file=StringIO(), width=80, record=True)

    console.print(round_started_text(round_))
    console.print(summary_table(round_))
    console.print(SUMMARY_NOTE, soft_wrap=True)

    lines = console.export_text().splitlines()
    assert lines[:2] == ["Started Trusted AI 2026 · Tournament 1", "  4 matches, 4 conversations and 2 benign probes"]
    assert re.match(r"Blue Bastion / bastion\s+defender\s+0/2\s", next(line for line in lines if "Bastion" in line))
    assert re.match(
        r"Benign probe \(the platform\)\s+probe\s+0/2\s", next(line for line in lines if line.startswith("Benign"))
    )
    assert max(len(line) for line in lines) <= 80


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def fetch(url: str) -> tuple[int, str, dict]:
    """Status, body and headers of a GET, a 4xx or 5xx included."""
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


@pytest.mark.slow
def test_it_serves_the_site_with_debug_off_its_own_404_page_and_static_files(tmp_path):
    port = free_port()
    # A developer's DEBUG=1 (or DEBUG=0) in the environment changes nothing about how the demo serves.
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"ARENA_VAR_DIR": str(tmp_path), "DEBUG": "1", "LOG_LEVEL": "WARNING"}
    argv, site_env = site_command(port=port, env=env)
    with open(tmp_path / "site.log", "wb") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=site_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not port_open(port):
            assert process.poll() is None, (tmp_path / "site.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "site.log").read_text()
            time.sleep(0.1)

        status, page, _ = fetch(f"http://127.0.0.1:{port}/no-such-page/")
        assert status == 404
        assert "Nothing here" in page  # templates/404.html
        assert "DEBUG = True" not in page and "URLconf" not in page
        for icon in ("/static/arena/favicon.svg", "/favicon.ico"):  # the second redirects to the first
            status, _, headers = fetch(f"http://localhost:{port}{icon}")
            assert status == 200 and headers["Content-Type"].startswith("image/svg"), icon
        # Plain HTTP on loopback: no redirect to HTTPS, and cookies a browser keeps over HTTP.
        status, _, headers = fetch(f"http://127.0.0.1:{port}/accounts/login/")
        assert status == 200
        assert "Secure" not in headers["Set-Cookie"] and "csrftoken=" in headers["Set-Cookie"]
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert "Warning" not in (tmp_path / "site.log").read_text()  # whitenoise's "No directory at: .../static/"


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


class TTY(StringIO):
    """A terminal's stream, as rich sees one."""

    def isatty(self) -> bool:
        return True


def progress_drawn(stream) -> None:
    """The demo's progress bar, drawn through the command's own console, refreshed 50 times."""
    command = Command(stdout=stream)
    command.console = command_console(command.stdout)
    with command._progress() as progress:
        task = progress.add_task("Playing", total=50, detail="")
        for done in range(50):
            progress.update(task, completed=done + 1, detail=f"{done * 3} turns, 0 failed")
            progress.refresh()


def test_it_redraws_the_progress_bar_in_place_in_a_terminal(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    terminal = TTY()
    progress_drawn(terminal)
    drawn = terminal.getvalue()

    # Each refresh goes back over the bar (carriage return, cursor up / erase) instead of adding a line:
    # a Django OutputWrapper in between added a newline to every refresh (168 "Playing" lines).
    assert drawn.count("\r") >= 50 or drawn.count("\x1b[") >= 50
    assert drawn.count("\n") <= 2, drawn.count("\n")


def test_it_draws_piped_progress_within_80_columns_once(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    piped = StringIO()
    progress_drawn(piped)
    lines = piped.getvalue().splitlines()

    assert [line for line in lines if "Playing" in line] == [lines[-1]]
    assert all(len(line) <= 80 for line in lines), lines


def test_it_writes_what_the_console_prints_to_the_stream_a_caller_gave_without_adding_newlines():
    captured = StringIO()
    console = command_console(OutputWrapper(captured))
    console.print("no newline", end="")
    console.print("…then one")

    assert captured.getvalue() == "no newline…then one\n"


@pytest.mark.django_db
def test_it_names_new_tournament_rounds_by_their_count_among_tournament_rounds():
    competition = Competition.objects.create(name="Demo Cup", slug="demo-cup")
    Round.objects.create(competition=competition, number=1, name="Practice", slug="practice", practice=True)
    Round.objects.create(competition=competition, number=2, name="Tournament 1", slug="tournament-1")

    second = tournament_round_next(competition)
    third = tournament_round_next(competition)

    assert (second.number, second.name, second.slug) == (3, "Tournament 2", "tournament-2")
    assert (third.number, third.name, third.slug) == (4, "Tournament 3", "tournament-3")
    assert not second.practice


@pytest.mark.django_db
def test_it_skips_a_tournament_name_an_earlier_demo_took():
    competition = Competition.objects.create(name="Demo Cup", slug="demo-cup")
    Round.objects.create(competition=competition, number=1, name="Practice", slug="practice", practice=True)
    Round.objects.create(competition=competition, number=2, name="Tournament 1", slug="tournament-1")
    # What the demo used to name the third round.
    Round.objects.create(competition=competition, number=3, name="Tournament 3", slug="tournament-3")

    assert tournament_round_next(competition).name == "Tournament 4"


def test_it_says_the_progress_page_needs_the_organizers_login(arena):
    buffer = StringIO()
    command = Command(stdout=buffer)
    command.console = command_console(OutputWrapper(buffer), width=80)

    command._where_to_look("http://127.0.0.1:8001", arena.round)

    lines = buffer.getvalue().splitlines()
    assert any("/progress/" in line for line in lines)
    assert any("progress page need the organizer's login" in line for line in lines)
    assert all(len(line) <= 80 for line in lines)


def test_it_names_a_way_to_serve_the_site_at_the_port_its_links_name():
    # The --no-serve summary's links name --port; make serve serves at 8000 only.
    assert serve_hint(8000) == "make serve"
    assert serve_hint(35593) == "manage.py runserver 127.0.0.1:35593"


@pytest.mark.django_db
def test_it_keeps_an_organizers_edit_of_a_demo_team_on_a_second_run_and_says_so(settings, tmp_path):
    from competition.management.demo_parts import demo_competition_load, kept_lines
    from teams.models import Bot, Team

    settings.VAR_DIR = tmp_path
    first, moved = demo_competition_load(bots_port=8701, reload=False)
    assert first.tallies["teams"].created == 7 and moved == 0
    team = Team.objects.get(slug="stone-wall")
    # The organizer renames the team and switches it off in the admin.
    Team.objects.filter(pk=team.pk).update(name="Stone Wall Renamed", active=False)

    second, moved = demo_competition_load(bots_port=8701, reload=False)

    team.refresh_from_db()
    assert (team.name, team.active) == ("Stone Wall Renamed", False)
    assert not second.changed
    lines = kept_lines(second)
    assert lines[0] == "Kept 1 row as edited (the demo file says otherwise):"
    assert lines[1] == "  team 'stone-wall' (name, active)"
    assert lines[-1] == "To load the demo file over them: manage.py demo --reload"
    assert all(len(line) <= 80 for line in lines)

    # Another port for the example bots moves them there, and nothing else.
    refuser = Bot.objects.get(team=team, name="refuser")
    _, moved = demo_competition_load(bots_port=8702, reload=False)
    refuser.refresh_from_db()
    assert refuser.url == "http://127.0.0.1:8702/defenders/refuser"
    assert moved == 7
    team.refresh_from_db()
    assert team.name == "Stone Wall Renamed"

    # --reload loads the file over the edit.
    demo_competition_load(bots_port=8702, reload=True)
    team.refresh_from_db()
    assert (team.name, team.active) == ("Stone Wall", True)


@pytest.mark.django_db
def test_it_leaves_an_example_bot_pointed_elsewhere_where_it_points(settings, tmp_path):
    from competition.management.demo_parts import demo_competition_load
    from teams.models import Bot

    settings.VAR_DIR = tmp_path
    demo_competition_load(bots_port=8701, reload=False)
    Bot.objects.filter(team__slug="stone-wall", name="refuser").update(url="https://refuser.example.org/bot")
    report, moved = demo_competition_load(bots_port=8702, reload=False)
    assert Bot.objects.get(team__slug="stone-wall", name="refuser").url == "https://refuser.example.org/bot"
    assert moved == 6
    assert [change.row for _, change in report.kept] == ["bot 'stone-wall' / 'refuser'"]
