"""A round's lifecycle: start, pause, resume, cancel, re-run, and the moves between its phases.

draft -> scheduled -> running -> judging -> scored -> published (and paused, cancelled).
Together with competition/player.py this is the round's pipeline, the one place that reaches
across the apps (it creates conversations and hands finished rounds to judging), as design.md says.
Every transition is a conditional update on the current status, so a double click, a repeated
admin action or a task that runs twice moves a round at most once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from competition.models import BotCircuit, Match, Round
from conversations import services as conversation_services
from conversations.models import ROUND_PLAYER_LEASE, Conversation
from conversations.selectors import player_lease_free
from judging.services import round_judging_resume
from teams.models import Bot, CallFailure, Side

logger = logging.getLogger(__name__)

Status = Round.Status


class RoundTransitionError(Exception):
    """A lifecycle step that cannot happen now; the message is written for organizers."""


def _enqueue(func: str, *args, **kwargs) -> None:
    transaction.on_commit(lambda: async_task(func, *args, **kwargs))


def player_enqueue() -> None:
    """Ask for a round player; a second one while one plays leaves at once (see PlayerLease)."""
    _enqueue("competition.tasks.rounds_play_task")


def bots_playing(*, side: str):
    return Bot.objects.filter(active=True, team__active=True, team__side=side).select_related("team").order_by("pk")


def goals_spread(*, goals: dict, index: int) -> tuple[str, str]:
    """The index-th goal of a rotation that visits every category in turn, then every target within it."""
    categories = sorted(goals)
    category = categories[index % len(categories)]
    targets = goals[category]
    return category, targets[(index // len(categories)) % len(targets)]


@transaction.atomic
def round_start(*, round_id: int) -> Round:
    """Freeze the round's settings and bots, create every Match and Conversation, and start playing.

    Precondition: the round is draft or scheduled and at least one attacker and one defender bot
    are active. Goals rotate over categories and targets per pair, offset by the bots' positions,
    so each attacker and each defender sees the categories in equal shares.
    """
    round_ = Round.objects.select_for_update().select_related("competition").get(pk=round_id)
    if round_.status not in (Status.DRAFT, Status.SCHEDULED):
        raise RoundTransitionError(
            f"{round_} is {round_.get_status_display().lower()}; only draft or scheduled rounds start"
        )
    attackers, defenders = list(bots_playing(side=Side.ATTACKER)), list(bots_playing(side=Side.DEFENDER))
    if not attackers or not defenders:
        raise RoundTransitionError(
            f"{round_} needs at least one active attacker bot and one active defender bot "
            f"(found {len(attackers)} and {len(defenders)})"
        )
    settings = round_.live_settings()
    matches = Match.objects.bulk_create(
        Match.frozen(round_=round_, attacker=attacker, defender=defender)
        for attacker in attackers
        for defender in defenders
    )
    position = {bot.pk: i for i, bot in enumerate(attackers)} | {bot.pk: i for i, bot in enumerate(defenders)}
    conversations = []
    for match in matches:
        offset = position[match.attacker_id] + position[match.defender_id]
        for sequence in range(settings["conversations_per_pair"]):
            category, target = goals_spread(goals=settings["goals"], index=offset + sequence * len(defenders))
            conversations.append(
                Conversation(match=match, sequence=sequence, goal_category=category, goal_target=target)
            )
    Conversation.objects.bulk_create(conversations, batch_size=500)
    round_.frozen_settings = settings
    round_.status = Status.RUNNING
    round_.started_at = timezone.now()
    round_.save(update_fields=["frozen_settings", "status", "started_at"])
    logger.info("%s started: %d matches, %d conversations", round_, len(matches), len(conversations))
    player_enqueue()
    return round_


def _move(*, round_id: int, from_statuses: tuple[str, ...], to: str, verb: str, **fields) -> Round:
    updated = Round.objects.filter(pk=round_id, status__in=from_statuses).update(status=to, **fields)
    round_ = Round.objects.select_related("competition").get(pk=round_id)
    if not updated:
        allowed = " or ".join(Status(s).label.lower() for s in from_statuses)
        raise RoundTransitionError(f"{round_} is {round_.get_status_display().lower()}; only {allowed} rounds {verb}")
    return round_


def round_schedule(*, round_id: int, at) -> Round:
    """Start the round by itself at `at` (the reaper starts due rounds)."""
    return _move(
        round_id=round_id,
        from_statuses=(Status.DRAFT, Status.SCHEDULED),
        to=Status.SCHEDULED,
        verb="can be scheduled",
        scheduled_at=at,
    )


def round_pause(*, round_id: int) -> Round:
    """Stop making calls; conversations in progress stop after their current call, losing nothing."""
    return _move(round_id=round_id, from_statuses=(Status.RUNNING,), to=Status.PAUSED, verb="pause")


@transaction.atomic
def round_resume(*, round_id: int) -> Round:
    """Continue a paused round; every conversation resumes from its last stored turn."""
    round_ = _move(round_id=round_id, from_statuses=(Status.PAUSED,), to=Status.RUNNING, verb="resume")
    player_enqueue()
    return round_


@transaction.atomic
def round_cancel(*, round_id: int) -> Round:
    """Cancel a round that has not been scored; its unfinished conversations are cancelled, played turns kept."""
    round_ = _move(
        round_id=round_id,
        from_statuses=(Status.DRAFT, Status.SCHEDULED, Status.RUNNING, Status.PAUSED, Status.JUDGING),
        to=Status.CANCELLED,
        verb="can be cancelled",
    )
    conversation_services.conversations_cancel(conversations=Conversation.objects.filter(match__round_id=round_id))
    return round_


@transaction.atomic
def round_rerun_failed(*, round_id: int, conversation_ids: list[int] | None = None) -> int:
    """Play failed conversations again from their last good turn; closes the round's bot circuits.

    Allowed while the round is running, paused or judging (a judging round goes back to running).
    Returns how many conversations were put back.
    """
    round_ = Round.objects.select_for_update().get(pk=round_id)
    if round_.status not in (Status.RUNNING, Status.PAUSED, Status.JUDGING):
        raise RoundTransitionError(
            f"{round_} is {round_.get_status_display().lower()}; failed conversations are re-run "
            "while a round is running, paused or judging"
        )
    failed = Conversation.objects.filter(match__round_id=round_id, status=Conversation.Status.FAILED)
    if conversation_ids is not None:
        failed = failed.filter(pk__in=conversation_ids)
    count = conversation_services.conversations_rerun(conversations=failed)
    if count:
        BotCircuit.objects.filter(round_id=round_id).delete()
        if round_.status == Status.JUDGING:
            Round.objects.filter(pk=round_id, status=Status.JUDGING).update(
                status=Status.RUNNING, playing_finished_at=None
            )
        if round_.status != Status.PAUSED:
            player_enqueue()
    return count


def round_playing_settle(*, round_id: int) -> bool:
    """Move a running round to judging once none of its conversations is left to play."""
    unfinished = Conversation.objects.filter(
        match__round_id=round_id, status__in=[Conversation.Status.PENDING, Conversation.Status.RUNNING]
    )
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
        logger.info("round %s finished playing; judging starts", round_id)
        _enqueue("judging.tasks.round_judge_task", round_id)
    return True


def bot_circuit_open(*, round_id: int, bot_id: int, side: str, failures: int, last_failure: str) -> int:
    """Open a bot's circuit in a round: record why, and fail its conversations that have not started,
    at once, with that reason. Returns how many conversations were failed."""
    reason = (
        f"{failures} calls in a row failed; the last: {last_failure}. "
        "Fix the bot, then an organizer re-runs the failed conversations."
    )
    BotCircuit.objects.update_or_create(
        round_id=round_id,
        bot_id=bot_id,
        defaults={"consecutive_failures": failures, "opened_at": timezone.now(), "reason": reason},
    )
    side_filter = {"match__attacker_id": bot_id} if side == Side.ATTACKER else {"match__defender_id": bot_id}
    failed = conversation_services.conversations_fail_pending(
        conversations=Conversation.objects.filter(match__round_id=round_id, **side_filter),
        side=side,
        kind=CallFailure.CIRCUIT_OPEN,
        detail=reason,
    )
    logger.warning("round %s: circuit opened for bot %s (%s pending conversations failed)", round_id, bot_id, failed)
    return failed


def round_publish(*, round_id: int) -> Round:
    """Show a scored round's standings to the teams."""
    return _move(
        round_id=round_id,
        from_statuses=(Status.SCORED,),
        to=Status.PUBLISHED,
        verb="publish",
        published_at=timezone.now(),
    )


