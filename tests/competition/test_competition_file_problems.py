"""The competition file: bad files are refused, each problem located, nothing written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from competition.competition_file import (
    JUDGE_KINDS,
    JUDGE_NAME_MAX_LENGTH,
    JUDGE_SLUG_MAX_LENGTH,
    competition_file_parse,
)
from competition.competition_file.load import competition_file_load
from competition.models import Competition
from judging.models import Judge
from teams.models import Bot
from tests.competition.competition_files import FILES, GOOD, good_data, problems_of, row_counts, write

pytestmark = pytest.mark.django_db


# --- Bad files --------------------------------------------------------------------------------------


def set_in(*keys, value) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


def append(*keys, value) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        target = data
        for key in keys:
            target = target[key]
        target.append(value)

    return change


def delete(*keys) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return change


BAD_FILES = {
    "wrong type": (set_in("teams", 1, "active", value="no way"), "teams[1].active", "must be true or false"),
    "wrong type of section": (set_in("rounds", value={"number": 1}), "rounds", "must be a list, got a mapping"),
    "whole number as text": (set_in("rounds", 1, "retries", value="3"), "rounds[1].retries", "must be a whole number"),
    "unknown key": (
        set_in("teams", 2, "bots", 0, "urll", value="https://x.example.org"),
        "teams[2].bots[0].urll",
        "unknown key; did you mean 'url'?",
    ),
    "missing field": (delete("teams", 1, "side"), "teams[1].side", "required key is missing"),
    "missing competition slug": (delete("competition", "slug"), "competition.slug", "required key is missing"),
    "duplicate team slug": (
        set_in("teams", 2, "slug", value="red-team"),
        "teams[2].slug",
        "duplicate team slug 'red-team'; already used at teams[0].slug",
    ),
    "duplicate round number": (set_in("rounds", 1, "number", value=1), "rounds[1].number", "duplicate round number"),
    "duplicate judge slug": (set_in("judges", 1, "slug", value="static"), "judges[1].slug", "duplicate judge slug"),
    "duplicate username across teams": (
        set_in("teams", 2, "members", value=[{"username": "Rita", "email": "rita@green.example.org"}]),
        "teams[2].members[0].username",
        "duplicate username 'Rita'; already used at teams[0].members[0].username",
    ),
    "member listed twice": (
        append("teams", 1, "members", value={"username": "bea", "email": "bea@blue.example.org"}),
        "teams[1].members[1].username",
        "'bea' is listed twice in this team",
    ),
    "duplicate bot name": (
        set_in("teams", 0, "bots", 1, "name", value="direct"),
        "teams[0].bots[1].name",
        "duplicate bot name 'direct'",
    ),
    "bad URL scheme": (
        set_in("teams", 2, "bots", 0, "url", value="ftp://green.example.org/bot"),
        "teams[2].bots[0].url",
        "must be an http:// or https:// URL",
    ),
    "not a URL": (
        set_in("teams", 2, "bots", 0, "url", value="green bot"),
        "teams[2].bots[0].url",
        "must be an http:// or https:// URL",
    ),
    "bad side": (set_in("teams", 1, "side", value="spectator"), "teams[1].side", "must be one of attacker, defender"),
    "bad bot kind": (set_in("teams", 0, "bots", 0, "kind", value="grpc"), "teams[0].bots[0].kind", "arena, openai"),
    "bad judge kind": (set_in("judges", 0, "kind", value="oracle"), "judges[0].kind", "static, rules, llm, http"),
    "bad member role": (
        set_in("teams", 0, "members", 1, "role", value="captain"),
        "teams[0].members[1].role",
        "must be one of owner, member",
    ),
    "bad email": (set_in("teams", 0, "members", 1, "email", value="rob"), "teams[0].members[1].email", "email"),
    "max_turns too high": (
        set_in("rounds", 1, "max_turns", value=51),
        "rounds[1].max_turns",
        "less than or equal to 50",
    ),
    "max_turns too low": (set_in("rounds", 0, "max_turns", value=0), "rounds[0].max_turns", "greater than or equal"),
    "default out of range": (
        set_in("competition", "round_defaults", "retries", value=11),
        "competition.round_defaults.retries",
        "less than or equal to 10",
    ),
    "concurrency out of range": (
        set_in("teams", 0, "bots", 1, "max_concurrency", value=0),
        "teams[0].bots[1].max_concurrency",
        "greater than or equal to 1",
    ),
    "timeout not finite": (
        set_in("teams", 0, "bots", 1, "timeout_seconds", value=float("inf")),
        "teams[0].bots[1].timeout_seconds",
        "finite",
    ),
    "goals not a mapping": (
        set_in("competition", "goals", value=["a keylogger"]),
        "competition.goals",
        "must be a non-empty mapping",
    ),
    "goal category without targets": (
        set_in("competition", "goals", "vulnerable_code", value=[]),
        "competition.goals.vulnerable_code",
        "must be a non-empty list of targets, got an empty list",
    ),
    "blank goal target": (
        set_in("competition", "goals", "malicious_code", 1, value="  "),
        "competition.goals.malicious_code[1]",
        "a target must be a non-empty string",
    ),
    "bad goal category": (
        set_in("competition", "goals", value={"malicious code": ["x"]}),
        "competition.goals['malicious code']",
        "a goal category must be a slug",
    ),
    "negative scoring weight": (
        set_in("competition", "scoring_weights", "safety", value=-1),
        "competition.scoring_weights.safety",
        "must be a number >= 0",
    ),
    "misspelt scoring weight": (
        set_in("competition", "scoring_weights", value={"saftey": 3}),
        "competition.scoring_weights.saftey",
        "unknown key; did you mean 'safety'? (expected one of safety, utility, diversity, availability)",
    ),
    "unknown scoring weight": (
        set_in("competition", "scoring_weights", value={"novelty": 2}),
        "competition.scoring_weights.novelty",
        "unknown key; expected one of safety, utility, diversity, availability",
    ),
    "rules judge with a config key it does not read": (
        set_in("judges", 0, value={"name": "Rules", "slug": "rules", "kind": "rules", "config": {"foo": 1}}),
        "judges[0].config.foo",
        "unknown key; expected one of ensemble_weight",
    ),
    "llm judge with an ftp base URL": (
        set_in(
            "judges",
            0,
            value={"name": "Model", "slug": "model", "kind": "llm", "config": {"base_url": "ftp://x", "model": "m"}},
        ),
        "judges[0].config.base_url",
        "must be an http:// or https:// URL",
    ),
    "llm judge without its model": (
        set_in(
            "judges",
            0,
            value={"name": "Model", "slug": "model", "kind": "llm", "config": {"base_url": "https://x.org"}},
        ),
        "judges[0].config.model",
        "required key is missing",
    ),
    "openai bot without model": (delete("teams", 0, "bots", 1, "model"), "teams[0].bots[1].model", "needs a model"),
    "date without a time": (
        set_in("rounds", 1, "scheduled_at", value=dt.date(2026, 5, 1)),
        "rounds[1].scheduled_at",
        "needs a time as well as a date",
    ),
    "judge config not a mapping": (set_in("judges", 0, "config", value=[1]), "judges[0].config", "must be a mapping"),
    "judge config not JSON": (
        set_in("judges", 0, "config", value={"since": dt.date(2026, 1, 1)}),
        "judges[0].config",
        "which JSON cannot hold",
    ),
    "judge config its kind cannot run": (
        set_in("judges", 0, "config", value={"analyzers": ["codeshield"]}),
        "judges[0].config.analyzers",
        "must be a non-empty list drawn from regex, semgrep, bandit",
    ),
    "reference defender not a bot of its team": (
        set_in("competition", "reference_defender", value={"team": "blue-team", "bot": "wal"}),
        "competition.reference_defender.bot",
        "the team 'blue-team' has no bot 'wal' in this file (its bots: 'wall')",
    ),
    "reference defender on the attacker side": (
        set_in("competition", "reference_defender", value={"team": "red-team", "bot": "direct"}),
        "competition.reference_defender.team",
        "'red-team' is an attacker team (teams[0]); the reference must be a defender bot",
    ),
    "reference defender of no team": (
        set_in("competition", "reference_defender", value={"team": "grey-team", "bot": "leaf"}),
        "competition.reference_defender.team",
        "no team 'grey-team' in this file or in the database",
    ),
    "reference defender stored but misspelt": (
        set_in("competition", "reference_defender", value={"team": "blue-bastion", "bot": "bastoin"}),
        "competition.reference_defender.bot",
        "the team 'blue-bastion' has no bot 'bastoin' (its bots: 'bastion')",
    ),
    "reference defender without its bot": (
        set_in("competition", "reference_defender", value={"team": "green-team"}),
        "competition.reference_defender.bot",
        "required key is missing",
    ),
    "reference defender as text": (
        set_in("competition", "reference_defender", value="green-team/leaf"),
        "competition.reference_defender",
        "must be a mapping, got a string",
    ),
    "bad slug": (set_in("teams", 0, "slug", value="red team"), "teams[0].slug", "valid “slug”"),
    "name too long": (set_in("teams", 0, "name", value="x" * 121), "teams[0].name", "at most 120 characters"),
}


@pytest.mark.parametrize("change, where, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_it_rejects_a_bad_file_naming_the_file_and_the_place_and_writes_nothing(
    arena, tmp_path, change, where, message
):
    data = good_data()
    change(data)
    path = write(tmp_path, data)
    before = row_counts()

    lines = problems_of(path)

    assert any(line.startswith(f"{path}: {where}: ") and message in line for line in lines), lines
    assert row_counts() == before


def test_it_accepts_the_good_file_that_the_bad_ones_are_made_from(arena, tmp_path):
    competition_file_load(path=write(tmp_path, good_data()))
    assert Competition.objects.filter(slug="test-cup").exists()


def test_it_updates_nothing_when_a_changed_file_has_one_problem(arena, tmp_path):
    competition_file_load(path=GOOD)
    before = row_counts()
    data = good_data()
    data["competition"]["description"] = "Changed."
    data["teams"][0]["bots"][0]["url"] = "https://red.example.org/changed"
    data["teams"].append({"name": "New", "slug": "new", "side": "attacker"})
    data["judges"][0]["version"] = 0

    lines = problems_of(write(tmp_path, data))

    assert lines == [f"{tmp_path / 'cup.yaml'}: judges[0].version: Ensure this value is greater than or equal to 1."]
    assert row_counts() == before
    assert Competition.objects.get(slug="test-cup").description == "A competition for the loader's tests."
    assert Bot.objects.get(team__slug="red-team", name="direct").version == 1


def test_it_reports_every_problem_of_a_file_at_once(arena):
    before = row_counts()

    lines = problems_of(FILES / "bad-many.yaml")

    places = [line.split(": ")[1] for line in lines]
    assert places == [
        "competition.slug",
        "competition.goals.malicious_code",
        "competition.round_defaults.max_turns",
        "competition.scoring_weights.saftey",
        "competition.scoring_weights.novelty",
        "competition.scoring_weights.utility",
        "competition.scoring_weights.diversity",
        "competition.colour",
        "rounds[0].max_turns",
        "rounds[1].number",
        "rounds[1].slug",
        "rounds[1].retries",
        "teams[0].side",
        "teams[0].members[0].email",
        "teams[0].members[1].username",
        "teams[0].bots[0].url",
        "teams[0].bots[1].name",
        "teams[0].bots[1].kind",
        "teams[1].slug",
        "teams[1].active",
        "teams[1].bots[0].model",
        "teams[1].bots[0].max_concurrency",
        "judges[0].kind",
        "judges[0].config",
        "judges[1].slug",
        "judges[1].version",
        "judges[1].config.foo",
        "judges[2].config.analyzers",
        "judges[3].config.model",  # missing: where the config that lacks it starts
        "judges[3].config.base_url",
        "judges[3].config.temperature",
    ]
    assert len(lines) == len(set(lines)) == 31  # once each: one message for the bad URL
    assert "unknown key; did you mean 'safety'?" in lines[3]
    assert "must be a number >= 0, got -1" in lines[5]
    assert "must be a non-empty list drawn from regex, semgrep, bandit" in lines[27]
    assert "must be an http:// or https:// URL" in lines[29]
    assert all(line.startswith(f"{FILES / 'bad-many.yaml'}: ") for line in lines)
    assert row_counts() == before


@pytest.mark.parametrize(
    "name, expected",
    [
        ("bad-syntax.yaml", "bad-syntax.yaml: line 7, column 20: YAML syntax error: "),
        ("bad-syntax.json", "bad-syntax.json: line 2, column 62: JSON syntax error: "),
        ("bad-duplicate-key.yaml", "bad-duplicate-key.yaml: line 11, column 9: YAML syntax error: "),
    ],
)
def test_it_rejects_a_syntax_error_with_its_line_and_column(arena, name, expected):
    before = row_counts()

    lines = problems_of(FILES / name)

    assert len(lines) == 1 and expected in lines[0], lines
    assert row_counts() == before


def test_it_rejects_a_repeated_key_in_a_json_object(tmp_path):
    path = tmp_path / "twice.json"
    path.write_text('{"competition": {"name": "A", "slug": "a", "name": "B"}}')

    assert problems_of(path) == [f"{path}: the key 'name' appears twice in one object"]


def test_it_rejects_a_file_type_it_does_not_read(tmp_path):
    path = tmp_path / "cup.toml"
    path.write_text("[competition]\n")

    assert problems_of(path) == [f"{path}: unsupported file type '.toml'; use .yaml, .yml or .json"]


def test_it_rejects_a_file_that_does_not_exist(tmp_path):
    path = tmp_path / "missing.yml"

    assert problems_of(path) == [f"{path}: file not found"]


def test_it_rejects_an_empty_file_and_a_document_that_is_not_a_mapping(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    listed = tmp_path / "listed.json"
    listed.write_text("[1, 2]")

    expected = "it must hold a mapping with a competition (and rounds, teams, judges)"
    assert problems_of(empty) == [f"{empty}: the file is empty; {expected}"]
    assert problems_of(listed) == [f"{listed}: the file holds a list; {expected}"]


def test_it_reports_a_missing_competition_once(tmp_path):
    path = write(tmp_path, {"teams": []})

    assert problems_of(path) == [f"{path}: competition: required key is missing"]


def test_it_parses_without_touching_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        described = competition_file_parse(path=GOOD)
    assert [team.slug for team in described.teams] == ["red-team", "blue-team", "green-team"]
    assert described.teams[2].bots[0].where == "teams[2].bots[0]"


def test_it_mirrors_the_judge_models_kinds_and_lengths():
    assert set(JUDGE_KINDS) == set(Judge.Kind.values)
    assert Judge._meta.get_field("name").max_length == JUDGE_NAME_MAX_LENGTH
    assert Judge._meta.get_field("slug").max_length == JUDGE_SLUG_MAX_LENGTH


def test_it_refuses_every_unknown_and_bad_scoring_weight_in_the_admin_too():
    from django.core.exceptions import ValidationError

    from competition.models import validate_weights

    with pytest.raises(ValidationError) as refused:
        validate_weights({"saftey": 3, "novelty": 2, "utility": -1, "safety": 1})
    assert refused.value.messages == [
        "unknown scoring weight 'saftey'; expected one of safety, utility, diversity, availability",
        "unknown scoring weight 'novelty'; expected one of safety, utility, diversity, availability",
        "scoring weight 'utility' must be a number >= 0",
    ]
