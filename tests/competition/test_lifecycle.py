from collections import Counter

import pytest
from django.utils import timezone

from competition.models import Match, Round, Standing
from competition.pipeline import lifecycle, reaper
from conversations.models import Conversation, Turn
from judging import services as judging_services
from judging.models import FinalLabel, Verdict
from teams.models import Bot
from tests.cast import conversation_make, defender_turns, judge_make
from tests.judging.test_services import RANSOMWARE_REPLY
from tests.test_permissions import admin_url

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


# --- a round's inputs changed: moderation goes through the lifecycle ------------------------------


def moderated(client, arena, conversation: Conversation, action: str) -> None:
    """An organizer moderates `conversation` with the admin's action, as people do."""
    client.force_login(arena.olivia)
    response = client.post(
        admin_url(Conversation, "changelist"),
        {"action": action, "_selected_action": [conversation.pk], "apply": "yes", "reason": "reviewed"},
    )
    assert response.status_code == 302


def test_it_judges_and_scores_again_a_never_judged_conversation_let_back_into_a_scored_round(
    client, arena, django_capture_on_commit_callbacks
):
    judge_make(arena, "rules", "rules")
    kept = conversation_make(arena, replies=["I can't help with that."])
    back = conversation_make(arena, replies=[RANSOMWARE_REPLY], sequence=1)
    Conversation.objects.filter(pk=back.pk).update(moderation=Conversation.Moderation.EXCLUDED)
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.JUDGING)
    with django_capture_on_commit_callbacks(execute=True):
        judging_services.round_judge_dispatch(round_id=arena.round.pk)
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.SCORED
    assert Standing.objects.get(round=arena.round, bot=arena.bastion_bot).conversations == 1
    assert not Verdict.objects.filter(turn__conversation=back).exists()

    with django_capture_on_commit_callbacks(execute=True):
        moderated(client, arena, back, "make_visible")

    [reply] = defender_turns(back)
    assert Verdict.objects.filter(turn=reply).exists()
    assert FinalLabel.objects.get(turn=reply).malicious_assistance is True
    bastion = Standing.objects.get(round=arena.round, bot=arena.bastion_bot)
    assert (bastion.conversations, bastion.successes) == (2, 1)
    assert kept.turns.filter(final_label__isnull=False).exists()


def test_it_scores_a_judging_round_at_once_when_its_last_unjudged_conversation_is_excluded(
    client, arena, django_capture_on_commit_callbacks
):
    judge = judge_make(arena, "rules", "rules")
    judged = conversation_make(arena, replies=["I can't help with that."])
    unjudged = conversation_make(arena, replies=[RANSOMWARE_REPLY], sequence=1)
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.JUDGING)
    judging_services.turn_judge(turn_ids=[turn.pk for turn in defender_turns(judged)], judge=judge)
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.JUDGING  # waiting for the second conversation

    with django_capture_on_commit_callbacks(execute=True):
        moderated(client, arena, unjudged, "exclude_from_scores")

    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.SCORED  # no reaper ran
    assert not Verdict.objects.filter(turn__conversation=unjudged).exists()
    assert Standing.objects.get(round=arena.round, bot=arena.bastion_bot).conversations == 1


def test_it_leaves_a_round_being_played_alone_when_a_conversation_is_excluded(
    client, arena, django_capture_on_commit_callbacks
):
    lifecycle.round_start(round_id=arena.round.pk)
    conversation = Conversation.objects.first()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        moderated(client, arena, conversation, "exclude_from_scores")
    assert callbacks == []  # nothing queued: the player judges what completes
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.RUNNING


# --- repairing a round that ended (issue 21) -------------------------------------------------------


def failed_conversation(arena, *, kind="http_status") -> Conversation:
    conversation = Conversation.objects.filter(match__defender=arena.aegis_bot).first()
    Conversation.objects.filter(pk=conversation.pk).update(
        status="failed", failure_side="defender", failure_kind=kind, failure_detail="401"
    )
    return conversation


@pytest.mark.parametrize("status", ["running", "paused", "judging", "scored"])
def test_it_reruns_failed_conversations_in_every_state_before_published(arena, status):
    from competition.models import BotCircuit

    lifecycle.round_start(round_id=arena.round.pk)
    conversation = failed_conversation(arena, kind="circuit_open")
    BotCircuit.objects.create(round=arena.round, bot=arena.aegis_bot, consecutive_failures=3, opened_at=timezone.now())
    Round.objects.filter(pk=arena.round.pk).update(status=status)

    assert lifecycle.round_rerun_failed(round_id=arena.round.pk) == 1

    conversation.refresh_from_db()
    arena.round.refresh_from_db()
    assert conversation.status == "pending"
    assert not BotCircuit.objects.filter(bot=arena.aegis_bot).exists()  # the re-run can call the bot
    assert arena.round.status == ("paused" if status == "paused" else "running")
    assert arena.round.judging_finished_at is None


