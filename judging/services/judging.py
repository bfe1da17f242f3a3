"""Judging: running the active judges on replies, conversations and rounds, in batches, here or queued
for the workers; and a judging round's care: after labels are written judging reports to the round's
lifecycle, with whether the round's labels are complete (round_labels_report ->
competition/pipeline/lifecycle/changes.py: round_labels_changed), and the lifecycle decides whether the round
moves on; the reaper has stalled work queued again (round_judging_resume). The lifecycle never calls
back: what it wants judged it queues by task name (judging.tasks).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.utils import timezone

from competition.models import Round
from competition.pipeline import lifecycle
from config.queue import task_enqueue
from conversations.models import Turn
from judging import selectors
from judging import tasks as judging_tasks
from judging.judges import JudgeConfigError, JudgeOutcome, judge_for
from judging.models import FinalLabel, Judge, Verdict
from judging.services.final_labels import final_labels_backfill, final_labels_compute
from judging.services.verdicts import verdicts_record

log = logging.getLogger(__name__)

BATCH_SIZE = 200


# --- running judges ------------------------------------------------------------------------------


def turn_judge(*, turn_ids: Iterable[int], judge: Judge, retry_errors: bool = False) -> int:
    """Run `judge` (at its current version) on the given defender replies it has not judged yet,
    record the verdicts and recompute those replies' final labels. Returns the verdicts written.

    Only judgeable replies are taken (ok defender turns of completed, non-excluded conversations).
    With `retry_errors`, replies whose verdict at this version is an error are judged again.
    A judge whose config cannot work gets an error verdict on every reply.
    """
    judgeable = selectors.judgeable_turns().filter(pk__in=list(turn_ids))
    pending = selectors.turn_ids_unjudged(turns=judgeable, judge=judge, retry_errors=retry_errors)
    if not pending:
        # A run that died between its verdicts and the final labels left replies with verdicts and
        # no label: a second run finds nothing to judge and must still finish the labels.
        final_labels_backfill(turns=judgeable)
        return 0
    items = selectors.judge_items(turn_ids=pending)
    try:
        runner = judge_for(judge)
    except JudgeConfigError as exc:
        outcomes = [JudgeOutcome.failed(turn_id=item.turn_id, error=f"judge config: {exc}") for item in items]
    else:
        try:
            outcomes = runner.judge_many(items)
        except Exception as exc:
            # A runner's own failures are outcome errors; anything escaping it is a bug or a broken
            # host (disk full, a tool missing). Recording it shows the organizer what happened on
            # each reply instead of leaving a task to fail quietly and the round waiting.
            log.exception("judge %s crashed on %d replies", judge.pk, len(items))
            outcomes = [
                JudgeOutcome.failed(turn_id=item.turn_id, error=f"judge crashed: {type(exc).__name__}: {exc}"[:1000])
                for item in items
            ]
    by_turn = {outcome.turn_id: outcome for outcome in outcomes}
    outcomes = [
        by_turn.get(item.turn_id)
        or JudgeOutcome.failed(turn_id=item.turn_id, error="the judge returned no outcome for this reply")
        for item in items
    ]
    written = verdicts_record(judge=judge, outcomes=outcomes, replace_error=retry_errors)
    final_labels_compute(turn_ids=pending)
    return written


def conversation_judge(*, conversation_id: int) -> int:
    """Every active judge of the competition on every judgeable reply of one completed conversation
    (see conversations_judge). Returns the verdicts written (0 for a conversation not completed)."""
    return conversations_judge(conversation_ids=[conversation_id])


def conversations_judge(*, conversation_ids: Iterable[int]) -> int:
    """Judge the replies of conversations that just completed, with every active judge of their
    competitions, in one batch per judge (one semgrep run for the lot). Already judged (reply,
    judge, version) are skipped; conversations not completed or excluded are left out. Then the
    rounds' lifecycle is told their labels changed. Returns the verdicts written."""
    turns = selectors.judgeable_turns().filter(conversation_id__in=list(conversation_ids))
    by_competition: dict[int, list[int]] = {}
    for turn_id, competition_id in turns.values_list("pk", "conversation__match__round__competition_id"):
        by_competition.setdefault(competition_id, []).append(turn_id)
    written = 0
    for competition_id, turn_ids in by_competition.items():
        for judge in selectors.judges_active(competition_id=competition_id):
            for start in range(0, len(turn_ids), BATCH_SIZE):
                written += turn_judge(turn_ids=turn_ids[start : start + BATCH_SIZE], judge=judge)
    for round_id in set(turns.values_list("conversation__match__round_id", flat=True)):
        round_labels_report(round_id=round_id, reason="conversations judged")
    return written


def round_judge_dispatch(*, round_id: int, judge: Judge | None = None, retry_errors: bool = False) -> int:
    """Queue one `round_batch_judge_task` per batch of the round's pending work, so the workers
    share it; when nothing is pending, tell the round's lifecycle at once. Returns the batches queued."""
    batches = selectors.round_judging_batches(
        round_id=round_id, judge=judge, batch_size=BATCH_SIZE, retry_errors=retry_errors
    )
    if not batches:
        final_labels_backfill(turns=selectors.round_judgeable_turns(round_id=round_id))
        round_labels_report(round_id=round_id, reason="nothing left to judge")
        return 0
    for batch_judge, turn_ids in batches:
        task_enqueue(
            judging_tasks.round_batch_judge_task,
            round_id,
            batch_judge.pk,
            turn_ids,
            retry_errors,
            group=f"judging-round-{round_id}",
        )
    return len(batches)


