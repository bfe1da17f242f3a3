"""The competition file's other loads: a dry run that changes nothing and says what a load would do,
a load that keeps the rows that exist (the demo's), and the admin's load by a person."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from competition.competition_file import CompetitionFileInvalid
from competition.competition_file.load import RowChange, competition_file_load
from competition.entries.models import Entry
from competition.models import Competition, Round
from teams.models import Bot, Membership, Team
from tests.competition.competition_files import GOOD, good_data, row_counts, tallies, write

pytestmark = pytest.mark.django_db


def test_it_changes_nothing_on_a_dry_run_and_reports_what_the_load_would_do(arena):
    before = row_counts()
    report = competition_file_load(path=GOOD, dry_run=True)

    assert row_counts() == before
    assert report.dry_run
    assert tallies(report) == tallies(competition_file_load(path=GOOD))  # what it said is what a load does
    assert report.new_bot_secrets == []  # no bot was made, so no secret is shown
    assert RowChange(row="team 'red-team'", change="created") in report.tallies["teams"].changes


def test_it_lists_each_row_a_dry_run_would_update_with_its_fields(arena, tmp_path):
    competition_file_load(path=GOOD)
    data = good_data()
    data["teams"][0]["institution"] = "Red Institute"
    data["teams"][0]["bots"][0]["url"] = "https://red.example.org/bot2"
    report = competition_file_load(path=write(tmp_path, data), dry_run=True)

    assert report.tallies["teams"].changes == [RowChange("team 'red-team'", "updated", ("institution",))]
    assert report.tallies["bots"].changes == [RowChange("bot 'red-team' / 'direct'", "updated", ("url",))]
    assert Team.objects.get(slug="red-team").institution == "Red University"
    assert Bot.objects.get(team__slug="red-team", name="direct").url == "https://red.example.org/bot"


def test_it_reports_every_problem_on_a_dry_run_as_on_a_load(arena, tmp_path):
    data = good_data()
    data["teams"][0]["side"] = "spectator"
    data["rounds"][0]["max_turns"] = 0
    path = write(tmp_path, data)
    with pytest.raises(CompetitionFileInvalid) as dry:
        competition_file_load(path=path, dry_run=True)
    with pytest.raises(CompetitionFileInvalid) as real:
        competition_file_load(path=path)
    assert dry.value.lines() == real.value.lines()
    assert len(dry.value.problems) == 2


def test_it_keeps_rows_edited_since_and_adds_what_is_missing(arena, tmp_path):
    competition_file_load(path=GOOD)
    # An organizer's edits in the admin, and a row deleted there.
    Team.objects.filter(slug="red-team").update(name="Red Renamed", side="defender")
    Bot.objects.filter(team__slug="red-team", name="direct").update(url="https://elsewhere.example.org/bot")
    User.objects.filter(username="rob").update(email="rob@new.example.org")
    Membership.objects.filter(user__username="rita").update(role="member")
    Entry.objects.filter(team__slug="green-team").update(status=Entry.Status.WITHDRAWN)
    Round.objects.filter(competition__slug="test-cup", number=1).update(max_turns=7)
    Bot.objects.filter(team__slug="green-team", name="leaf").delete()

    report = competition_file_load(path=GOOD, keep_existing=True)

    assert Team.objects.get(slug="red-team").name == "Red Renamed"
    assert Team.objects.get(slug="red-team").side == "defender"
    assert Bot.objects.get(team__slug="red-team", name="direct").url == "https://elsewhere.example.org/bot"
    assert User.objects.get(username="rob").email == "rob@new.example.org"
    assert Membership.objects.get(user__username="rita").role == "member"
    assert Entry.objects.get(team__slug="green-team").status == Entry.Status.WITHDRAWN
    assert Round.objects.get(competition__slug="test-cup", number=1).max_turns == 7
    assert Bot.objects.filter(team__slug="green-team", name="leaf").exists()  # the missing row is back
    created = [change.row for change in report.tallies["bots"].changes if change.change == "created"]
    assert created == ["bot 'green-team' / 'leaf'"]
    assert ("teams", RowChange("team 'red-team'", "kept", ("name", "side"))) in report.kept
    assert {change.row for _, change in report.kept} >= {
        "bot 'red-team' / 'direct'",
        "account 'rob'",
        "membership of 'rita' in 'red-team'",
        "entry of 'green-team'",
        "round 1 ('warm-up')",
    }
    assert "kept" in report.lines()[0]


def test_it_keeps_a_started_rounds_settings_without_refusing_the_file(arena, tmp_path):
    competition_file_load(path=GOOD)
    Round.objects.filter(competition__slug="test-cup", number=2).update(status=Round.Status.RUNNING, max_turns=9)
    data = good_data()
    data["rounds"][1]["max_turns"] = 3
    path = write(tmp_path, data)
    with pytest.raises(CompetitionFileInvalid):
        competition_file_load(path=path)  # the file would change a started round
    report = competition_file_load(path=path, keep_existing=True)  # kept, so nothing to refuse
    assert [change.row for _, change in report.kept] == ["round 2 ('tournament-1')"]
    assert Round.objects.get(competition__slug="test-cup", number=2).max_turns == 9


def test_it_creates_everything_on_a_first_load_that_keeps_existing_rows(arena):
    report = competition_file_load(path=GOOD, keep_existing=True)
    assert report.kept == []
    assert Competition.objects.filter(slug="test-cup").exists()
    assert report.tallies["bots"].created == 4


def test_it_refuses_a_superusers_account_to_a_load_by_someone_else(arena, tmp_path):
    User.objects.create_superuser("root", "root@example.org", "pw-of-root-123")
    data = good_data()
    data["teams"][0]["members"][1] = {"username": "root", "email": "mine@attacker.example.org"}
    path = write(tmp_path, data)
    with pytest.raises(CompetitionFileInvalid) as caught:
        competition_file_load(path=path, by=arena.olivia)
    assert caught.value.problems[-1].where == "teams[0].members[1].username"
    assert "'root' is a superuser's account: only a superuser may load a file naming it" in caught.value.lines()[-1]
    assert User.objects.get(username="root").email == "root@example.org"
    # A superuser may; and the command line (no person) may, as before.
    competition_file_load(path=path, by=User.objects.get(username="root"), dry_run=True)
    competition_file_load(path=path)
    assert User.objects.get(username="root").email == "mine@attacker.example.org"
