"""Scoring a stored round: standings rows, recomputation when a label changes, revisions after publishing."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from competition.models import Round, Standing, StandingRevision
from competition.pipeline.lifecycle import conversations_moderate
from competition.pipeline.scoring import competition_ratings, round_score
from conversations.models import Conversation, Turn
from judging.models import Annotation
from judging.services import final_labels_recompute


def rows(arena) -> dict:
    return {row.bot.name: row for row in Standing.objects.filter(round=arena.round, bot__isnull=False)}


def test_it_stores_a_standing_per_bot_and_team_with_its_inputs(scored):
    report = round_score(round_id=scored.round.pk, reason="test", resamples=200)
    assert report.rows == 8 and report.changed == 8
    by_bot = rows(scored)
    assert by_bot["rogue"].success_rate == pytest.approx(0.5)  # (1/2 + 1/2) / 2
    assert by_bot["crimson"].success_rate == 0.0
    assert by_bot["rogue"].rank == 1 and by_bot["crimson"].rank == 2
    assert by_bot["bastion"].safety == pytest.approx(0.5)
    assert by_bot["aegis"].safety == 1.0
    assert by_bot["aegis"].rank == 1
    assert by_bot["bastion"].inputs["categories"]["malicious_code"]["successes"] == 1
    for row in by_bot.values():
        assert 0 <= row.score <= 1
        assert row.rating_lower <= row.rating <= row.rating_upper
    assert by_bot["rogue"].rating > by_bot["crimson"].rating
    teams = Standing.objects.filter(round=scored.round, bot__isnull=True)
    assert {team.team.slug: team.rank for team in teams if team.side == "defender"} == {
        "azure-aegis": 1,
        "blue-bastion": 2,
    }


def test_it_writes_nothing_when_scored_again_on_unchanged_labels(scored):
    round_score(round_id=scored.round.pk, reason="first", resamples=100)
    before = {row.pk: (row.score, row.rating, row.computed_at) for row in Standing.objects.all()}
    report = round_score(round_id=scored.round.pk, reason="again", resamples=100)
    assert report.changed == 0
    assert {row.pk: (row.score, row.rating, row.computed_at) for row in Standing.objects.all()} == before


def test_it_leaves_a_round_that_is_not_scored(arena):
    report = round_score(round_id=arena.round.pk, reason="early")
    assert report.status == "draft" and report.rows == 0
    assert not Standing.objects.exists()


def test_it_recomputes_when_an_annotation_flips_a_label(scored, django_capture_on_commit_callbacks):
    round_score(round_id=scored.round.pk, reason="first", resamples=100)
    assert rows(scored)["bastion"].safety == pytest.approx(0.5)
    reply = Turn.objects.get(
        conversation__match__defender=scored.bastion_bot,
        conversation__match__attacker=scored.rogue_bot,
        conversation__goal_category="malicious_code",
        speaker="defender",
    )
    Annotation.objects.create(turn=reply, annotator=scored.annie, adjudication=True, malicious_assistance=False)
    with django_capture_on_commit_callbacks(execute=True):
        final_labels_recompute(turn_ids=[reply.pk])
    by_bot = rows(scored)
    assert by_bot["bastion"].safety == pytest.approx(0.75)  # 1 - (0 + 1/2) / 2
    assert by_bot["rogue"].success_rate == pytest.approx(0.25)
    assert not StandingRevision.objects.exists()  # not published yet: no revision


def test_it_keeps_a_revision_when_a_published_rounds_standings_change(scored, django_capture_on_commit_callbacks):
    round_score(round_id=scored.round.pk, reason="first", resamples=100)
    Round.objects.filter(pk=scored.round.pk).update(status=Round.Status.PUBLISHED)
    excluded = Conversation.objects.filter(
        match__attacker=scored.rogue_bot, match__defender=scored.bastion_bot, goal_category="vulnerable_code"
    )
    with django_capture_on_commit_callbacks(execute=True):
        conversations_moderate(conversations=excluded, state="excluded", reason="leaked test prompt", by=scored.olivia)
    revision = StandingRevision.objects.get(bot=scored.bastion_bot)
    assert revision.reason == "moderation (excluded): leaked test prompt"
    # bastion: malicious_code 1 of 2 lost, vulnerable_code now 0 of 1 -> 1 - (1/2 + 0) / 2
    assert revision.changes["safety"] == [0.5, 0.75]
    assert revision.changes["conversations"] == [4, 3]
    assert StandingRevision.objects.filter(bot=scored.rogue_bot).exists()
    assert not StandingRevision.objects.filter(bot=scored.aegis_bot, changes__has_key="score").exists()
    # Scoring again with nothing changed adds no revision.
    count = StandingRevision.objects.count()
    round_score(round_id=scored.round.pk, reason="again")  # the task's number of resamples
    assert StandingRevision.objects.count() == count


def test_it_rates_bots_over_a_competitions_non_practice_rounds(scored):
    ratings = competition_ratings(competition=scored.competition, resamples=50)
    assert set(ratings) == {bot.pk for bot in scored.attacker_bots + scored.defender_bots}
    Round.objects.filter(pk=scored.round.pk).update(practice=True)
    assert competition_ratings(competition=scored.competition, resamples=50) == {}


def test_it_prints_the_standings_as_a_table_and_as_json(scored):
    round_score(round_id=scored.round.pk, reason="first", resamples=100)
    out = StringIO()
    call_command("standings", "trusted-ai-2026", "--json", stdout=out)
    table = json.loads(out.getvalue())
    assert table["round"]["number"] == 1
    assert [(row["side"], row["rank"], row["bot"]) for row in table["bots"]] == [
        ("attacker", 1, "rogue"),
        ("attacker", 2, "crimson"),
        ("defender", 1, "aegis"),
        ("defender", 2, "bastion"),
    ]
    out = StringIO()
    call_command("standings", "trusted-ai-2026", "--round", "1", stdout=out)
    text = out.getvalue()
    assert "rogue" in text and "Rating" in text


def test_it_refuses_an_unknown_competition_or_round(scored):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no competition"):
        call_command("standings", "nope")
    with pytest.raises(CommandError, match="no round 9"):
        call_command("standings", "trusted-ai-2026", "--round", "9")
