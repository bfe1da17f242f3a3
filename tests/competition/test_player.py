"""The round player over real HTTP against the local bot farm."""

import hashlib
import hmac
import threading
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from competition.models import BotCircuit, PlayerLease, Round
from competition.pipeline import lifecycle, reaper
from competition.pipeline.player import RoundPlayer
from conversations.models import Conversation, Turn

pytestmark = pytest.mark.django_db


def start(arena, **round_settings) -> Round:
    for name, value in round_settings.items():
        setattr(arena.round, name, value)
    arena.round.save()
    return lifecycle.round_start(round_id=arena.round.pk)


def start_unplayed(arena, **round_settings) -> None:
    """Start the round without playing it: tasks run inline in tests, and a live lease held
    elsewhere keeps the start's player from playing here; then the lease is let go for `play`."""
    lease = PlayerLease.objects.create(
        name="rounds", holder="elsewhere", expires_at=timezone.now() + timedelta(minutes=1)
    )
    start(arena, **round_settings)
    lease.delete()


def play(**kwargs):
    return RoundPlayer(**kwargs).run()


def test_it_plays_every_conversation_to_the_end_and_moves_the_round_to_judging(live_arena, farm):
    start(live_arena, conversations_per_pair=2, max_turns=3)
    report = play()
    assert report.acquired
    assert report.turns == 8 * 6
    assert set(Conversation.objects.values_list("status", flat=True)) == {"completed"}
    for conversation in Conversation.objects.all():
        turns = list(conversation.turns.order_by("index"))
        assert [t.index for t in turns] == list(range(6))
        assert [t.speaker for t in turns] == ["attacker", "defender"] * 3
        assert all(t.ok and t.latency_ms is not None for t in turns)
    live_arena.round.refresh_from_db()
    assert live_arena.round.status == Round.Status.JUDGING
    assert live_arena.round.playing_finished_at is not None


def test_it_sends_the_protocol_body_with_history_and_goal_only_to_attackers(live_arena, farm):
    start(live_arena, conversations_per_pair=1, max_turns=2)
    play()
    attacker_calls = farm.requests["/bot/rogue"]
    defender_calls = farm.requests["/bot/bastion"]
    second_attack = next(r for r in attacker_calls if r["turn_index"] == 2)
    assert second_attack["protocol"] == "arena.v1" and second_attack["type"] == "turn"
    assert second_attack["competition"] == "trusted-ai-2026" and second_attack["round"] == "tournament-1"
    assert second_attack["role"] == "attacker" and second_attack["max_turns"] == 2
    assert [m["role"] for m in second_attack["messages"]] == ["user", "assistant"]
    assert set(second_attack["goal"]) == {"category", "target"}
    assert all("goal" not in r for r in defender_calls)
    assert {r["role"] for r in defender_calls} == {"defender"}
    # Signed with the bot's secret: a reference check written here, not the platform's code.
    live_arena.rogue_bot.refresh_from_db()
    headers, raw = farm.headers["/bot/rogue"][0], farm.bodies["/bot/rogue"][0]
    expected = hmac.new(
        live_arena.rogue_bot.secret.encode(), f"{headers['X-Arena-Timestamp']}.".encode() + raw, hashlib.sha256
    ).hexdigest()
    assert headers["X-Arena-Signature"] == f"v1={expected}"
    assert headers["Content-Type"].startswith("application/json")


def test_it_ends_early_when_the_attacker_says_end(live_arena, farm):
    farm.behaviours["/bot/rogue"].end_after = 2  # end with its second message
    start(live_arena, conversations_per_pair=1, max_turns=5)
    play()
    for conversation in Conversation.objects.filter(match__attacker=live_arena.rogue_bot):
        assert conversation.status == "completed"
        assert conversation.turns.count() == 4  # the defender still answers the last attack
        assert conversation.turns.get(index=2).ends_conversation
    for conversation in Conversation.objects.filter(match__attacker=live_arena.crimson_bot):
        assert conversation.turns.count() == 10


