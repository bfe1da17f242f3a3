"""Moderation of conversations: hide them from teams or exclude them from scores and datasets."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from conversations.models import Conversation


def conversation_moderate(*, conversations: QuerySet[Conversation], state: str, reason: str, by: User) -> int:
    """Put every conversation of ``conversations`` in moderation ``state``, recording who, why and when.

    ``state`` is one of ``Conversation.Moderation``; ``reason`` must say why (blank is refused, so
    every moderation decision can be audited). Returns the number of conversations written.
    Standings and datasets computed earlier are not recomputed here.
    """
    if state not in Conversation.Moderation.values:
        raise ValueError(f"unknown moderation state {state!r}")
    reason = reason.strip()
    if not reason:
        raise ValueError("a moderation decision needs a reason")
    return conversations.update(
        moderation=state,
        moderation_reason=reason,
        moderated_by=by,
        moderated_at=timezone.now(),
    )
