"""Writes on conversations and turns: claims, turns as they arrive, endings, re-runs.

Claims make playing idempotent: a conversation is played only by the worker whose id is in
`claimed_by`, every ending is a conditional update on that claim, and the unique (conversation,
index) constraint makes a second writer of the same turn fail instead of duplicating it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from conversations.models import Conversation, Turn

Status = Conversation.Status


def conversations_claim(*, conversation_ids: Iterable[int], worker_id: str, seconds: int) -> list[int]:
    """Claim the given conversations that are pending or whose claim expired; return the ids won."""
    now = timezone.now()
    ids = list(conversation_ids)
    if not ids:
        return []
    Conversation.objects.filter(pk__in=ids).filter(
        Q(status=Status.PENDING) | Q(status=Status.RUNNING, claim_expires_at__lt=now)
    ).update(
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


def turns_record(*, turns: list[Turn]) -> list[Turn]:
    """Store turns the moment their answers (or failures) are known, in one transaction.

    Returns the turns stored. A turn whose (conversation, index) slot is already taken is left out:
    another worker took that conversation over, and the caller must stop playing it. Never
    overwrites a stored turn.
    """
    for turn in turns:
        turn.error_detail = turn.error_detail[:2000]
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


def turn_record(*, conversation_id: int, index: int, speaker: str, **fields) -> Turn | None:
    """Store one turn (see turns_record); None when its slot is already taken."""
    stored = turns_record(turns=[Turn(conversation_id=conversation_id, index=index, speaker=speaker, **fields)])
    return stored[0] if stored else None


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
    return conversations.filter(status__in=[Status.PENDING, Status.RUNNING]).update(
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