def test_it_keeps_each_bots_concurrency_limit(live_arena, farm):
    for bot in (live_arena.rogue_bot, live_arena.bastion_bot):
        bot.max_concurrency = 2
        bot.save()
    for path in ("/bot/rogue", "/bot/crimson", "/bot/bastion", "/bot/aegis"):
        farm.behaviours[path].latency = 0.03
    start(live_arena, conversations_per_pair=6, max_turns=2)
    play()
    assert farm.peak["/bot/rogue"] == 2
    assert farm.peak["/bot/bastion"] == 2
    assert farm.peak["/bot/crimson"] > 2  # limit 4: the player does use the room it has
    assert Turn.objects.count() == 4 * 6 * 4


def test_it_records_a_failed_call_on_the_turn_and_fails_the_conversation_with_its_side(live_arena, farm):
    farm.behaviours["/bot/aegis"].status = 404
    start(live_arena, conversations_per_pair=1, max_turns=2)
    play()
    failed = Conversation.objects.filter(match__defender=live_arena.aegis_bot)
    assert set(failed.values_list("status", "failure_side", "failure_kind")) == {("failed", "defender", "http_status")}
    for conversation in failed:
        turn = conversation.turns.get(index=1)
        assert turn.status == "http_status" and "404" in turn.error_detail
        assert conversation.turns.get(index=0).ok  # the attacker's message is kept
    assert set(
        Conversation.objects.filter(match__defender=live_arena.bastion_bot).values_list("status", flat=True)
    ) == {"completed"}
    live_arena.round.refresh_from_db()
    assert live_arena.round.status == Round.Status.JUDGING


def test_it_retries_5xx_with_the_same_delivery_id(live_arena, farm):
    farm.behaviours["/bot/bastion"].fail_first = 1
    start(live_arena, conversations_per_pair=1, max_turns=1, retries=2)
    play()
    assert set(Conversation.objects.values_list("status", flat=True)) == {"completed"}
    deliveries = [h["X-Arena-Delivery"] for h in farm.headers["/bot/bastion"]]
    assert len(deliveries) == 3  # two conversations, the first call retried once
    assert len(set(deliveries)) == 2


def test_it_keeps_the_error_of_each_failed_attempt_on_the_turn_that_finally_answered(live_arena, farm, client):
    farm.behaviours["/bot/bastion"].fail_first = 1
    farm.behaviours["/bot/bastion"].fail_status = 503
    start(live_arena, conversations_per_pair=1, max_turns=1, retries=2)
    play()
    assert set(Conversation.objects.values_list("status", flat=True)) == {"completed"}
    retried = Turn.objects.get(attempts=2)
    assert retried.ok and retried.speaker == "defender"
    [failure] = retried.attempt_errors
    assert (failure["kind"], failure["status"]) == ("http_status", 503)
    assert "503" in failure["detail"] and failure["latency_ms"] >= 0
    answered_at_once = Turn.objects.exclude(pk=retried.pk)
    assert {(turn.attempts, tuple(turn.attempt_errors)) for turn in answered_at_once} == {(1, ())}
    client.force_login(live_arena.olivia)
    page = client.get(
        reverse("admin:judging_judgedconversation_transcript", args=[retried.conversation_id])
    ).content.decode()
    shown = page.split(f'id="turn-{retried.index}"', 1)[1].split("</article>", 1)[0]
    assert "2 attempts" in shown and "1 earlier attempt failed" in shown
    assert "http_status" in shown and "HTTP 503" in shown


