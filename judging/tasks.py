"""Background tasks of judging (django-q2). Each takes primary keys, re-reads its rows, leaves at
once when the state has moved on, and calls one service. All are idempotent: running one twice, or
two at once on the same turns, writes no second verdict (the unique constraint on (turn, judge,
judge version) decides) and leaves the same final labels, so one that loses its database connection
midway (a PostgreSQL restart) runs again once the database answers (config/database.py).

The judging the round lifecycle asks for (competition/pipeline/signals.py) is queued here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.dispatch import receiver
from django.utils.module_loading import import_string

from competition.models import Round
from competition.pipeline import signals
from config.database import retried_when_database_lost
from config.queue import task_enqueue
from conversations.models import Conversation, Turn
from judging import selectors, services
from judging.models import Judge

log = logging.getLogger(__name__)


@retried_when_database_lost
def conversation_judge_task(conversation_pk: int) -> int:
    """Judge a completed conversation's replies with every active judge of its competition."""
    conversation = Conversation.objects.filter(pk=conversation_pk).first()
    if conversation is None or not conversation.judgeable:
        return 0
    return services.conversation_judge(conversation_id=conversation.pk)


@retried_when_database_lost
def conversations_judge_task(conversation_pks: Sequence[int]) -> int:
    """Judge conversations the round player just completed (a batch per player tick)."""
    return services.conversations_judge(conversation_ids=list(conversation_pks))


@retried_when_database_lost
def round_judge_task(round_pk: int, judge_pk: int | None = None, retry_errors: bool = False) -> int:
    """Split a round's pending judging into batch tasks (all active judges, or just `judge_pk`)."""
    round_ = Round.objects.filter(pk=round_pk).first()
    if round_ is None or round_.status not in selectors.JUDGEABLE_ROUND_STATUSES:
        return 0
    judge = None
    if judge_pk is not None:
        judge = Judge.objects.filter(pk=judge_pk, competition_id=round_.competition_id, active=True).first()
        if judge is None:
            return 0
    return services.round_judge_dispatch(round_id=round_.pk, judge=judge, retry_errors=retry_errors)


@retried_when_database_lost
def round_inputs_judge_task(round_pk: int, conversation_pks: Sequence[int]) -> int:
    """Judge what moderation let into a round (or report at once that nothing is left to judge); the
    lifecycle asks for it (competition.pipeline.signals.round_inputs_judging_wanted, received below)."""
    if not Round.objects.filter(pk=round_pk, status__in=selectors.JUDGEABLE_ROUND_STATUSES).exists():
        return 0
    return services.round_inputs_judge(round_id=round_pk, conversation_ids=list(conversation_pks))


@retried_when_database_lost
def round_batch_judge_task(round_pk: int, judge_pk: int, turn_pks: Sequence[int], retry_errors: bool = False) -> int:
    """Judge one batch of a round's replies with one judge, then settle the round if it was the last."""
    round_ = Round.objects.filter(pk=round_pk).first()
    if round_ is None or round_.status not in selectors.JUDGEABLE_ROUND_STATUSES:
        return 0
    # The judge's version is read now: a version raised after queueing is judged at the new one.
    judge = Judge.objects.filter(pk=judge_pk, competition_id=round_.competition_id, active=True).first()
    if judge is None:
        return 0
    return services.round_batch_judge(
        round_id=round_.pk, judge=judge, turn_ids=list(turn_pks), retry_errors=retry_errors
    )


@retried_when_database_lost
def conversations_rejudge_task(
    conversation_pks: Sequence[int], judge_pk: int | None = None, retry_errors: bool = False
) -> int:
    """Split the judging of an organizer's selection of conversations into batch tasks per round,
    with every active judge of their competition or just `judge_pk` (the admin's re-judge action)."""
    judge = None
    if judge_pk is not None:
        judge = Judge.objects.filter(pk=judge_pk, active=True).first()
        if judge is None:
            return 0
    return services.conversations_judge_dispatch(
        conversation_ids=list(conversation_pks), judge=judge, retry_errors=retry_errors
    )


@retried_when_database_lost
def final_label_recompute_task(turn_pk: int) -> bool:
    """Recompute one reply's final label (after an annotation or adjudication arrived)."""
    if not Turn.objects.filter(pk=turn_pk, speaker="defender").exists():
        return False
    return turn_pk in services.final_labels_recompute(turn_ids=[turn_pk])


# Tasks that moved to a subpackage, by their old dotted path (judging.tasks.<name>): django-q2 finds a
# task by that path (pydoc.locate) when it runs one queued before an upgrade (the sweep's Schedule row
# is rewritten to the new path after `migrate`: config/queue.py:schedules_keep). Resolved by name
# when asked for, so the label core imports nothing of the datasets subpackage
# (tests/test_architecture.py lists these strings as a known exception). Enqueue by the function.
MOVED_TASKS = {
    "export_job_run_task": "judging.datasets.tasks.export_job_run_task",
    "export_jobs_reap_task": "judging.datasets.tasks.export_jobs_reap_task",
}


def __getattr__(name: str) -> Any:
    if name in MOVED_TASKS:
        return import_string(MOVED_TASKS[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@receiver(signals.round_judging_wanted, dispatch_uid="judging.tasks.round_judge_enqueue")
def round_judge_enqueue(sender, *, round_id: int, **kwargs) -> None:
    """Queue the judging of a round whose playing finished, once the transaction commits (the
    lifecycle's round_playing_settle asks)."""
    task_enqueue(round_judge_task, round_id)


@receiver(signals.round_inputs_judging_wanted, dispatch_uid="judging.tasks.round_inputs_judge_enqueue")
def round_inputs_judge_enqueue(sender, *, round_id: int, conversation_ids: list[int], **kwargs) -> None:
    """Queue the judging of conversations a moderation let into or left out of a round, once the
    transaction commits (the lifecycle's round_inputs_changed asks); judging then reports."""
    task_enqueue(round_inputs_judge_task, round_id, conversation_ids)
