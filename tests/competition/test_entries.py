"""Entries: a round pairs only the entered bots of approved entries of its own competition."""

from __future__ import annotations

import pytest
from django.test import Client

from competition.competition_file.load import competition_file_load
from competition.entries import services
from competition.entries.models import Entry, EntryBot
from competition.models import Competition, Match, Round
from competition.pipeline import lifecycle
from teams.models import Bot, Membership, Side, Team
from teams.services import bot_register
from tests.cast import PASSWORD, team_make, user_make
from tests.competition.competition_files import write

pytestmark = pytest.mark.django_db


def _file(slug: str, teams: list[tuple[str, str, str]]) -> dict:
    """A competition file with one round and the teams (slug, side, bot name) each with one bot."""
    return {
        "competition": {"name": slug.title(), "slug": slug},
        "rounds": [{"number": 1, "name": "Tournament 1", "slug": "tournament-1"}],
        "teams": [
            {
                "name": team.title(),
                "slug": team,
                "side": side,
                "bots": [{"name": bot, "url": f"https://{team}.example.org/bot"}],
            }
            for team, side, bot in teams
        ],
    }


def _pairs(round_: Round) -> set[tuple[str, str]]:
    return set(
        Match.objects.filter(round=round_)
        .exclude(attacker__kind=Bot.Kind.PROBE)
        .values_list("attacker__name", "defender__name")
    )


def test_it_pairs_only_each_competitions_own_entries_when_two_are_loaded_side_by_side(tmp_path):
    competition_file_load(
        path=write(tmp_path, _file("north-cup", [("ant", "attacker", "a1"), ("bee", "defender", "b1")]), "n.yaml")
    )
    competition_file_load(
        path=write(tmp_path, _file("south-cup", [("cat", "attacker", "c1"), ("dog", "defender", "d1")]), "s.yaml")
    )
    north = Round.objects.get(competition__slug="north-cup")
    south = Round.objects.get(competition__slug="south-cup")

    lifecycle.round_start(round_id=north.pk)
    lifecycle.round_start(round_id=south.pk)

    assert _pairs(north) == {("a1", "b1")}
    assert _pairs(south) == {("c1", "d1")}
    entry = Entry.objects.get(team__slug="ant")
    assert (entry.competition.slug, entry.status, [b.name for b in entry.bots.all()]) == (
        "north-cup",
        "approved",
        ["a1"],
    )


def test_it_leaves_a_newly_registered_bot_out_until_its_owner_enters_it(arena):
    other = Competition.objects.create(name="Other Cup", slug="other-cup")
    other_round = Round.objects.create(competition=other, number=1, name="T1", slug="t1")
    fresh, _secret = bot_register(team=arena.rogues, name="fresh", url="https://rogues.example.org/fresh")

    lifecycle.round_start(round_id=arena.round.pk)
    assert "fresh" not in {a for a, _ in _pairs(arena.round)}

    second = Round.objects.create(competition=arena.competition, number=2, name="T2", slug="t2")
    entry = Entry.objects.get(competition=arena.competition, team=arena.rogues)
    client = Client()
    client.login(username="alice", password=PASSWORD)
    response = client.get(f"/teams/bots/{fresh.pk}/")
    assert b"Enter this bot" in response.content
    response = client.post(f"/teams/entries/{entry.pk}/bots/{fresh.pk}/enter/")
    assert response.status_code == 302
    lifecycle.round_start(round_id=second.pk)
    assert {a for a, _ in _pairs(second)} == {"rogue", "crimson", "fresh"}
    # Entered in one competition, it plays nowhere else: the other one has no entries at all.
    with pytest.raises(lifecycle.RoundTransitionError, match="entered in Other Cup"):
        lifecycle.round_start(round_id=other_round.pk)


def test_it_pairs_no_bot_of_a_requested_declined_or_withdrawn_entry(arena):
    entry = Entry.objects.get(competition=arena.competition, team=arena.crimson)
    services.entry_withdraw(entry=entry, reason="left")
    lifecycle.round_start(round_id=arena.round.pk)
    assert {a for a, _ in _pairs(arena.round)} == {"rogue"}


def test_it_lets_only_the_owner_enter_a_bot_and_hides_other_teams_entries(arena):
    entry = Entry.objects.get(competition=arena.competition, team=arena.rogues)
    fresh, _ = bot_register(team=arena.rogues, name="fresh", url="https://rogues.example.org/fresh")
    member, stranger = Client(), Client()
    member.login(username="mallory", password=PASSWORD)  # member of Red Rogues, not an owner
    stranger.login(username="carl", password=PASSWORD)  # owner of another team
    assert member.post(f"/teams/entries/{entry.pk}/bots/{fresh.pk}/enter/").status_code == 403
    assert stranger.post(f"/teams/entries/{entry.pk}/bots/{fresh.pk}/enter/").status_code == 404
    other = Entry.objects.get(competition=arena.competition, team=arena.crimson)
    owner = Client()
    owner.login(username="alice", password=PASSWORD)
    # A bot of one's own team cannot go into another team's entry.
    assert owner.post(f"/teams/entries/{other.pk}/bots/{fresh.pk}/enter/").status_code == 404
    assert not EntryBot.objects.filter(bot=fresh).exists()