def test_it_opens_the_circuit_after_consecutive_failures_and_rerun_brings_conversations_back(live_arena, farm):
    farm.behaviours["/bot/aegis"].status = 500
    start(live_arena, conversations_per_pair=6, max_turns=1, retries=0, circuit_breaker_failures=3)
    play(max_calls_in_flight=1)
    circuit = BotCircuit.objects.get(bot=live_arena.aegis_bot)
    assert circuit.is_open and "3 calls in a row failed" in circuit.reason
    aegis = Conversation.objects.filter(match__defender=live_arena.aegis_bot)
    assert farm.calls("/bot/aegis") < aegis.count()  # later conversations failed without a call
    assert aegis.filter(failure_kind="circuit_open").exists()
    assert set(aegis.values_list("status", flat=True)) == {"failed"}
    assert set(aegis.filter(failure_kind="circuit_open").values_list("failure_detail", flat=True)) == {circuit.reason}

    farm.behaviours["/bot/aegis"].status = 200
    assert lifecycle.round_rerun_failed(round_id=live_arena.round.pk) == aegis.count()
    assert not BotCircuit.objects.exists()
    play()
    assert set(Conversation.objects.values_list("status", flat=True)) == {"completed"}
    assert all(c.failure_history for c in aegis)


def test_it_plays_a_conversation_once_when_the_task_runs_twice(live_arena, farm):
    start(live_arena, conversations_per_pair=1, max_turns=2)
    first, second = play(), play()
    assert first.turns == 16 and second.turns == 0
    assert sum(farm.calls(p) for p in ("/bot/rogue", "/bot/crimson", "/bot/bastion", "/bot/aegis")) == 16


def test_it_leaves_at_once_while_another_live_player_holds_the_lease(live_arena, farm):
    start(live_arena)
    PlayerLease.objects.create(name="rounds", holder="other", expires_at=timezone.now() + timedelta(seconds=30))
    report = play()
    assert not report.acquired
    assert not Turn.objects.exists()


def test_it_resumes_a_dead_workers_conversation_from_its_last_stored_turn(live_arena, farm):
    start(live_arena, conversations_per_pair=1, max_turns=3)
    conversation = Conversation.objects.get(
        match__attacker=live_arena.rogue_bot, match__defender=live_arena.bastion_bot
    )
    Turn.objects.create(conversation=conversation, index=0, speaker="attacker", content="stored before the crash")
    Turn.objects.create(conversation=conversation, index=1, speaker="defender", content="also stored")
    Conversation.objects.filter(pk=conversation.pk).update(
        status="running", claimed_by="dead-worker", claim_expires_at=timezone.now() - timedelta(seconds=1)
    )
    PlayerLease.objects.create(name="rounds", holder="dead-worker", expires_at=timezone.now() - timedelta(seconds=1))
    report = reaper.rounds_reap()
    assert report.claims_expired == 1
    play()
    conversation.refresh_from_db()
    assert conversation.status == "completed" and conversation.plays == 1
    turns = list(conversation.turns.order_by("index").values_list("index", "content"))
    assert [i for i, _ in turns] == list(range(6))
    assert turns[0][1] == "stored before the crash"
    resumed = [r for r in farm.requests["/bot/rogue"] if r["conversation_id"] == str(conversation.uuid)]
    assert [r["turn_index"] for r in resumed] == [2, 4]  # no slot asked twice
    assert resumed[0]["messages"][0]["content"] == "stored before the crash"


def test_it_does_not_call_bots_of_a_paused_round_and_continues_after_resume(live_arena, farm):
    start(live_arena, conversations_per_pair=1, max_turns=1)
    lifecycle.round_pause(round_id=live_arena.round.pk)
    assert play().turns == 0
    lifecycle.round_resume(round_id=live_arena.round.pk)
    assert play().turns == 8


def test_it_hands_completed_conversations_to_the_judges_while_playing(live_arena, farm):
    from judging.models import FinalLabel, Judge, Verdict

    Judge.objects.create(competition=live_arena.competition, name="Rules", slug="rules", kind=Judge.Kind.RULES)
    farm.behaviours["/bot/bastion"].content = "I can't help with that request."
    start(live_arena, conversations_per_pair=1, max_turns=2)
    play()
    replies = Turn.objects.filter(speaker="defender", status="ok")
    assert replies.count() == 8
    assert Verdict.objects.filter(turn__in=replies).count() == 8
    assert FinalLabel.objects.filter(turn__in=replies).count() == 8
    refused = FinalLabel.objects.filter(turn__conversation__match__defender=live_arena.bastion_bot)
    assert set(refused.values_list("refusal", flat=True)) == {True}


