"""The competition file: what it may and may not change in the stored rows."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from competition.competition_file.load import competition_file_load
from competition.models import Competition, Round
from judging.models import Judge
from teams.models import Team
from tests.cast import judged_reply_make
from tests.competition.competition_files import GOOD, good_data, problems_of, row_counts, tallies, write

pytestmark = pytest.mark.django_db


# --- Conflicts with the stored rows ----------------------------------------------------------------


def test_it_refuses_to_change_a_round_that_has_started(arena, tmp_path):
    competition_file_load(path=GOOD)
    Round.objects.filter(competition__slug="test-cup", number=2).update(status=Round.Status.RUNNING)
    before = row_counts()
    data = good_data()
    data["rounds"][0]["max_turns"] = 3  # a draft round: would be fine on its own
    data["rounds"][1]["max_turns"] = 6
    data["rounds"][1]["retries"] = 1

    lines = problems_of(write(tmp_path, data))

    assert lines == [
        f"{tmp_path / 'cup.yaml'}: rounds[1]: round 2 has started (status running) and cannot be changed: "
        "max_turns (4 -> 6), retries (3 -> 1)"
    ]
    assert row_counts() == before
    assert Round.objects.get(competition__slug="test-cup", number=1).max_turns == 2


def test_it_loads_a_file_that_leaves_a_started_round_as_it_is(arena, tmp_path):
    competition_file_load(path=GOOD)
    Round.objects.filter(competition__slug="test-cup", number=2).update(status=Round.Status.JUDGING)
    data = good_data()
    data["teams"].append({"name": "Late Team", "slug": "late-team", "side": "attacker"})

    report = competition_file_load(path=write(tmp_path, data))

    assert tallies(report)["rounds"] == (0, 0, 2)
    assert Team.objects.filter(slug="late-team").exists()
    assert Round.objects.get(competition__slug="test-cup", number=2).status == Round.Status.JUDGING


def test_it_updates_a_scheduled_round(arena, tmp_path):
    competition_file_load(path=GOOD)
    Round.objects.filter(competition__slug="test-cup", number=2).update(status=Round.Status.SCHEDULED)
    data = good_data()
    data["rounds"][1]["max_turns"] = 6

    competition_file_load(path=write(tmp_path, data))

    round_ = Round.objects.get(competition__slug="test-cup", number=2)
    assert (round_.max_turns, round_.status) == (6, Round.Status.SCHEDULED)


def test_it_refuses_to_change_a_judge_with_verdicts_under_the_same_version(arena, tmp_path):
    competition_file_load(path=GOOD)
    judged_reply_make(arena, Judge.objects.get(slug="static"))
    data = good_data()
    data["judges"][0]["config"] = {"analyzers": ["bandit"]}
    data["judges"][1]["version"] = 1

    lines = problems_of(write(tmp_path, data))

    assert lines == [
        f"{tmp_path / 'cup.yaml'}: judges[0].version: the judge has verdicts under version 1; "
        "raise the version to change its kind or config",
    ]
    data["judges"][0]["version"] = 2
    competition_file_load(path=write(tmp_path, data))
    assert Judge.objects.get(slug="static").version == 2
    # The rules judge has no verdicts: its version may go down.
    assert Judge.objects.get(slug="rules").version == 1


def test_it_refuses_to_lower_the_version_of_a_judge_with_verdicts(arena, tmp_path):
    competition_file_load(path=GOOD)
    judged_reply_make(arena, Judge.objects.get(slug="rules"))
    data = good_data()
    data["judges"][1]["version"] = 1

    assert problems_of(write(tmp_path, data)) == [
        f"{tmp_path / 'cup.yaml'}: judges[1].version: cannot go down from 2: the judge has verdicts"
    ]


def test_it_refuses_a_name_held_by_a_team_or_competition_outside_the_file(arena, tmp_path):
    data = good_data()
    data["competition"]["name"] = "Trusted AI 2026"
    data["teams"][2]["name"] = "Red Rogues"
    data["teams"][1]["members"][0]["username"] = "ALICE"
    before = row_counts()

    lines = problems_of(write(tmp_path, data))

    path = tmp_path / "cup.yaml"
    assert lines == [
        f"{path}: competition.name: the competition 'trusted-ai-2026' already has this name; names are unique",
        f"{path}: teams[2].name: the team 'red-rogues' already has this name; names are unique",
        f"{path}: teams[1].members[0].username: the account 'alice' exists already; spell it that way",
    ]
    assert row_counts() == before


def test_it_updates_a_team_of_the_cast_by_its_slug(arena, tmp_path):
    data = good_data()
    data["teams"][0].update(slug="red-rogues", name="Red Rogues Renamed")
    data["teams"][0]["bots"][0]["name"] = "rogue"

    report = competition_file_load(path=write(tmp_path, data))

    arena.rogue_bot.refresh_from_db()
    assert (arena.rogue_bot.url, arena.rogue_bot.version) == ("https://red.example.org/bot", 2)
    assert Team.objects.get(slug="red-rogues").name == "Red Rogues Renamed"
    assert tallies(report)["teams"] == (2, 1, 0)
    assert tallies(report)["bots"] == (3, 1, 0)


def test_it_rolls_everything_back_when_the_database_refuses_a_write(arena, tmp_path):
    competition_file_load(path=GOOD)
    before = row_counts()
    data = good_data()
    data["competition"]["description"] = "Written first, then rolled back."
    # Swapping two rounds' slugs passes validation but breaks the unique slug on the first update.
    data["rounds"][0]["slug"], data["rounds"][1]["slug"] = "tournament-1", "warm-up"

    with pytest.raises(IntegrityError):
        competition_file_load(path=write(tmp_path, data))

    assert row_counts() == before
    assert Competition.objects.get(slug="test-cup").description == "A competition for the loader's tests."
