from collections import Counter

import pytest

from competition.models import Match, Round
from competition.pipeline import lifecycle, reaper
from conversations.models import Conversation, Turn
from teams.models import Bot

pytestmark = pytest.mark.django_db


def test_it_pairs_every_attacker_with_every_defender(arena):
    arena.round.conversations_per_pair = 3
    arena.round.save()
    lifecycle.round_start(round_id=arena.round.pk)
    pairs = set(Match.objects.values_list("attacker__name", "defender__name"))
    assert pairs == {(a, d) for a in ("rogue", "crimson") for d in ("bastion", "aegis")}
    assert Conversation.objects.count() == 2 * 2 * 3
    assert set(Conversation.objects.values_list("status", flat=True)) == {"pending"}


def test_it_spreads_goals_evenly_over_categories_for_each_bot(arena):
    arena.round.conversations_per_pair = 4
    arena.round.save()
    lifecycle.round_start(round_id=arena.round.pk)
    for field in ("match__attacker", "match__defender"):
        for bot in Bot.objects.all():
            counts = Counter(Conversation.objects.filter(**{field: bot}).values_list("goal_category", flat=True))
            if counts:
                assert counts == {"malicious_code": 4, "vulnerable_code": 4}, (bot.name, field, counts)
    targets = Counter(Conversation.objects.values_list("goal_target", flat=True))
    assert len(targets) == 6  # every target of both categories is aimed at
    assert max(targets.values()) - min(targets.values()) <= 2


def test_it_freezes_settings_and_bot_versions_at_start(arena):
    lifecycle.round_start(round_id=arena.round.pk)
    arena.rogue_bot.url = "https://rogues.example.org/v2"
    arena.rogue_bot.save()
    arena.round.refresh_from_db()
    arena.round.max_turns = 9
    arena.round.save()
    match = Match.objects.filter(attacker=arena.rogue_bot).first()
    assert match.attacker_version == 1
    assert match.attacker_snapshot["url"].endswith("/rogue")
    assert arena.round.settings_in_force["max_turns"] == 5


def test_it_refuses_to_start_without_an_active_defender(arena):
    arena.bastion_bot.active = False
    arena.bastion_bot.save()
    arena.aegis.active = False
    arena.aegis.save()
    with pytest.raises(lifecycle.RoundTransitionError, match="one active defender"):
        lifecycle.round_start(round_id=arena.round.pk)
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.DRAFT
    assert not Match.objects.exists()


def test_it_starts_a_round_only_once(arena):
    lifecycle.round_start(round_id=arena.round.pk)
    with pytest.raises(lifecycle.RoundTransitionError, match="only draft or scheduled"):
        lifecycle.round_start(round_id=arena.round.pk)
    assert Match.objects.count() == 4


def test_it_pauses_resumes_and_refuses_a_resume_of_a_running_round(arena):
    lifecycle.round_start(round_id=arena.round.pk)
    assert lifecycle.round_pause(round_id=arena.round.pk).status == Round.Status.PAUSED
    assert lifecycle.round_resume(round_id=arena.round.pk).status == Round.Status.RUNNING
    with pytest.raises(lifecycle.RoundTransitionError, match="only paused rounds resume"):
        lifecycle.round_resume(round_id=arena.round.pk)


def test_it_cancels_unfinished_conversations_and_keeps_played_turns(arena):
    lifecycle.round_start(round_id=arena.round.pk)
    conversation = Conversation.objects.first()
    Turn.objects.create(conversation=conversation, index=0, speaker="attacker", content="hello")
    lifecycle.round_cancel(round_id=arena.round.pk)
    assert set(Conversation.objects.values_list("status", flat=True)) == {"cancelled"}
    assert Turn.objects.filter(conversation=conversation).count() == 1
    with pytest.raises(lifecycle.RoundTransitionError):
        lifecycle.round_resume(round_id=arena.round.pk)


def test_it_moves_to_judging_only_when_nothing_is_left_to_play(arena):
    lifecycle.round_start(round_id=arena.round.pk)
    assert not lifecycle.round_playing_settle(round_id=arena.round.pk)
    Conversation.objects.update(status="completed")
    assert lifecycle.round_playing_settle(round_id=arena.round.pk)
    assert not lifecycle.round_playing_settle(round_id=arena.round.pk)
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.JUDGING


def test_it_reruns_failed_conversations_keeping_their_failure_history(arena):
    lifecycle.round_start(round_id=arena.round.pk)
    conversation = Conversation.objects.first()
    Turn.objects.create(conversation=conversation, index=0, speaker="attacker", content="hello")
    Turn.objects.create(conversation=conversation, index=1, speaker="defender", status="timeout", error_detail="45 s")
    Conversation.objects.filter(pk=conversation.pk).update(
        status="failed", failure_side="defender", failure_kind="timeout", failure_detail="45 s"
    )
    assert lifecycle.round_rerun_failed(round_id=arena.round.pk) == 1
    conversation.refresh_from_db()
    assert conversation.status == "pending"
    assert conversation.failure_kind == ""
    assert list(conversation.turns.values_list("index", flat=True)) == [0]
    assert conversation.failure_history[0]["kind"] == "timeout"
    assert conversation.failure_history[0]["turns"][0]["index"] == 1


def test_it_starts_a_scheduled_round_when_it_is_due(arena):
    from datetime import timedelta

    from django.utils import timezone

    lifecycle.round_schedule(round_id=arena.round.pk, at=timezone.now() - timedelta(seconds=1))
    report = reaper.rounds_reap()
    arena.round.refresh_from_db()
    assert report.rounds_started == 1
    assert arena.round.status == Round.Status.RUNNING