def test_it_stops_calling_within_a_moment_of_a_pause_and_resumes_without_a_repeated_slot(
    transactional_db, farm, settings
):
    from django.db import connection

    from tests import cast

    settings.ARENA_ALLOW_PRIVATE_URLS = True
    arena = cast.build(bot_url=f"{farm.base_url}/bot")
    paths = ("/bot/rogue", "/bot/crimson", "/bot/bastion", "/bot/aegis")
    for path in paths:
        # A conversation's 10 calls take 2 s end to end, well past the pause (about 0.4 s in, felt
        # within 0.5 s), so no conversation can finish before the pause is felt.
        farm.behaviours[path].latency = 0.2

    def pause_once(calls: int) -> None:
        if calls == 5:  # the organizer pauses while the round plays (from another thread, as the admin would)
            lifecycle.round_pause(round_id=arena.round.pk)
            connection.close()

    farm.behaviours["/bot/rogue"].on_call = pause_once
    arena.round.conversations_per_pair = 4
    arena.round.max_turns = 5
    arena.round.save()
    PlayerLease.objects.create(name="rounds", holder="elsewhere", expires_at=timezone.now() + timedelta(minutes=1))
    lifecycle.round_start(round_id=arena.round.pk)  # tasks run inline: the held lease keeps it from playing here
    PlayerLease.objects.all().delete()

    report = play()
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.PAUSED
    calls_at_pause = sum(farm.calls(p) for p in paths)
    assert report.turns < 160  # stopped well before the end
    assert not Conversation.objects.filter(status="running").exists()  # handed back, resumable
    assert Conversation.objects.filter(status="pending").exists()

    lifecycle.round_resume(round_id=arena.round.pk)  # enqueues a player, which runs inline on commit
    assert set(Conversation.objects.values_list("status", flat=True)) == {"completed"}
    asked = [(r["conversation_id"], r["turn_index"]) for p in paths for r in farm.requests[p]]
    assert len(asked) == len(set(asked)) == 160  # every slot asked exactly once, before and after the pause
    assert calls_at_pause < 160


def test_it_signs_with_a_rotated_secret_within_seconds_while_playing(transactional_db, farm, settings):
    from django.db import connection

    from teams.models import Bot
    from teams.secrets import bot_secret_rotate
    from tests import cast

    settings.ARENA_ALLOW_PRIVATE_URLS = True
    arena = cast.build(bot_url=f"{farm.base_url}/bot")
    arena.rogue_bot.max_concurrency = 1
    arena.rogue_bot.save()
    farm.behaviours["/bot/rogue"].latency = 0.15  # 30 calls one at a time: 4.5 s, the last ones well after a tick
    rotated = {}

    def rotate_once(calls: int) -> None:
        if calls == 2:  # an organizer rotates the secret while the round plays
            rotated["secret"] = bot_secret_rotate(bot=Bot.objects.get(pk=arena.rogue_bot.pk))
            connection.close()

    farm.behaviours["/bot/rogue"].on_call = rotate_once
    arena.round.conversations_per_pair = 3
    arena.round.save()
    PlayerLease.objects.create(name="rounds", holder="elsewhere", expires_at=timezone.now() + timedelta(minutes=1))
    lifecycle.round_start(round_id=arena.round.pk)
    PlayerLease.objects.all().delete()
    play()

    def signed_with_new(headers, body) -> bool:
        digest = hmac.new(
            rotated["secret"].encode(), f"{headers['X-Arena-Timestamp']}.".encode() + body, hashlib.sha256
        ).hexdigest()
        return f"v1={digest}" in headers["X-Arena-Signature"].split(",")

    calls = list(zip(farm.headers["/bot/rogue"], farm.bodies["/bot/rogue"], strict=True))
    assert len(calls) == 30  # 4.5 s of calls at concurrency 1: the player refreshes secrets every 2 s
    assert all(signed_with_new(headers, body) for headers, body in calls[-5:])
    assert not signed_with_new(*calls[0])


