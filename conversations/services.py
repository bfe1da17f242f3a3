"""Writes on conversations and turns: creating them, claims, turns as they arrive, endings, re-runs.

The one place a Turn row is built and stored: turns_reply_record and turn_failure_record.

Claims make playing idempotent: a conversation is played only by the worker whose id is in
`claimed_by`, every ending is a conditional update on that claim, and the unique (conversation,
index) constraint makes a second writer of the same turn fail instead of duplicating it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from conversations.engine import ConversationState
from conversations.models import Conversation, Turn
from teams.clients import BotCallError, BotReply

Status = Conversation.Status
_IDS_PER_QUERY = 10_000  # under SQLite's limit of bound parameters in one statement


def conversations_claim(*, conversation_ids: Iterable[int], worker_id: str, seconds: int) -> list[int]:
    """Claim the given conversations that are pending or whose claim expired; return the ids won."""
    now = timezone.now()
    ids = list(conversation_ids)
    if not ids:
        return []
    Conversation.objects.filter(pk__in=ids).claimable(now=now).update(
        status=Status.RUNNING,
        claimed_by=worker_id,
        claim_expires_at=now + timedelta(seconds=seconds),
        plays=F("plays") + 1,
        started_at=Coalesce("started_at", now),
    )
    return list(
        Conversation.objects.filter(pk__in=ids, status=Status.RUNNING, claimed_by=worker_id).values_list(
            "pk", flat=True
        )
    )


def conversations_claims_renew(*, conversation_ids: Iterable[int], worker_id: str, seconds: int) -> set[int]:
    """Extend this worker's claims; return the ids it still holds (a lost claim is not renewed)."""
    ids = list(conversation_ids)
    if not ids:
        return set()
    mine = Conversation.objects.filter(pk__in=ids, status=Status.RUNNING, claimed_by=worker_id)
    mine.update(claim_expires_at=timezone.now() + timedelta(seconds=seconds))
    return set(mine.values_list("pk", flat=True))


def conversations_release(*, conversation_ids: Iterable[int], worker_id: str) -> int:
    """Give claimed conversations back (pause, shutdown): they resume later from their last turn."""
    return Conversation.objects.filter(
        pk__in=list(conversation_ids), status=Status.RUNNING, claimed_by=worker_id
    ).update(status=Status.PENDING, claimed_by="", claim_expires_at=None)


def conversations_claims_expire(*, now=None) -> int:
    """Return conversations held by dead workers (claim expired) to pending; they resume where they stopped."""
    now = now or timezone.now()
    return Conversation.objects.filter(status=Status.RUNNING, claim_expires_at__lt=now).update(
        status=Status.PENDING, claimed_by="", claim_expires_at=None
    )


def turns_reply_record(*, worker_id: str, replies: Sequence[tuple[ConversationState, BotReply]]) -> list[Turn]:
    """Store the turns of bot replies, each in the next slot of its conversation's state, the moment
    they arrive, in one transaction.

    Returns the turns stored. Left out: a conversation this worker no longer holds (cancelled, or
    taken over after its claim expired) and a slot already taken (another worker played it); the
    caller must stop playing those. Never overwrites a stored turn. A defender's `end` is not
    stored (ConversationState.ends_conversation).
    """
    return _turns_store(
        worker_id=worker_id,
        turns=[
            _turn_next(
                state,
                content=reply.content,
                ends_conversation=state.ends_conversation(end=reply.end),
                latency_ms=reply.latency_ms,
                attempts=reply.attempts,
                attempt_errors=[failure.as_dict() for failure in reply.failed_attempts],
            )
            for state, reply in replies
        ],
    )


def turn_failure_record(*, worker_id: str, state: ConversationState, error: BotCallError) -> Turn | None:
    """Store a failed call in the next slot of the conversation: its kind, a detail cut to 2000
    characters, the time taken, the attempts and why the earlier ones failed. None when it was not
    stored (as turns_reply_record)."""
    stored = _turns_store(
        worker_id=worker_id,
        turns=[
            _turn_next(
                state,
                status=error.kind,
                error_detail=error.detail[:2000],
                latency_ms=error.latency_ms,
                attempts=error.attempts,
                attempt_errors=[failure.as_dict() for failure in error.failed_attempts],
            )
        ],
    )
    return stored[0] if stored else None


def _turn_next(state: ConversationState, **fields) -> Turn:
    """The turn of the conversation's next slot: its index, speaker and delivery id."""
    return Turn(
        conversation_id=state.conversation_id,
        index=state.next_index,
        speaker=state.next_side,
        delivery_id=state.delivery_id(),
        **fields,
    )


