"""The competition file: the load_competition command."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from competition.competition_file.load import competition_file_load
from competition.models import Competition
from tests.competition.competition_files import FILES, GOOD, good_data, problems_of, row_counts, write

pytestmark = pytest.mark.django_db


# --- The management command -------------------------------------------------------------------------


def test_it_loads_a_file_from_the_command_line_and_prints_the_counts(arena):
    out = io.StringIO()

    call_command("load_competition", str(GOOD), stdout=out)

    text = out.getvalue()
    assert f"Loaded competition 'test-cup' from {GOOD}" in text
    assert "created" in text and "unchanged" in text
    assert any(line.split() == ["bots", "4", "0", "0"] for line in text.splitlines())
    assert Competition.objects.filter(slug="test-cup").exists()

    again = io.StringIO()
    call_command("load_competition", str(GOOD), stdout=again)
    assert any(line.split() == ["bots", "0", "0", "4"] for line in again.getvalue().splitlines())
    assert "Nothing changed" in again.getvalue()


def test_it_prints_every_problem_and_fails_from_the_command_line(arena):
    err = io.StringIO()
    before = row_counts()

    with pytest.raises(CommandError, match=r"31 problems in .*bad-many.yaml; nothing was changed"):
        call_command("load_competition", str(FILES / "bad-many.yaml"), stderr=err)

    lines = err.getvalue().splitlines()
    assert len(lines) == 31
    assert f"{FILES / 'bad-many.yaml'}: teams[0].bots[0].url: must be an http:// or https:// URL" in lines
    assert row_counts() == before


def test_it_turns_a_database_error_into_a_command_error(arena, tmp_path):
    competition_file_load(path=GOOD)
    data = good_data()
    data["rounds"][0]["slug"], data["rounds"][1]["slug"] = "tournament-1", "warm-up"
    path = write(tmp_path, data)

    with pytest.raises(CommandError, match="the database refused the load, so nothing was changed"):
        call_command("load_competition", str(path), stdout=io.StringIO())


def test_it_exits_with_status_1_on_a_bad_file(tmp_path):
    # A separate process with its own throwaway settings directory: the shared database is never used.
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "ARENA_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)

    finished = subprocess.run(
        [sys.executable, "manage.py", "load_competition", str(FILES / "bad-syntax.json")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 1
    assert "bad-syntax.json: line 2, column 62: JSON syntax error" in finished.stderr
    assert "1 problem in" in finished.stderr
    assert finished.stdout == ""


def test_it_escapes_control_characters_from_the_file_in_its_messages(tmp_path):
    data = good_data()
    data["teams"][0]["\x1b[2Jcolour"] = "red"
    data["teams"][1]["side"] = "\x1b[31mdefender"

    lines = problems_of(write(tmp_path, data))

    assert "\x1b" not in "".join(lines)
    assert any("teams[0]['\\x1b[2Jcolour']: unknown key" in line for line in lines)
    assert any("got '\\x1b[31mdefender'" in line for line in lines)