def conversations_judge_dispatch(
    *, conversation_ids: Iterable[int], judge: Judge | None = None, retry_errors: bool = False
) -> int:
    """Queue one `round_batch_judge_task` per round, judge and batch of up to BATCH_SIZE replies for
    the judgeable replies of the given conversations that `judge` (or, when None, every active judge
    of their competition) has not judged at its current version; with `retry_errors`, also those
    whose verdict at that version is an error. Conversations of rounds that are not judging, scored
    or published are left, and so is a judge of another competition. Returns the batches queued."""
    turns = selectors.judgeable_turns().filter(
        conversation_id__in=list(conversation_ids),
        conversation__match__round__status__in=selectors.JUDGEABLE_ROUND_STATUSES,
    )
    rounds = sorted(
        set(turns.values_list("conversation__match__round_id", "conversation__match__round__competition_id"))
    )
    queued = 0
    for round_id, competition_id in rounds:
        judges = [judge] if judge is not None else list(selectors.judges_active(competition_id=competition_id))
        round_turns = turns.filter(conversation__match__round_id=round_id)
        for each in judges:
            if each.competition_id != competition_id:
                continue
            pending = selectors.turn_ids_unjudged(turns=round_turns, judge=each, retry_errors=retry_errors)
            for start in range(0, len(pending), BATCH_SIZE):
                task_enqueue(
                    judging_tasks.round_batch_judge_task,
                    round_id,
                    each.pk,
                    pending[start : start + BATCH_SIZE],
                    retry_errors,
                    group=f"judging-round-{round_id}",
                )
                queued += 1
    return queued


def round_batch_judge(*, round_id: int, judge: Judge, turn_ids: Sequence[int], retry_errors: bool = False) -> int:
    """One batch of a round's judging (turn_judge), then the round's lifecycle told (it moves the
    round on if this was the last batch)."""
    written = turn_judge(turn_ids=turn_ids, judge=judge, retry_errors=retry_errors)
    round_labels_report(round_id=round_id, reason="batch judged")
    return written


def round_inputs_judge(*, round_id: int, conversation_ids: Iterable[int]) -> int:
    """The round's inputs changed (moderation let these conversations in or left them out; the
    lifecycle queues this: competition/pipeline/lifecycle/changes.py: round_inputs_changed): queue the
    judging of their replies no active judge has judged at its current version (each batch reports
    when done), or, when there is none, finish missing final labels and report at once, so a judging
    round whose last unjudged conversation was left out is settled now. Returns the batches queued."""
    queued = conversations_judge_dispatch(conversation_ids=conversation_ids)
    if not queued:
        final_labels_backfill(turns=selectors.round_judgeable_turns(round_id=round_id))
        round_labels_report(round_id=round_id, reason="round inputs changed")
    return queued


def round_labels_report(*, round_id: int, reason: str) -> bool:
    """Tell the round's lifecycle that labels of its replies changed (`reason`, for logs), with whether
    they are complete (selectors.round_labels_complete, worked out only while the round is judging:
    no other status moves on labels). True when the report moved the round to scored."""
    judging = Round.objects.filter(pk=round_id, status=Round.Status.JUDGING).exists()
    complete = judging and selectors.round_labels_complete(round_id=round_id)
    return lifecycle.round_labels_changed(round_id=round_id, reason=reason, labels_complete=complete)


# --- a judging round's care ----------------------------------------------------------------------


def round_judging_resume(*, round_id: int, stale_seconds: int = 300) -> str:
    """The reaper's care of a judging round, so none waits forever: finish missing final labels,
    report to its lifecycle, which settles it when its labels are complete (round_labels_report), and when
    it still is not complete and nothing was judged in it for `stale_seconds` (a batch task died, or
    a judge was added or had its version raised), queue its pending work again. Judging is
    idempotent, so work queued twice is skipped the second time. Returns what it did.
    """
    if not Round.objects.filter(pk=round_id, status=Round.Status.JUDGING).exists():
        return "not judging"
    turns = selectors.round_judgeable_turns(round_id=round_id)
    final_labels_backfill(turns=turns)
    if round_labels_report(round_id=round_id, reason="judging resumed"):
        return "settled"
    since = timezone.now() - timedelta(seconds=stale_seconds)
    recent = (
        Verdict.objects.filter(turn__in=turns, created_at__gte=since).exists()
        or FinalLabel.objects.filter(turn__in=turns, computed_at__gte=since).exists()
    )
    if recent:
        return "in progress"
    round_judge_dispatch(round_id=round_id)
    return "requeued"


def final_labels_recompute(*, turn_ids: Iterable[int]) -> dict[int, FinalLabel]:
    """Recompute these replies' final labels after a human label arrived or went, then tell their
    rounds' lifecycle: the human label may have been the last one a judging round waited for."""
    turn_ids = set(turn_ids)
    labels = final_labels_compute(turn_ids=turn_ids)
    for round_id in set(Turn.objects.filter(pk__in=turn_ids).values_list("conversation__match__round_id", flat=True)):
        round_labels_report(round_id=round_id, reason="final labels recomputed")
    return labels