def _turns_store(*, worker_id: str, turns: list[Turn]) -> list[Turn]:
    # The claim is checked first, like every write to a claimed conversation; a cancel that lands
    # between the check and the insert leaves that one answer stored, as a cancel during a call did.
    held = _conversations_held(conversation_ids={turn.conversation_id for turn in turns}, worker_id=worker_id)
    turns = [turn for turn in turns if turn.conversation_id in held]
    if not turns:
        return []
    try:
        with transaction.atomic():
            return Turn.objects.bulk_create(turns)
    except IntegrityError:
        pass
    stored = []
    for turn in turns:  # a slot was taken: find which, one by one
        try:
            with transaction.atomic():
                turn.save(force_insert=True)
            stored.append(turn)
        except IntegrityError:
            if not Turn.objects.filter(conversation_id=turn.conversation_id, index=turn.index).exists():
                raise
    return stored


def _conversations_held(*, conversation_ids: set[int], worker_id: str) -> set[int]:
    """Which of the conversations this worker holds (running, claimed by it).

    Written in SQL because it runs before every batch of stored turns, the player's hottest path:
    building the same query through the ORM cost about 0.4 ms a batch (the model's default
    ordering alone joined Match), a quarter of the player's CPU per turn in bench/round_makespan.py;
    this costs about 0.06 ms.
    """
    meta = Conversation._meta
    pk, status, holder = (
        connection.ops.quote_name(column)
        for column in (meta.pk.column, meta.get_field("status").column, meta.get_field("claimed_by").column)
    )
    table = connection.ops.quote_name(meta.db_table)
    placeholders = ", ".join(["%s"] * len(conversation_ids))
    # Names come from the model and every value is bound, so nothing here is built from input.
    sql = f"SELECT {pk} FROM {table} WHERE {pk} IN ({placeholders}) AND {status} = %s AND {holder} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*conversation_ids, Status.RUNNING.value, worker_id])
        return {row[0] for row in cursor.fetchall()}


def conversations_complete(*, conversation_ids: Iterable[int], worker_id: str) -> int:
    """Mark conversations completed where this worker still holds them."""
    ids = list(conversation_ids)
    if not ids:
        return 0
    return Conversation.objects.filter(pk__in=ids, status=Status.RUNNING, claimed_by=worker_id).update(
        status=Status.COMPLETED, ended_at=timezone.now(), claimed_by="", claim_expires_at=None
    )


def _failure(*, side: str, kind: str, detail: str) -> dict:
    """The fields of a failed conversation: which side failed, how, why; ended and unclaimed."""
    return {
        "status": Status.FAILED,
        "failure_side": side,
        "failure_kind": kind,
        "failure_detail": detail[:2000],
        "ended_at": timezone.now(),
        "claimed_by": "",
        "claim_expires_at": None,
    }


def conversation_fail(*, conversation_id: int, worker_id: str, side: str, kind: str, detail: str) -> bool:
    """Mark a conversation failed, naming the side and kind of the failure, if this worker holds it."""
    return bool(
        Conversation.objects.filter(pk=conversation_id, status=Status.RUNNING, claimed_by=worker_id).update(
            **_failure(side=side, kind=kind, detail=detail)
        )
    )


def conversations_fail_pending(*, conversations, side: str, kind: str, detail: str) -> int:
    """Fail conversations that have not started playing (pending) at once, e.g. when a bot's circuit opens."""
    return conversations.filter(status=Status.PENDING).update(**_failure(side=side, kind=kind, detail=detail))


def conversations_cancel(*, conversations) -> int:
    """Cancel every conversation of the set that has not ended. A running one stops after its current call."""
    return conversations.filter(status__in=Conversation.UNFINISHED_STATUSES).update(
        status=Status.CANCELLED, ended_at=timezone.now(), claimed_by="", claim_expires_at=None
    )


