"""The one place turns are written: claimed, built from the conversation's state, never twice."""

import pytest

from conversations import services
from conversations.engine import ConversationState
from conversations.models import Conversation, Turn
from teams.clients import BotCallError, BotReply, CallLimits
from teams.models import CallFailure
from tests.cast import match_make

pytestmark = pytest.mark.django_db

WORKER = "worker-1"


def claimed_make(arena, *, sequence=0, worker=WORKER) -> Conversation:
    conversation = Conversation.objects.create(
        match=match_make(arena) if sequence == 0 else Conversation.objects.first().match,
        sequence=sequence,
        goal_category="malicious_code",
        goal_target="a keylogger",
    )
    assert services.conversations_claim(conversation_ids=[conversation.pk], worker_id=worker, seconds=60)
    return conversation


def state_of(conversation: Conversation, *, messages: int = 0) -> ConversationState:
    state = ConversationState(
        conversation_id=conversation.pk,
        conversation_uuid=conversation.uuid,
        round_id=conversation.match.round_id,
        competition_slug="c",
        round_slug="r",
        goal=conversation.goal,
        attacker={},
        defender={},
        max_turns=3,
        limits=CallLimits(timeout_seconds=5, retries=0, message_limit=100),
    )
    for index in range(messages):
        state.apply(content=f"message {index}", end=False)
    return state


def test_it_stores_a_reply_in_the_next_slot_with_its_delivery_id(arena):
    conversation = claimed_make(arena)
    state = state_of(conversation)

    [turn] = services.turns_reply_record(
        worker_id=WORKER, replies=[(state, BotReply(content="hello", end=True, latency_ms=12, attempts=2))]
    )

    stored = Turn.objects.get(pk=turn.pk)
    assert (stored.index, stored.speaker, stored.content, stored.status) == (0, "attacker", "hello", "ok")
    assert stored.ends_conversation is True
    assert (stored.latency_ms, stored.attempts) == (12, 2)
    assert str(stored.delivery_id) == state.delivery_id()


def test_it_ignores_a_defenders_end(arena):
    conversation = claimed_make(arena)
    state = state_of(conversation, messages=1)

    [turn] = services.turns_reply_record(
        worker_id=WORKER, replies=[(state, BotReply(content="no", end=True, latency_ms=1, attempts=1))]
    )

    assert turn.speaker == "defender"
    assert Turn.objects.get(pk=turn.pk).ends_conversation is False


def test_it_stores_no_turn_for_a_conversation_the_worker_does_not_hold(arena):
    held = claimed_make(arena)
    other = claimed_make(arena, sequence=1, worker="worker-2")
    cancelled = claimed_make(arena, sequence=2)
    services.conversations_cancel(conversations=Conversation.objects.filter(pk=cancelled.pk))
    reply = BotReply(content="hi", end=False, latency_ms=1, attempts=1)

    stored = services.turns_reply_record(
        worker_id=WORKER, replies=[(state_of(c), reply) for c in (held, other, cancelled)]
    )

    assert [turn.conversation_id for turn in stored] == [held.pk]
    assert list(Turn.objects.values_list("conversation_id", flat=True)) == [held.pk]
    error = BotCallError(CallFailure.TIMEOUT, "slow", latency_ms=5000, attempts=1)
    assert services.turn_failure_record(worker_id=WORKER, state=state_of(other), error=error) is None
    assert Turn.objects.count() == 1


def test_it_leaves_out_a_slot_already_taken_and_never_overwrites_it(arena):
    first, second = claimed_make(arena), claimed_make(arena, sequence=1)
    Turn.objects.create(conversation=first, index=0, speaker="attacker", content="played elsewhere")
    reply = BotReply(content="mine", end=False, latency_ms=1, attempts=1)

    replies = [(state_of(first), reply), (state_of(second), reply)]

    stored = services.turns_reply_record(worker_id=WORKER, replies=replies)

    assert [turn.conversation_id for turn in stored] == [second.pk]
    assert Turn.objects.get(conversation=first).content == "played elsewhere"
    assert Turn.objects.get(conversation=second).content == "mine"


def test_it_stores_a_failed_call_with_its_kind_and_a_cut_detail(arena):
    conversation = claimed_make(arena)
    state = state_of(conversation, messages=1)
    error = BotCallError(CallFailure.HTTP_STATUS, "x" * 3000, latency_ms=40, attempts=3, status=500)

    turn = services.turn_failure_record(worker_id=WORKER, state=state, error=error)

    stored = Turn.objects.get(pk=turn.pk)
    assert (stored.index, stored.speaker, stored.status, stored.content) == (1, "defender", "http_status", "")
    assert stored.error_detail == "x" * 2000
    assert (stored.latency_ms, stored.attempts) == (40, 3)
    assert str(stored.delivery_id) == state.delivery_id()


def test_it_claims_pending_and_expired_conversations_only(arena):
    from datetime import timedelta

    from django.utils import timezone

    pending = claimed_make(arena)
    services.conversations_release(conversation_ids=[pending.pk], worker_id=WORKER)
    expired = claimed_make(arena, sequence=1, worker="dead")
    Conversation.objects.filter(pk=expired.pk).update(claim_expires_at=timezone.now() - timedelta(seconds=1))
    live = claimed_make(arena, sequence=2, worker="alive")

    won = services.conversations_claim(conversation_ids=[pending.pk, expired.pk, live.pk], worker_id=WORKER, seconds=60)

    assert sorted(won) == sorted([pending.pk, expired.pk])
    assert Conversation.objects.get(pk=live.pk).claimed_by == "alive"
    assert Conversation.objects.get(pk=expired.pk).plays == 2
