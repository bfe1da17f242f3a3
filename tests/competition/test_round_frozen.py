"""Everything frozen when a round starts is read-only everywhere in the admin (issue 14, item 2)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from competition.models import Round
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db


def started(round_: Round, status: str = Round.Status.SCORED) -> Round:
    Round.objects.filter(pk=round_.pk).update(
        status=status, started_at=timezone.now(), frozen_settings={"max_turns": round_.max_turns}
    )
    round_.refresh_from_db()
    return round_


def competition_form(competition, round_: Round, **changes) -> dict:
    row = {
        "rounds-0-id": round_.pk,
        "rounds-0-competition": competition.pk,
        "rounds-0-number": round_.number,
        "rounds-0-name": round_.name,
        "rounds-0-slug": round_.slug,
        **({"rounds-0-practice": "on"} if round_.practice else {}),
    }
    row.update({f"rounds-0-{name}": value for name, value in changes.items()})
    return {
        "name": competition.name,
        "slug": competition.slug,
        "description": competition.description,
        "goals": '{"vulnerable_code": ["CWE-89 SQL injection"]}',
        "scoring_weights": '{"safety": 1.0}',
        "benign_prompts": "[]",
        "default_conversations_per_pair": 1,
        "default_max_turns": 5,
        "default_call_timeout_seconds": 45,
        "default_retries": 2,
        "default_message_limit": 20000,
        "registration": "approval",
        "rounds-TOTAL_FORMS": 1,
        "rounds-INITIAL_FORMS": 1,
        "rounds-MIN_NUM_FORMS": 0,
        "rounds-MAX_NUM_FORMS": 1000,
        **row,
    }


def test_it_keeps_a_started_rounds_number_and_practice_flag_from_the_competition_page(client, arena):
    round_ = started(arena.round, Round.Status.PUBLISHED)
    client.force_login(arena.olivia)

    answer = client.post(
        admin_url(arena.competition, "change"),
        competition_form(arena.competition, round_, number=7, practice="on", name="Renamed", DELETE="on"),
    )

    assert answer.status_code == 302
    round_.refresh_from_db()
    assert (round_.number, round_.practice, round_.name) == (1, False, "Tournament 1")
    page = client.get(admin_url(arena.competition, "change")).content.decode()
    assert 'name="rounds-0-number" value="1" class="vIntegerField" min="0" disabled' in page


def test_it_still_edits_a_draft_round_from_the_competition_page(client, arena):
    client.force_login(arena.olivia)

    answer = client.post(
        admin_url(arena.competition, "change"), competition_form(arena.competition, arena.round, number=3)
    )

    assert answer.status_code == 302
    arena.round.refresh_from_db()
    assert arena.round.number == 3


def test_it_shows_a_scored_rounds_own_page_read_only(client, arena):
    round_ = started(arena.round)
    client.force_login(arena.olivia)

    page = client.get(admin_url(round_, "change"))
    form = page.context["adminform"].form
    assert not {"name", "slug", "practice", "scheduled_at", "number", "max_turns"} & set(form.fields)

    client.post(
        admin_url(round_, "change"),
        {"name": "Renamed", "slug": "renamed", "practice": "on", "scheduled_at_0": "2030-01-01"},
    )
    round_.refresh_from_db()
    assert (round_.name, round_.slug, round_.practice, round_.scheduled_at) == (
        "Tournament 1",
        "tournament-1",
        False,
        None,
    )