def conversations_rerun(*, conversations) -> int:
    """Put failed conversations back to pending; they continue from their last good turn.

    The failed turn and the failure are kept in `failure_history`, so nothing is lost, and the slot
    is free to be played again (with the same delivery id).
    """
    count = 0
    for conversation in conversations.filter(status=Status.FAILED).select_for_update():
        failed_turns = list(conversation.turns.exclude(status=Turn.Status.OK).order_by("index"))
        conversation.failure_history = [
            *conversation.failure_history,
            {
                "side": conversation.failure_side,
                "kind": conversation.failure_kind,
                "detail": conversation.failure_detail,
                "ended_at": conversation.ended_at.isoformat() if conversation.ended_at else None,
                "turns": [
                    {
                        "index": turn.index,
                        "speaker": turn.speaker,
                        "status": turn.status,
                        "error_detail": turn.error_detail,
                        "latency_ms": turn.latency_ms,
                        "attempts": turn.attempts,
                        "attempt_errors": turn.attempt_errors,
                        "at": turn.created_at.isoformat(),
                    }
                    for turn in failed_turns
                ],
            },
        ]
        Turn.objects.filter(pk__in=[turn.pk for turn in failed_turns]).delete()
        conversation.status = Status.PENDING
        conversation.failure_side = conversation.failure_kind = conversation.failure_detail = ""
        conversation.ended_at = None
        conversation.claimed_by = ""
        conversation.claim_expires_at = None
        conversation.save(
            update_fields=[
                "failure_history",
                "status",
                "failure_side",
                "failure_kind",
                "failure_detail",
                "ended_at",
                "claimed_by",
                "claim_expires_at",
            ]
        )
        count += 1
    return count


@dataclass(frozen=True)
class ConversationNew:
    """A conversation to create: pending (to be played) when `messages` is empty, else completed with
    `messages` as its turns (a conversation imported from a dataset)."""

    match_id: int
    sequence: int
    goal_category: str
    goal_target: str
    messages: tuple[str, ...] = ()


def conversations_create(*, conversations: Sequence[ConversationNew]) -> list[Conversation]:
    """Create conversations in bulk (the round's start, its benign probes, a dataset import) and
    return them with their primary keys, in order.

    One with messages is completed at once: the messages become its turns, attacker first, then
    alternating (bot-protocol.md's indexes), every one arrived (status ok).
    """
    now = timezone.now()
    rows = [
        Conversation(
            match_id=new.match_id,
            sequence=new.sequence,
            goal_category=new.goal_category,
            goal_target=new.goal_target,
            **({"status": Status.COMPLETED, "started_at": now, "ended_at": now} if new.messages else {}),
        )
        for new in conversations
    ]
    created = Conversation.objects.bulk_create(rows, batch_size=500)
    Turn.objects.bulk_create(
        (
            Turn(
                conversation=conversation,
                index=index,
                speaker="attacker" if index % 2 == 0 else "defender",
                content=text,
            )
            for conversation, new in zip(created, conversations, strict=True)
            for index, text in enumerate(new.messages)
        ),
        batch_size=500,
    )
    return created


def conversation_labels_outcomes_store(*, outcomes: Mapping[int, str]) -> int:
    """Store each conversation's outcome by its final labels (conversation id -> a
    Conversation.LabelsOutcome value); the one writer of `labels_outcome`, called by judging when
    final labels change. Returns how many rows changed (one UPDATE per value, rows already right
    left alone)."""
    by_value: dict[str, list[int]] = {}
    for conversation_id, value in outcomes.items():
        if value not in Conversation.LabelsOutcome.values:
            raise ValueError(f"unknown labels outcome {value!r}")
        by_value.setdefault(value, []).append(conversation_id)
    changed = 0
    for value, ids in by_value.items():
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chosen = Conversation.objects.filter(pk__in=ids[start : start + _IDS_PER_QUERY])
            changed += chosen.exclude(labels_outcome=value).update(labels_outcome=value)
    return changed


def conversation_labels_counts_store(*, counts: Mapping[int, tuple[int, int]]) -> int:
    """Store each conversation's label counts (conversation id -> (labelled, confirmed): its defender
    replies that arrived with a final label, and those of them a person confirmed); the one writer of
    `labels_labelled` and `labels_confirmed`, called by judging with the outcome. Returns how many
    rows changed (one UPDATE per pair of values, rows already right left alone)."""
    by_value: dict[tuple[int, int], list[int]] = {}
    for conversation_id, (labelled, confirmed) in counts.items():
        if not 0 <= confirmed <= labelled:
            raise ValueError(f"label counts ({labelled}, {confirmed}) of conversation {conversation_id}")
        by_value.setdefault((labelled, confirmed), []).append(conversation_id)
    changed = 0
    for (labelled, confirmed), ids in by_value.items():
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chosen = Conversation.objects.filter(pk__in=ids[start : start + _IDS_PER_QUERY])
            changed += chosen.exclude(labels_labelled=labelled, labels_confirmed=confirmed).update(
                labels_labelled=labelled, labels_confirmed=confirmed
            )
    return changed
