"""Background tasks of judging (django-q2). Each takes primary keys, re-reads its rows, leaves at
once when the state has moved on, and calls one service. All are idempotent: running one twice, or
two at once on the same turns, writes no second verdict (the unique constraint on (turn, judge,
judge version) decides) and leaves the same final labels, so one that loses its database connection
midway (a PostgreSQL restart) runs again once the database answers (config/database.py)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict

from competition.models import Round
from config.database import retried_when_database_lost
from conversations.models import Conversation, Turn
from judging import selectors, services
from judging.models import ExportJob, Judge

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


def export_job_run_task(job_pk: int) -> bool:
    """Run a queued dataset export job (judging.services.export_job_run); leaves one that moved on."""
    if not ExportJob.objects.filter(pk=job_pk, status=ExportJob.Status.QUEUED).exists():
        return False
    return services.export_job_run(job_id=job_pk)


@retried_when_database_lost
def export_jobs_reap_task() -> dict:
    """Scheduled every minute: export jobs whose worker stopped run again, or fail after three runs
    (judging.services.export_jobs_reap)."""
    return asdict(services.export_jobs_reap())