@dataclass
class ReapReport:
    claims_expired: int = 0
    rounds_started: int = 0
    rounds_settled: int = 0
    judging_resumed: dict[int, str] = field(default_factory=dict)
    player_enqueued: bool = False


def rounds_reap() -> ReapReport:
    """The scheduled safety net: nothing stays running forever.

    Hands conversations of dead workers back, starts due scheduled rounds, moves finished rounds
    on, starts a player when playable work waits and no live player holds the lease, and sees that
    no judging round waits forever (missing labels finished, stalled work queued again).
    """
    report = ReapReport()
    report.claims_expired = conversation_services.conversations_claims_expire()
    for round_id in Round.objects.filter(status=Status.SCHEDULED, scheduled_at__lte=timezone.now()).values_list(
        "pk", flat=True
    ):
        try:
            round_start(round_id=round_id)
            report.rounds_started += 1
        except RoundTransitionError as error:
            logger.warning("scheduled round %s did not start: %s", round_id, error)
    for round_id in Round.objects.filter(status=Status.RUNNING).values_list("pk", flat=True):
        report.rounds_settled += round_playing_settle(round_id=round_id)
    for round_id in Round.objects.filter(status=Status.JUDGING).values_list("pk", flat=True):
        report.judging_resumed[round_id] = round_judging_resume(round_id=round_id)
    waiting = Conversation.objects.filter(
        Q(status=Conversation.Status.PENDING) | Q(status=Conversation.Status.RUNNING),
        match__round__status=Status.RUNNING,
    ).exists()
    if waiting and player_lease_free(name=ROUND_PLAYER_LEASE):
        player_enqueue()
        report.player_enqueued = True
    return report
