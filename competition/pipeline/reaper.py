"""The reaper: the scheduled safety net (competition.tasks.rounds_reap_task, every minute)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.utils import timezone

from competition.models import ROUND_PLAYER_LEASE, Round
from competition.pipeline import lifecycle
from competition.selectors import player_lease_free
from conversations import selectors as conversation_selectors
from conversations import services as conversation_services
from judging.services import round_judging_resume

logger = logging.getLogger(__name__)

Status = Round.Status


@dataclass
class ReapReport:
    claims_expired: int = 0
    rounds_started: int = 0
    rounds_settled: int = 0
    judging_resumed: dict[int, str] = field(default_factory=dict)
    player_enqueued: bool = False


def rounds_reap() -> ReapReport:
    """Nothing stays running forever.

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
            lifecycle.round_start(round_id=round_id)
            report.rounds_started += 1
        except lifecycle.RoundTransitionError as error:
            logger.warning("scheduled round %s did not start: %s", round_id, error)
    for round_id in Round.objects.filter(status=Status.RUNNING).values_list("pk", flat=True):
        report.rounds_settled += lifecycle.round_playing_settle(round_id=round_id)
    for round_id in Round.objects.filter(status=Status.JUDGING).values_list("pk", flat=True):
        report.judging_resumed[round_id] = round_judging_resume(round_id=round_id)
    if conversation_selectors.play_left() and player_lease_free(name=ROUND_PLAYER_LEASE):
        lifecycle.player_enqueue()
        report.player_enqueued = True
    return report