def test_it_enters_a_bot_through_the_api(arena):
    from rest_framework.test import APIClient

    from teams.services import api_token_create

    entry = Entry.objects.get(competition=arena.competition, team=arena.rogues)
    fresh, _ = bot_register(team=arena.rogues, name="fresh", url="https://rogues.example.org/fresh")
    _token, key = api_token_create(user=arena.alice, name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    listed = client.get("/api/entries/").json()
    assert [row["team"] for row in listed["results"]] == ["red-rogues"]
    response = client.post(f"/api/entries/{entry.pk}/bots/", {"bot": fresh.pk}, format="json")
    assert response.status_code == 200, response.content
    assert fresh.pk in response.json()["bots"]
    response = client.delete(f"/api/entries/{entry.pk}/bots/?bot={fresh.pk}")
    assert fresh.pk not in response.json()["bots"]
    other = Entry.objects.get(competition=arena.competition, team=arena.crimson)
    assert client.get(f"/api/entries/{other.pk}/").status_code == 404


def test_it_removes_a_team_that_played_nothing_and_refuses_one_that_played(arena):
    mistake = team_make("Typo Team", "typo-team", Side.ATTACKER, user_make("tess"))
    Bot.objects.create(team=mistake, name="oops", url="http://1.2.3.4/bot")
    services.entry_enter_approved(competition=arena.competition, team=mistake, bots=list(mistake.bots.all()), note="x")
    services.team_remove(team=mistake)
    assert not Team.objects.filter(slug="typo-team").exists()
    assert not Bot.objects.filter(name="oops").exists()

    lifecycle.round_start(round_id=arena.round.pk)
    with pytest.raises(services.EntryError, match="has played matches"):
        services.team_remove(team=arena.rogues)
    assert Team.objects.filter(pk=arena.rogues.pk).exists()


def test_it_removes_teams_from_the_admin_with_a_message_for_those_that_played(arena):
    lifecycle.round_start(round_id=arena.round.pk)
    mistake = team_make("Typo Team", "typo-team", Side.ATTACKER, user_make("tess"))
    client = Client()
    client.login(username="olivia", password=PASSWORD)
    response = client.post(
        "/admin/teams/team/",
        {"action": "remove_teams", "_selected_action": [mistake.pk, arena.rogues.pk]},
        follow=True,
    )
    assert not Team.objects.filter(pk=mistake.pk).exists()
    assert Team.objects.filter(pk=arena.rogues.pk).exists()
    assert b"has played matches and cannot be removed" in response.content
    page = client.get("/admin/teams/team/").content.decode()
    assert "Trusted AI 2026" in page  # the Competitions column


def test_it_declines_entries_in_the_admin_with_the_reason(arena):
    team = team_make("Late Team", "late-team", Side.DEFENDER, user_make("lena"))
    entry = services.entry_request(competition=arena.competition, team=team)
    client = Client()
    client.login(username="olivia", password=PASSWORD)
    page = client.post("/admin/competition/entry/", {"action": "decline_entries", "_selected_action": [entry.pk]})
    assert b"Decline 1 entry" in page.content
    client.post(
        "/admin/competition/entry/",
        {"action": "decline_entries", "_selected_action": [entry.pk], "confirm": "yes", "reason": "Full up"},
    )
    entry.refresh_from_db()
    assert (entry.status, entry.reason) == ("declined", "Full up")
    assert entry.history.count() == 2


def test_it_refuses_a_file_that_would_put_a_person_on_two_teams_of_one_competition(tmp_path):
    from competition.competition_file import CompetitionFileInvalid

    data = _file("north-cup", [("ant", "attacker", "a1"), ("bee", "defender", "b1")])
    data["teams"][0]["members"] = [{"username": "ann", "email": "ann@example.org", "role": "owner"}]
    competition_file_load(path=write(tmp_path, data, "n.yaml"))
    # A second file puts ann on another team (its own file) entered in the same competition.
    other = _file("north-cup", [("cat", "attacker", "c1")])
    other["teams"][0]["members"] = [{"username": "ann", "email": "ann@example.org"}]
    with pytest.raises(CompetitionFileInvalid) as caught:
        competition_file_load(path=write(tmp_path, other, "o.yaml"))
    assert "one team per competition" in "\n".join(caught.value.lines())
    assert not Team.objects.filter(slug="cat").exists()  # nothing of the second file was written


def test_it_says_in_the_admin_when_a_new_member_is_on_another_team_of_the_competition(arena):
    client = Client()
    client.login(username="olivia", password=PASSWORD)
    response = client.post(
        "/admin/teams/membership/add/", {"user": arena.carl.pk, "team": arena.rogues.pk, "role": "member"}
    )
    assert response.status_code == 200
    assert b"a person plays for one team per competition" in response.content
    assert not Membership.objects.filter(user=arena.carl, team=arena.rogues).exists()
