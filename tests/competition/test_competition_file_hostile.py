"""Hostile competition files: alias bombs, deep nesting, text the database cannot store, oversized files.

The three case files come from the team's shared cases (tests/cases/README.md says where); each must
be refused with located problems, quickly, without a traceback and without writing anything.
"""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest
import yaml
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from competition.competition_file import CompetitionFileInvalid, competition_file_parse, limits, reading
from competition.competition_file.load import competition_file_load

pytestmark = pytest.mark.django_db

CASES = Path(__file__).resolve().parents[1] / "cases"
GOOD = Path(__file__).parent / "files" / "good.yaml"
# Far above the second a refusal takes; only a hang (the unfixed alias bomb never ends) exceeds it.
HANG_SECONDS = 30


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def load_lines(path: Path) -> list[str]:
    """The problem lines load_competition prints for path; fails the test if the load hangs or passes."""
    outcome: dict = {}

    def run() -> None:
        stderr = io.StringIO()
        try:
            call_command("load_competition", str(path), stdout=io.StringIO(), stderr=stderr)
        except CommandError as exc:
            outcome["error"] = str(exc)
        except BaseException as exc:  # reported to the test below
            outcome["crash"] = exc
        outcome["lines"] = stderr.getvalue().splitlines()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_SECONDS)
    assert not worker.is_alive(), f"load_competition {path.name} still running after {HANG_SECONDS} s"
    assert "crash" not in outcome, f"load_competition raised {outcome.get('crash')!r}"
    assert "nothing was changed" in outcome["error"]
    return outcome["lines"]


def test_it_refuses_a_yaml_alias_bomb_with_one_located_problem(arena):
    before = row_counts()
    lines = load_lines(CASES / "competition-alias-bomb.yaml")
    assert len(lines) == 1
    assert "judges[0].config.l" in lines[0]
    assert "aliases expand the file past" in lines[0]
    assert "line " in lines[0]
    assert row_counts() == before


def test_it_refuses_very_deep_nesting_with_one_problem_naming_the_place(arena):
    before = row_counts()
    lines = load_lines(CASES / "competition-deep-nesting.yaml")
    assert len(lines) == 1
    assert ": competition.description…: nested too deeply" in lines[0]
    assert "(line 4, column " in lines[0]
    assert "Traceback" not in lines[0]
    assert row_counts() == before


def test_it_names_the_place_of_nesting_deeper_than_the_limit_but_short_of_the_parsers_own(tmp_path):
    path = tmp_path / "cup.yaml"
    path.write_text("competition:\n  name: Deep\n  slug: deep\n  goals:\n    x: " + "[" * 100 + "]" * 100 + "\n")
    with pytest.raises(CompetitionFileInvalid) as caught:
        competition_file_parse(path=path)
    [problem] = caught.value.problems
    assert problem.where == "competition.goals.x[0]…[0]"
    assert problem.message.startswith(f"nested too deeply: more than {limits.MAX_DEPTH} lists and mappings")


def test_it_names_every_field_holding_a_nul_character(arena):
    before = row_counts()
    lines = load_lines(CASES / "competition-nul.yaml")
    places = [line.split(": ")[1] for line in lines]
    assert places == [
        "competition.name",
        "competition.description",
        "teams[0].name",
        "teams[0].bots[0].name",
        "teams[0].bots[0].system_prompt",
    ]
    assert all("NUL character" in line for line in lines)
    assert row_counts() == before


def test_it_names_unpaired_surrogates_in_keys_values_and_judge_configs(arena, tmp_path):
    data = yaml.safe_load(GOOD.read_text())
    data["competition"]["description"] = "fine \ud83d then broken"
    data["judges"][0]["config"] = {"note\udc00": "x", "list": ["ok", "bad \x00"]}
    path = tmp_path / "cup.json"
    # json.dumps writes the surrogates as \ud83d escapes, which json.loads turns back into lone ones.
    path.write_text(json.dumps(data, default=str))
    before = row_counts()
    with pytest.raises(CompetitionFileInvalid) as caught:
        competition_file_load(path=path)
    found = {problem.where: problem.message for problem in caught.value.problems}
    assert set(found) == {
        "competition.description",
        "judges[0].config['note\\udc00']",
        "judges[0].config.list[1]",
    }
    assert "unpaired surrogate (U+D83D) at character 6" in found["competition.description"]
    assert found["judges[0].config['note\\udc00']"].startswith("this key holds an unpaired surrogate (U+DC00)")
    assert "NUL character" in found["judges[0].config.list[1]"]
    assert row_counts() == before


def test_it_refuses_deep_nesting_in_json_with_its_line_and_column(tmp_path):
    path = tmp_path / "cup.json"
    path.write_text('{"competition": {"name": "x", "description":\n  ' + "[" * 5000 + "]" * 5000 + "}}")
    with pytest.raises(CompetitionFileInvalid) as caught:
        competition_file_parse(path=path)
    assert len(caught.value.problems) == 1
    problem = caught.value.problems[0]
    assert problem.where == f"line 2, column {3 + limits.MAX_DEPTH - 2}"
    assert "nested too deeply" in problem.message


def test_it_refuses_an_alias_inside_its_own_anchor(tmp_path):
    path = tmp_path / "cup.yaml"
    path.write_text("competition:\n  name: Loop\n  slug: loop\n  goals: &loop {a: [*loop]}\n")
    with pytest.raises(CompetitionFileInvalid) as caught:
        competition_file_parse(path=path)
    assert [(p.where, p.message.split(" (")[0]) for p in caught.value.problems] == [
        ("competition.goals.a[0]", "the alias *loop is inside its own anchor")
    ]


def test_it_still_loads_a_file_that_uses_a_few_aliases(arena, tmp_path):
    text = GOOD.read_text()
    text = text.replace("  description: A competition", "  description: &about A competition", 1)
    text = text.replace("    institution: Red University", "    institution: *about", 1)
    path = tmp_path / "cup.yaml"
    path.write_text(text)
    report = competition_file_load(path=path)
    assert report.changed
    described = competition_file_parse(path=path)
    assert described.teams[0].institution == described.competition.description


def test_it_refuses_a_file_over_the_size_limit_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "cup.yaml"
    path.write_text("competition:\n  name: Big\n  slug: big\n  description: " + "x" * 2000 + "\n")
    with pytest.raises(CompetitionFileInvalid) as caught:
        competition_file_parse(path=path)
    assert caught.value.lines() == [f"{path}: the file has {path.stat().st_size:,} bytes; the limit is 1,000 bytes"]


def test_it_refuses_a_file_with_more_values_than_the_limit_without_aliases(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_VALUES", 50)
    path = tmp_path / "cup.yaml"
    path.write_text(
        "competition:\n  name: Many\n  slug: many\n  benign_prompts:\n" + "".join(f"  - p{i}\n" for i in range(60))
    )
    with pytest.raises(CompetitionFileInvalid) as caught:
        competition_file_parse(path=path)
    [problem] = caught.value.problems
    assert problem.where == "competition.benign_prompts"
    assert "more than 50 values" in problem.message
