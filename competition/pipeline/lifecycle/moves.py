"""The moves of a round's status that organizers and the pipeline make: schedule, pause, resume,
cancel, publish, and the two settles (playing finished: judging; labels complete: scored), each a
conditional update on the current status with the round's historical record written by hand
(package docstring). Also the two asks upward: players wanted, scoring wanted."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from competition.models import Round
from competition.pipeline import signals
from competition.signals import round_published, signal_on_commit
from conversations import services as conversation_services
from conversations.models import Conversation

logger = logging.getLogger(__name__)

Status = Round.Status

# The statuses each organizer's move starts from. The moves refuse any other; the buttons on a
# round's admin page read the same tuples, so a button is shown exactly when its move may happen.
START_FROM = (Status.DRAFT, Status.SCHEDULED)
PAUSE_FROM = (Status.RUNNING,)
RESUME_FROM = (Status.PAUSED,)
CANCEL_FROM = (Status.DRAFT, Status.SCHEDULED, Status.RUNNING, Status.PAUSED, Status.JUDGING)
PUBLISH_FROM = (Status.SCORED,)


class RoundTransitionError(Exception):
    """A lifecycle step that cannot happen now; the message is written for organizers."""


def player_enqueue(*, count: int | None = None) -> None:
    """Ask for `count` round players (default `settings.ARENA_PLAYERS`); one that finds every
    player lease held by a live player leaves at once (see PlayerLease)."""
    signals.ask(signals.players_wanted, count=settings.ARENA_PLAYERS if count is None else count)


def round_history_note(*, round_id: int, reason: str) -> None:
    """Write the round's historical record as it is now, with ``reason`` (e.g. "Round action: published").

    The user is the one of the current request when there is one (HistoryRequestMiddleware), else
    none: the admin's History then says the platform made the move.
    """
    round_ = Round.objects.get(pk=round_id)
    Round.history.bulk_history_create([round_], update=True, default_change_reason=reason)


def _move(*, round_id: int, from_statuses: tuple[str, ...], to: str, verb: str, done: str, **fields) -> Round:
    updated = Round.objects.filter(pk=round_id, status__in=from_statuses).update(status=to, **fields)
    round_ = Round.objects.select_related("competition").get(pk=round_id)
    if not updated:
        allowed = " or ".join(Status(s).label.lower() for s in from_statuses)
        raise RoundTransitionError(f"{round_} is {round_.get_status_display().lower()}; only {allowed} rounds {verb}")
    Round.history.bulk_history_create([round_], update=True, default_change_reason=f"Round action: {done}")
    return round_


def round_schedule(*, round_id: int, at) -> Round:
    """Start the round by itself at `at` (the reaper starts due rounds)."""
    return _move(
        round_id=round_id,
        from_statuses=(Status.DRAFT, Status.SCHEDULED),
        to=Status.SCHEDULED,
        verb="can be scheduled",
        done="scheduled",
        scheduled_at=at,
    )


def round_pause(*, round_id: int) -> Round:
    """Stop making calls; conversations in progress stop after their current call, losing nothing."""
    return _move(round_id=round_id, from_statuses=PAUSE_FROM, to=Status.PAUSED, verb="pause", done="paused")


@transaction.atomic
def round_resume(*, round_id: int) -> Round:
    """Continue a paused round; every conversation resumes from its last stored turn."""
    round_ = _move(round_id=round_id, from_statuses=RESUME_FROM, to=Status.RUNNING, verb="resume", done="resumed")
    player_enqueue()
    return round_


@transaction.atomic
def round_cancel(*, round_id: int) -> Round:
    """Cancel a round that has not been scored; its unfinished conversations are cancelled, played turns kept."""
    round_ = _move(
        round_id=round_id,
        from_statuses=CANCEL_FROM,
        to=Status.CANCELLED,
        verb="can be cancelled",
        done="cancelled",
    )
    conversation_services.conversations_cancel(conversations=Conversation.objects.filter(match__round_id=round_id))
    return round_


def round_playing_settle(*, round_id: int) -> bool:
    """Move a running round to judging once none of its conversations is left to play."""
    unfinished = Conversation.objects.unfinished().filter(match__round_id=round_id)
    if unfinished.exists():
        return False  # the common case, answered without a lock
    with transaction.atomic():
        # Lock, then look again: a re-run that commits in between (it locks the round too) must
        # not leave pending conversations in a round that moved on to judging.
        if not Round.objects.select_for_update().filter(pk=round_id, status=Status.RUNNING).exists():
            return False
        if unfinished.exists():
            return False
        Round.objects.filter(pk=round_id).update(status=Status.JUDGING, playing_finished_at=timezone.now())
        round_history_note(round_id=round_id, reason="Playing finished: judging starts")
        logger.info("round %s finished playing; judging starts", round_id)
        signals.ask(signals.round_judging_wanted, round_id=round_id)
    return True


def round_publish(*, round_id: int) -> Round:
    """Show a scored round's standings to the teams (never a practice match: it stays private)."""
    if Round.objects.filter(pk=round_id, kind=Round.Kind.PRACTICE_MATCH).exists():
        raise RoundTransitionError("A practice match is private to its team and is never published")
    round_ = _move(
        round_id=round_id,
        from_statuses=PUBLISH_FROM,
        to=Status.PUBLISHED,
        verb="publish",
        done="published",
        published_at=timezone.now(),
    )
    signal_on_commit(round_published, round_id=round_id)
    return round_


def round_judging_settle(*, round_id: int, labels_complete: bool) -> bool:
    """Move a judging round to scored when judging reports its labels complete; True when this call moved it.

    Complete is judging's to say, and judging says it with every report (judging.services.judging:
    round_labels_report; every judgeable reply has a verdict of every active judge at its current
    version, errors included, and a final label). The move is a conditional update, so of two
    concurrent calls exactly one returns True.
    """
    if not labels_complete:
        return False
    moved = Round.objects.filter(pk=round_id, status=Status.JUDGING).update(
        status=Status.SCORED, judging_finished_at=timezone.now()
    )
    if moved:
        round_history_note(round_id=round_id, reason="Judging finished: scored")
        logger.info("round %s judged: moved to scored", round_id)
        round_score_enqueue(round_id=round_id, reason="labels complete")
    return bool(moved)


def round_score_enqueue(*, round_id: int, reason: str) -> None:
    """Have the round's standings computed (competition.tasks.round_score_task, idempotent) once
    this transaction commits; `reason` is what a published round's revisions say. A practice match
    has no standings: nothing is asked for it."""
    if Round.objects.filter(pk=round_id, kind=Round.Kind.PRACTICE_MATCH).exists():
        return
    signals.ask(signals.round_scoring_wanted, round_id=round_id, reason=reason)