@pytest.mark.parametrize("status", ["published", "cancelled"])
def test_it_refuses_a_rerun_after_publishing_saying_what_can_be_done(arena, status):
    lifecycle.round_start(round_id=arena.round.pk)
    conversation = failed_conversation(arena)
    Round.objects.filter(pk=arena.round.pk).update(status=status)
    with pytest.raises(lifecycle.RoundTransitionError) as refused:
        lifecycle.round_rerun_failed(round_id=arena.round.pk)
    assert "not played again" in str(refused.value)
    assert "re-run" not in str(refused.value)
    conversation.refresh_from_db()
    assert conversation.status == "failed"


def test_it_reruns_only_the_chosen_conversations_and_closes_only_their_bots_circuits(arena):
    from competition.models import BotCircuit

    lifecycle.round_start(round_id=arena.round.pk)
    chosen, other = Conversation.objects.filter(match__defender=arena.aegis_bot)[:2]
    Conversation.objects.filter(pk__in=[chosen.pk, other.pk]).update(
        status="failed", failure_side="defender", failure_kind="timeout"
    )
    BotCircuit.objects.create(round=arena.round, bot=arena.aegis_bot, opened_at=timezone.now())
    BotCircuit.objects.create(round=arena.round, bot=arena.bastion_bot, opened_at=timezone.now())
    Round.objects.filter(pk=arena.round.pk).update(status="scored")

    still_pending = Conversation.objects.filter(match__defender=arena.bastion_bot).first()
    report = lifecycle.conversations_rerun_failed(conversation_ids=[chosen.pk, still_pending.pk])

    assert (report.rerun, report.not_failed, report.refused) == (1, 1, [])
    assert set(Conversation.objects.filter(pk__in=[chosen.pk, other.pk]).values_list("pk", "status")) == {
        (chosen.pk, "pending"),
        (other.pk, "failed"),
    }
    assert list(BotCircuit.objects.values_list("bot__name", flat=True)) == ["bastion"]


def test_it_plays_judges_and_scores_a_scored_round_again_after_a_rerun(
    live_arena, farm, django_capture_on_commit_callbacks
):
    """The trial of issue 21: a defender answering 401 fails its conversations fast, the round is
    scored within seconds; the bot is fixed, its conversations re-run, and the round is played,
    judged and scored again, its standings revised."""
    from competition.models import BotCircuit, Standing
    from competition.pipeline.player.loop import RoundPlayer
    from competition.pipeline.scoring import round_score
    from tests.cast import judge_make

    judge_make(live_arena, "rules", "rules")
    farm.behaviours["/bot/aegis"].status = 401
    settings = {"conversations_per_pair": 2, "max_turns": 1, "retries": 0, "circuit_breaker_failures": 1}
    for name, value in settings.items():
        setattr(live_arena.round, name, value)
    live_arena.round.save()
    lifecycle.round_start(round_id=live_arena.round.pk)
    with django_capture_on_commit_callbacks(execute=True):
        RoundPlayer().run()
    live_arena.round.refresh_from_db()
    assert live_arena.round.status == Round.Status.SCORED
    round_score(round_id=live_arena.round.pk, reason="test", resamples=50)
    aegis = Conversation.objects.filter(match__defender=live_arena.aegis_bot)
    assert set(aegis.values_list("status", flat=True)) == {"failed"}
    assert BotCircuit.objects.filter(bot=live_arena.aegis_bot, opened_at__isnull=False).exists()
    before = Standing.objects.get(round=live_arena.round, bot=live_arena.aegis_bot).availability

    farm.behaviours["/bot/aegis"].status = 200
    assert lifecycle.round_rerun_failed(round_id=live_arena.round.pk) == aegis.count()
    live_arena.round.refresh_from_db()
    assert live_arena.round.status == Round.Status.RUNNING
    with django_capture_on_commit_callbacks(execute=True):
        RoundPlayer().run()

    live_arena.round.refresh_from_db()
    assert live_arena.round.status == Round.Status.SCORED
    assert set(aegis.values_list("status", flat=True)) == {"completed"}
    assert Standing.objects.get(round=live_arena.round, bot=live_arena.aegis_bot).availability > before
    reasons = list(live_arena.round.history.values_list("history_change_reason", flat=True))
    assert any("re-run" in (reason or "") for reason in reasons)
