"""Migration 0008 enters today's teams: where their bots played, or everywhere when they played nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", None), ("competition", "0007_bot_slots"), ("teams", "0009_bot_url_without_credentials")]
AFTER = [("competition", "0008_entries")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([target for target in targets if target[1]]).apps


@pytest.mark.django_db(transaction=True)
def test_it_enters_teams_where_they_played_and_everywhere_when_they_played_nothing():
    old = _migrate(BEFORE)
    Competition = old.get_model("competition", "Competition")
    Round = old.get_model("competition", "Round")
    Match = old.get_model("competition", "Match")
    Team = old.get_model("teams", "Team")
    Bot = old.get_model("teams", "Bot")
    User = old.get_model("auth", "User")
    Membership = old.get_model("teams", "Membership")
    north = Competition.objects.create(name="North", slug="north")
    Competition.objects.create(name="South", slug="south")
    played = Round.objects.create(competition=north, number=1, name="T1", slug="t1")
    ant = Team.objects.create(name="Ant", slug="ant", side="attacker")
    bee = Team.objects.create(name="Bee", slug="bee", side="defender")
    new = Team.objects.create(name="New", slug="new", side="defender")
    a1 = Bot.objects.create(team=ant, name="a1", url="https://a.example.org", secret="s", config_hash="h")
    b1 = Bot.objects.create(team=bee, name="b1", url="https://b.example.org", secret="s", config_hash="h")
    Bot.objects.create(team=new, name="n1", url="https://n.example.org", secret="s", config_hash="h")
    Match.objects.create(
        round=played,
        attacker=a1,
        defender=b1,
        attacker_version=1,
        defender_version=1,
        attacker_snapshot={},
        defender_snapshot={},
    )
    # Ann is on Ant and on New: she keeps Ant's seat in North only.
    ann = User.objects.create(username="ann")
    Membership.objects.create(team=ant, user=ann, role="owner")
    Membership.objects.create(team=new, user=ann, role="member")

    new_apps = _migrate(AFTER)
    Entry = new_apps.get_model("competition", "Entry")
    EntrySeat = new_apps.get_model("competition", "EntrySeat")
    entries = {
        (e.team.slug, e.competition.slug): (e.status, sorted(b.name for b in e.bots.all()))
        for e in Entry.objects.select_related("team", "competition")
    }
    assert entries == {
        ("ant", "north"): ("approved", ["a1"]),
        ("bee", "north"): ("approved", ["b1"]),
        ("new", "north"): ("approved", ["n1"]),
        ("new", "south"): ("approved", ["n1"]),
    }
    seats = sorted(EntrySeat.objects.values_list("entry__team__slug", "competition__slug"))
    assert seats == [("ant", "north"), ("new", "south")]
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
