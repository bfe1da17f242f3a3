"""What a round hears after it was played: judging reports labels changed (with whether they are
complete), moderation lets conversations into or leaves them out of what the round counts. A judging
round is settled, a scored or published one scored again, judging asked for what became judgeable.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet

from competition.models import Round
from competition.pipeline import signals
from competition.pipeline.lifecycle.moves import round_judging_settle, round_score_enqueue
from conversations.models import Conversation
from conversations.moderation import conversation_moderate

logger = logging.getLogger(__name__)

Status = Round.Status


def round_labels_changed(*, round_id: int, reason: str, labels_complete: bool) -> bool:
    """Judging wrote or recomputed labels of this round's replies (`reason` says why, for logs), and
    says whether the round's labels are now complete (judging works that out only for a judging round,
    the one status it can move). True when this call moved the round to scored.

    A judging round is settled (round_judging_settle): the labels may have been the last it waited
    for. A scored or published round keeps its status and has its standings computed again
    (competition/pipeline/scoring.py), since a re-judge or a human label may change them. Rounds in
    any other status are left as they are.
    """
    status = Round.objects.filter(pk=round_id).values_list("status", flat=True).first()
    if status == Status.JUDGING and round_judging_settle(round_id=round_id, labels_complete=labels_complete):
        logger.info("round %s scored after labels changed: %s", round_id, reason)
        return True
    if status in (Status.SCORED, Status.PUBLISHED):
        # Scoring again is idempotent: unchanged labels write nothing and add no revision.
        round_score_enqueue(round_id=round_id, reason=f"labels changed ({reason})")
    return False


def round_inputs_changed(*, left_out: Collection[int], let_in: Collection[int], reason: str) -> None:
    """Conversations were left out of what their rounds count (`left_out`: excluded) or let back in
    (`let_in`), for `reason`; called inside the transaction that moved them.

    For each round of them, once that transaction commits: a judging round has judging queued for
    them (signals.round_inputs_judging_wanted: what became judgeable is judged, and judging reports, so the round is
    settled at once when nothing is left to judge); a scored or published round is scored again at
    once, and when conversations were let in, judging is queued for them too (one never judged is
    judged, and scored again when its labels arrive). A round still being played judges its
    conversations as they complete; earlier and cancelled rounds count nothing: both are left alone.
    """
    by_round: dict[int, tuple[str, list[int], list[int]]] = {}
    for ids, index in ((left_out, 1), (let_in, 2)):
        for conversation_id, round_id, status in Conversation.objects.filter(pk__in=list(ids)).values_list(
            "pk", "match__round_id", "match__round__status"
        ):
            by_round.setdefault(round_id, (status, [], []))[index].append(conversation_id)
    for round_id, (status, out, back) in sorted(by_round.items()):
        if status in (Status.SCORED, Status.PUBLISHED):
            round_score_enqueue(round_id=round_id, reason=reason)
        if status == Status.JUDGING or (status in (Status.SCORED, Status.PUBLISHED) and back):
            signals.ask(signals.round_inputs_judging_wanted, round_id=round_id, conversation_ids=sorted(out + back))


def conversations_moderate(*, conversations: QuerySet[Conversation], state: str, reason: str, by: User) -> int:
    """Moderate conversations (conversations.moderation.conversation_moderate: the state, who, why,
    when; ValueError for an unknown state or a blank reason) and, for those whose exclusion changed,
    tell their rounds (round_inputs_changed). Returns the number of conversations written.
    """
    excluded = Conversation.Moderation.EXCLUDED
    with transaction.atomic():
        before = dict(conversations.values_list("pk", "moderation"))
        count = conversation_moderate(
            conversations=Conversation.objects.filter(pk__in=list(before)), state=state, reason=reason, by=by
        )
        left_out = [pk for pk, was in before.items() if was != excluded and state == excluded]
        let_in = [pk for pk, was in before.items() if was == excluded and state != excluded]
        round_inputs_changed(left_out=left_out, let_in=let_in, reason=f"moderation ({state}): {reason.strip()}")
    return count
