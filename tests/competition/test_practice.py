"""Practice matches on demand (issue 25): started by an owner, played and judged without organizers,
read by its team alone, capped per day, refused with a reason, played after rounds' calls."""

from __future__ import annotations

import pytest
from django.urls import reverse

from competition.models import PracticeMatch, Round, Standing
from competition.pipeline import lifecycle
from competition.pipeline.player import RoundPlayer
from competition.practice import services
from competition.practice.services import PracticeRefused
from conversations.models import Conversation, Turn
from conversations.selectors import claim_candidates
from judging.models import FinalLabel, Judge
from teams.models import BotHealthCheck

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice(live_arena):
    """Practice open in the cast's competition: bastion is the reference defender, 2 conversations of
    2 exchanges per match, 4 conversations a day; a rules judge labels."""
    arena = live_arena
    services.practice_policy_set(
        competition_id=arena.competition.pk, daily_conversations=4, conversations_per_match=2, max_turns=2
    )
    services.practice_opponents_set(competition_id=arena.competition.pk, bot_ids=[arena.bastion_bot.pk])
    Judge.objects.create(competition=arena.competition, name="Rules", slug="rules", kind=Judge.Kind.RULES)
    return arena


def start(arena, user=None, bot=None, opponent=None) -> PracticeMatch:
    return services.practice_match_start(
        user=user or arena.alice,
        competition_id=arena.competition.pk,
        bot_id=(bot or arena.rogue_bot).pk,
        opponent_id=(opponent or arena.bastion_bot).pk,
    )


def test_it_plays_and_judges_a_practice_match_and_its_team_reads_the_transcript(
    practice, farm, client, django_capture_on_commit_callbacks
):
    farm.behaviours["/bot/bastion"].content = "I can't help with that request."
    match = start(practice)
    with django_capture_on_commit_callbacks(execute=True):
        RoundPlayer().run()
    match.round.refresh_from_db()
    assert match.round.kind == Round.Kind.PRACTICE_MATCH
    assert match.round.status == Round.Status.SCORED
    conversations = Conversation.objects.filter(match__round=match.round)
    assert conversations.count() == 2
    assert set(conversations.values_list("status", flat=True)) == {"completed"}
    assert Turn.objects.filter(conversation__in=conversations).count() == 2 * 4
    replies = Turn.objects.filter(conversation__in=conversations, speaker="defender")
    assert FinalLabel.objects.filter(turn__in=replies).count() == 4
    assert not Standing.objects.filter(round=match.round).exists()
    client.force_login(practice.alice)
    page = client.get(reverse("team-conversation", args=[conversations.first().uuid]))
    assert page.status_code == 200
    assert "help with that request" in page.content.decode()


def test_it_refuses_a_request_past_the_daily_cap_with_the_reason(practice):
    start(practice)
    start(practice)
    with pytest.raises(PracticeRefused, match="Daily practice cap reached: 4 of 4"):
        start(practice)
    assert PracticeMatch.objects.count() == 2


def test_it_refuses_when_paused_and_starts_again_when_resumed(practice):
    services.practice_pause(competition_id=practice.competition.pk, paused=True)
    with pytest.raises(PracticeRefused, match="paused"):
        start(practice)
    services.practice_pause(competition_id=practice.competition.pk, paused=False)
    assert start(practice).round.status == Round.Status.RUNNING


def test_it_refuses_an_unhealthy_bot_and_accepts_a_healthy_one(practice):
    BotHealthCheck.objects.create(bot=practice.rogue_bot, ok=False, error_kind="timeout")
    with pytest.raises(PracticeRefused, match="failed its last health check"):
        start(practice)
    BotHealthCheck.objects.create(bot=practice.rogue_bot, ok=True)
    assert start(practice)


def test_it_refuses_a_member_who_is_not_an_owner_and_accepts_the_owner(practice):
    with pytest.raises(PracticeRefused, match="owner"):
        start(practice, user=practice.mallory)
    with pytest.raises(PracticeRefused, match="owner"):
        start(practice, user=practice.carl)
    assert start(practice, user=practice.alice)


def test_it_refuses_an_opponent_not_open_for_practice_until_its_team_opts_in(practice):
    with pytest.raises(PracticeRefused, match="not open for practice"):
        start(practice, opponent=practice.aegis_bot)
    services.practice_opt_in_set(
        user=practice.dave, competition_id=practice.competition.pk, bot_id=practice.aegis_bot.pk, opted_in=True
    )
    assert start(practice, opponent=practice.aegis_bot)


def test_it_never_publishes_a_practice_match(practice):
    match = start(practice)
    with pytest.raises(lifecycle.RoundTransitionError, match="never published"):
        lifecycle.round_publish(round_id=match.round.pk)


def test_it_offers_a_rounds_conversations_before_a_practice_matchs(practice, farm):
    from datetime import timedelta

    from django.utils import timezone

    from competition.models import PlayerLease

    # A live lease elsewhere keeps the inline tasks from playing, so both wait to be claimed.
    PlayerLease.objects.create(name="rounds", holder="elsewhere", expires_at=timezone.now() + timedelta(minutes=1))
    match = start(practice)
    lifecycle.round_start(round_id=practice.round.pk)
    candidates = claim_candidates(exclude_ids=[], limit=100)
    kinds = list(
        Conversation.objects.filter(pk__in=[row[0] for row in candidates]).values_list("pk", "match__round__kind")
    )
    by_pk = dict(kinds)
    order = [by_pk[row[0]] for row in candidates]
    assert order == sorted(order, key=lambda kind: kind == Round.Kind.PRACTICE_MATCH)
    assert order[-1] == Round.Kind.PRACTICE_MATCH and order[0] == Round.Kind.ROUND
    assert match.round.pk in Conversation.objects.filter(pk=candidates[-1][0]).values_list("match__round", flat=True)


def test_it_keeps_the_bots_concurrency_limit_with_a_round_beside(practice, farm):
    practice.bastion_bot.max_concurrency = 2
    practice.bastion_bot.save()
    for path in ("/bot/rogue", "/bot/crimson", "/bot/bastion", "/bot/aegis"):
        farm.behaviours[path].latency = 0.03
    from datetime import timedelta

    from django.utils import timezone

    from competition.models import PlayerLease

    lease = PlayerLease.objects.create(
        name="rounds", holder="elsewhere", expires_at=timezone.now() + timedelta(minutes=1)
    )
    practice.round.conversations_per_pair = 3
    practice.round.save()
    lifecycle.round_start(round_id=practice.round.pk)
    start(practice)
    start(practice, user=practice.carl, bot=practice.crimson_bot)
    lease.delete()
    RoundPlayer().run()
    assert farm.peak["/bot/bastion"] == 2
    assert not Conversation.objects.unfinished().exists()


def test_it_claims_a_practice_conversation_only_for_bots_no_rounds_conversation_waits_for():
    from collections import Counter

    from competition.pipeline.player.claiming import candidates_choose

    # (id, attacker, defender, limits, practice): bot 10 has a round's conversation waiting, bot 11 not.
    candidates = [(1, 10, 20, 4, 4, 0), (2, 10, 21, 4, 4, 1), (3, 11, 22, 4, 4, 1)]
    chosen = candidates_choose(candidates=candidates, claimed=Counter(), room=10, slots=lambda bot, limit: limit)
    assert chosen == [1, 3]
    # Without the round's conversation, the practice one of bot 10 is claimed.
    chosen = candidates_choose(candidates=candidates[1:], claimed=Counter(), room=10, slots=lambda bot, limit: limit)
    assert chosen == [2, 3]
