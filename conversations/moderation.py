"""Moderation of conversations: hide them from teams or exclude them from scores and datasets.

The write alone: what an exclusion changes for a round (judging, settling, scoring again) is the
round lifecycle's, so people moderate through competition.pipeline.lifecycle.conversations_moderate,
which calls this and then tells the rounds."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from conversations.models import Conversation


def conversation_moderate(*, conversations: QuerySet[Conversation], state: str, reason: str, by: User) -> int:
    """Put every conversation of ``conversations`` in moderation ``state``, recording who, why and when.

    ``state`` is one of ``Conversation.Moderation``; ``reason`` must say why (blank is refused, so
    every moderation decision can be audited). Returns the number of conversations written.
    Their rounds are not told: that is competition.pipeline.lifecycle.conversations_moderate's.
    """
    if state not in Conversation.Moderation.values:
        raise ValueError(f"unknown moderation state {state!r}")
    reason = reason.strip()
    if not reason:
        raise ValueError("a moderation decision needs a reason")
    now = timezone.now()
    fields = ["moderation", "moderation_reason", "moderated_by", "moderated_at"]
    with transaction.atomic():
        # Row by row through the history library: every decision keeps who, when, before and after.
        # Re-read by id: the admin's queryset carries a turn count (GROUP BY), which PostgreSQL
        # refuses to lock.
        ids = list(conversations.values_list("pk", flat=True))
        rows = list(Conversation.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        for conversation in rows:
            conversation.moderation, conversation.moderation_reason = state, reason
            conversation.moderated_by, conversation.moderated_at = by, now
        bulk_update_with_history(
            rows, Conversation, fields, batch_size=500, default_user=by, default_change_reason=reason
        )
    return len(rows)
