"""Re-judging: an organizer asks for rounds or conversations to be judged again with a chosen judge
(or every active judge of their competition). Here are the rules of what may be re-judged and the
queueing; the admin actions (judging/reading/admin/) only ask and report.

Re-judging never deletes or overwrites a verdict: the tasks skip replies the judge already judged at
its current version, and replace an errored verdict only with ``retry_errors``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from competition.models import Round
from config.queue import task_enqueue
from conversations.models import Conversation, judgeable_q
from judging import tasks as judging_tasks
from judging.models import Judge
from judging.selectors import JUDGEABLE_ROUND_STATUSES

_STATUS_NAMES = [str(Round.Status(status).label).lower() for status in JUDGEABLE_ROUND_STATUSES]
JUDGEABLE_STATUS_NAMES = ", ".join(_STATUS_NAMES[:-1]) + " or " + _STATUS_NAMES[-1]
ROUND_RULE = f"only rounds that are {JUDGEABLE_STATUS_NAMES} are judged"
CONVERSATION_RULE = f"only completed, non-excluded conversations of rounds that are {JUDGEABLE_STATUS_NAMES} are judged"


class RejudgeRefused(ValueError):
    """The chosen judge cannot re-judge this selection; the message says why and what to do."""


def rejudge_judges(*, competition_ids: Iterable[int]) -> list[Judge]:
    """The judges an organizer may choose from for a selection of these competitions, active or not."""
    return list(
        Judge.objects.filter(competition_id__in=set(competition_ids))
        .select_related("competition")
        .order_by("competition__name", "name", "pk")
    )


def rejudge_judge_check(*, judge: Judge | None, competition_ids: Iterable[int]) -> None:
    """Raise RejudgeRefused when ``judge`` cannot judge a selection of these competitions.

    None (every active judge of each competition) always can. A chosen judge must be active (the
    final label does not hear inactive judges, and the tasks skip them) and of the selection's one
    competition.
    """
    if judge is None:
        return
    if not judge.active:
        raise RejudgeRefused(
            f"{judge} is inactive: the final label does not hear inactive judges and the judging tasks "
            "skip them. Activate it on its page first."
        )
    if set(competition_ids) - {judge.competition_id}:
        raise RejudgeRefused(
            f"{judge} judges only {judge.competition.name}, and the selection holds other competitions: "
            "choose every active judge, or select one competition's objects."
        )


def round_rejudge_skip_reason(round_: Round) -> str:
    """Why ``round_`` is not re-judged, or "" when it is."""
    return "" if round_.status in JUDGEABLE_ROUND_STATUSES else "not judged in this state"


def conversations_rejudgeable(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """The conversations of ``queryset`` whose replies can be judged: completed, not excluded, in a
    round that is judging, scored or published."""
    return queryset.filter(judgeable_q(), match__round__status__in=JUDGEABLE_ROUND_STATUSES)


def conversation_rejudge_skip_reason(conversation: Conversation) -> str:
    """Why ``conversation`` is not re-judged, or "" when it is (the rule of conversations_rejudgeable)."""
    if conversation.status != Conversation.Status.COMPLETED:
        return f"{conversation.get_status_display().lower()}, not completed"
    if conversation.moderation == Conversation.Moderation.EXCLUDED:
        return "excluded by a moderator"
    if conversation.match.round.status not in JUDGEABLE_ROUND_STATUSES:
        return f"its round is {conversation.match.round.get_status_display().lower()}"
    return ""


@dataclass(frozen=True)
class RoundsRejudged:
    """What rounds_rejudge did: the rounds queued and the rounds skipped, in the order given."""

    queued: tuple[Round, ...]
    skipped: tuple[Round, ...]


def rounds_rejudge(*, rounds: Sequence[Round], judge: Judge | None, retry_errors: bool) -> RoundsRejudged:
    """Queue ``judging.tasks.round_judge_task`` for each judgeable round, after the transaction commits.

    ``judge`` None means every active judge of each round's competition. Raises RejudgeRefused (and
    queues nothing) when the judge cannot judge these rounds; rounds in other states are skipped.
    """
    rejudge_judge_check(judge=judge, competition_ids={round_.competition_id for round_ in rounds})
    queued = tuple(round_ for round_ in rounds if not round_rejudge_skip_reason(round_))
    for round_ in queued:
        task_enqueue(
            judging_tasks.round_judge_task,
            round_.pk,
            judge.pk if judge is not None else None,
            retry_errors,
            group=f"judging-round-{round_.pk}",
        )
    return RoundsRejudged(queued=queued, skipped=tuple(round_ for round_ in rounds if round_ not in queued))


@dataclass(frozen=True)
class ConversationsRejudged:
    """What conversations_rejudge did: the ids of the conversations queued, and how many were skipped."""

    queued_ids: tuple[int, ...]
    skipped_count: int


def conversations_rejudge(
    *, conversation_ids: Iterable[int], judge: Judge | None, retry_errors: bool
) -> ConversationsRejudged:
    """Queue one ``judging.tasks.conversations_rejudge_task`` for the judgeable conversations among
    ``conversation_ids``, after the transaction commits (none when none is judgeable).

    Raises RejudgeRefused (and queues nothing) when the judge cannot judge their competitions.
    """
    selection = Conversation.objects.filter(pk__in=set(conversation_ids))
    competition_ids = set(selection.values_list("match__round__competition_id", flat=True).distinct())
    rejudge_judge_check(judge=judge, competition_ids=competition_ids)
    queued = tuple(conversations_rejudgeable(selection).order_by("pk").values_list("pk", flat=True))
    if queued:
        judge_pk = judge.pk if judge is not None else None
        task_enqueue(judging_tasks.conversations_rejudge_task, list(queued), judge_pk, retry_errors)
    return ConversationsRejudged(queued_ids=queued, skipped_count=selection.count() - len(queued))
