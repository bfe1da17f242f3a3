"""Bots' circuits in a round: after enough calls in a row fail, a bot's circuit opens and its
conversations fail at once instead of waiting for calls that will fail too."""

from __future__ import annotations

import logging

from django.utils import timezone

from competition.models import BotCircuit
from conversations import services as conversation_services
from conversations.models import Conversation
from teams.models import CallFailure, Side

logger = logging.getLogger(__name__)


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
