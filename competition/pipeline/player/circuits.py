"""Bots' circuits in a round: after enough calls in a row fail, a bot's circuit opens and its
conversations fail at once instead of waiting for calls that will fail too.

`BotCircuits` is the player's bookkeeping (failures in a row, open circuits, each round's
threshold); `bot_circuit_open` is the write that opens one and `conversation_circuit_fail` the one
that fails a held conversation on it. An organizer's re-run closes a round's circuits in the
database (lifecycle.round_rerun_failed) while the player still believes them open until its next
reload, so both writes lock the round as the re-run does and look at the circuit in the database:
a re-run is wholly before or wholly after them, and no conversation fails on a circuit it closed.
"""

from __future__ import annotations

import logging
from collections import Counter

from django.db import transaction
from django.utils import timezone

from competition.models import BotCircuit, Round
from conversations import services as conversation_services
from conversations.models import Conversation
from teams.clients import BotCallError
from teams.models import CallFailure, Side

logger = logging.getLogger(__name__)


class BotCircuits:
    """What the player knows of the circuits of (round, bot) pairs."""

    def __init__(self) -> None:
        self.failures_in_a_row: Counter[tuple[int, int]] = Counter()
        self.opened: set[tuple[int, int]] = set()
        self.thresholds: dict[int, int] = {}

    def threshold_set(self, round_id: int, failures: int) -> None:
        """The round's `circuit_breaker_failures` in force."""
        self.thresholds[round_id] = failures

    def is_open(self, round_id: int, bot_id: int) -> bool:
        return (round_id, bot_id) in self.opened

    def reload(self, round_ids: set[int]) -> None:
        """Take the rounds' open circuits from the database, where a re-run closes them."""
        opened = set(
            BotCircuit.objects.filter(round_id__in=round_ids, opened_at__isnull=False).values_list("round_id", "bot_id")
        )
        for key in {key for key in self.opened if key[0] in round_ids} - opened:
            self.opened.discard(key)
            self.failures_in_a_row[key] = 0  # closed by a re-run: the bot starts with a clean slate
        self.opened |= opened

    def succeeded(self, round_id: int, bot_id: int) -> None:
        self.failures_in_a_row[(round_id, bot_id)] = 0

    def failed(self, round_id: int, bot_id: int, side: str, error: BotCallError) -> int | None:
        """Count a failed call; open the circuit when the round's threshold is reached. Returns how
        many pending conversations that failed, or None when the circuit did not open now."""
        key = (round_id, bot_id)
        self.failures_in_a_row[key] += 1
        if self.failures_in_a_row[key] < self.thresholds[round_id] or key in self.opened:
            return None
        failed = bot_circuit_open(
            round_id=round_id,
            bot_id=bot_id,
            side=side,
            failures=self.failures_in_a_row[key],
            last_failure=f"{error.kind}: {error.detail}",
        )
        self.opened.add(key)
        return failed


def _round_lock(round_id: int) -> None:
    """Lock the round's row, which lifecycle.round_rerun_failed locks before it touches a circuit."""
    Round.objects.select_for_update().filter(pk=round_id).exists()


@transaction.atomic
def bot_circuit_open(*, round_id: int, bot_id: int, side: str, failures: int, last_failure: str) -> int:
    """Open a bot's circuit in a round: record why, and fail its conversations that have not started,
    at once, with that reason. Returns how many conversations were failed."""
    _round_lock(round_id)
    # What happened only: what can be done about it depends on the round's state when someone reads
    # it (Round.rerun_refusal; the progress page says it), and this text is kept on every conversation.
    reason = (
        f"{failures} calls in a row failed; the last: {last_failure}. "
        "The bot's remaining conversations in this round failed without calling it."
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


@transaction.atomic
def conversation_circuit_fail(*, round_id: int, bot_id: int, conversation_id: int, worker_id: str, side: str) -> bool:
    """Fail a conversation this worker holds because its bot's circuit is open, with the reason the
    circuit recorded. False, failing nothing, when the circuit is closed in the database: a re-run
    closed it since the player last looked, and the conversation calls the bot after all."""
    _round_lock(round_id)
    reason = (
        BotCircuit.objects.filter(round_id=round_id, bot_id=bot_id, opened_at__isnull=False)
        .values_list("reason", flat=True)
        .first()
    )
    if reason is None:
        return False
    conversation_services.conversation_fail(
        conversation_id=conversation_id, worker_id=worker_id, side=side, kind=CallFailure.CIRCUIT_OPEN, detail=reason
    )
    return True
