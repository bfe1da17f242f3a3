"""The reaper: the scheduled safety net (competition.tasks.rounds_reap_task, every minute)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from competition.models import Round, player_lease_names
from competition.pipeline import lifecycle
from competition.pipeline.selectors import player_leases_live
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
    players_enqueued: int = 0


def rounds_reap() -> ReapReport:
    """Nothing stays running forever.

    Hands conversations of dead workers back, starts due scheduled rounds, moves finished rounds
    on, starts players when playable work waits and fewer than `settings.ARENA_PLAYERS` live players
    hold a lease, and sees that no judging round waits forever (missing labels finished, stalled
    work queued again).
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
    if conversation_selectors.play_left():
        free = len(set(player_lease_names(settings.ARENA_PLAYERS)) - set(player_leases_live()))
        if free:
            lifecycle.player_enqueue(count=free)
            report.players_enqueued = free
    return report