def test_it_closes_its_circuit_when_an_organizer_reruns_while_it_plays(transactional_db, farm, settings):
    from django.db import connection

    from tests import cast

    settings.ARENA_ALLOW_PRIVATE_URLS = True
    arena = cast.build(bot_url=f"{farm.base_url}/bot")
    farm.behaviours["/bot/aegis"].status = 500
    farm.behaviours["/bot/bastion"].latency = 0.05
    rerun = {}
    # The farm serves calls on several threads at once (two bastion calls may be in flight): one
    # organizer, one re-run, or a second one finds nothing failed left and overwrites the count.
    organizer = threading.Lock()

    def fix_and_rerun(calls: int) -> None:
        # The organizer sees the open circuit, fixes the bot and re-runs, while the round plays on.
        with organizer:
            if not rerun and BotCircuit.objects.filter(bot=arena.aegis_bot, opened_at__isnull=False).exists():
                farm.behaviours["/bot/aegis"].status = 200
                rerun["calls_before"] = farm.calls("/bot/aegis")
                rerun["count"] = lifecycle.round_rerun_failed(round_id=arena.round.pk)
            connection.close()

    farm.behaviours["/bot/bastion"].on_call = fix_and_rerun
    start_unplayed(arena, conversations_per_pair=8, max_turns=1, retries=0, circuit_breaker_failures=2)
    play(max_calls_in_flight=2)

    assert rerun["count"] > 0
    aegis = Conversation.objects.filter(match__defender=arena.aegis_bot)
    assert farm.calls("/bot/aegis") >= rerun["calls_before"] + rerun["count"] - 2  # the re-run ones were played
    assert not aegis.filter(failure_kind="circuit_open").exists()
    assert aegis.filter(status="completed").count() >= aegis.count() - 2  # at most the calls in flight at the fix


def test_it_calls_a_bot_for_conversations_it_held_all_along_once_a_rerun_closed_its_circuit(
    transactional_db, farm, settings
):
    from django.db import connection

    from tests import cast

    settings.ARENA_ALLOW_PRIVATE_URLS = True
    arena = cast.build(bot_url=f"{farm.base_url}/bot")
    arena.aegis_bot.max_concurrency = 1  # no call of aegis in flight when its circuit opens
    arena.aegis_bot.save()
    farm.behaviours["/bot/aegis"].status = 500
    farm.behaviours["/bot/crimson"].latency = 0.2
    rerun = {}
    organizer = threading.Lock()

    def rerun_once_the_circuit_opened(calls: int) -> None:
        # Crimson answers only after aegis's circuit opened and the organizer re-ran: its
        # conversations against aegis, held by the player all along, reach aegis after the re-run
        # and before the player's next reload of the circuits.
        deadline = time.monotonic() + 10
        while not rerun and not BotCircuit.objects.filter(bot=arena.aegis_bot, opened_at__isnull=False).exists():
            assert time.monotonic() < deadline, "aegis's circuit never opened"
            time.sleep(0.01)
        with organizer:
            if not rerun:
                farm.behaviours["/bot/aegis"].status = 200
                rerun["count"] = lifecycle.round_rerun_failed(round_id=arena.round.pk)
        connection.close()

    farm.behaviours["/bot/crimson"].on_call = rerun_once_the_circuit_opened
    start_unplayed(arena, conversations_per_pair=8, max_turns=1, retries=0, circuit_breaker_failures=2)
    play(max_calls_in_flight=8)

    assert rerun["count"] >= 2  # the two failures that opened the circuit, at least
    aegis = Conversation.objects.filter(match__defender=arena.aegis_bot)
    assert set(aegis.values_list("status", flat=True)) == {"completed"}
    assert farm.calls("/bot/aegis") == 2 + aegis.count()  # the two failures, then each conversation once
