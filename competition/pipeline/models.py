"""The pipeline's state: each bot's circuit in a round, the players' leases and the bots' call
slots they lease (competition/pipeline/player/). App label `competition`: the tables and migrations
stay competition's; competition/models.py re-exports these models."""

from __future__ import annotations

from django.db import models

from teams.models import Bot


class BotCircuit(models.Model):
    """Consecutive failed calls of one bot in one round; open means its conversations fail fast."""

    round = models.ForeignKey("competition.Round", on_delete=models.CASCADE, related_name="circuits")
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="circuits")
    consecutive_failures = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "bot"], name="circuit_unique_round_bot")]

    def __str__(self) -> str:
        return f"{self.bot} in {self.round}: {'open' if self.opened_at else 'closed'}"

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None


# The leases of the players that play the running rounds (competition/pipeline/player/): the first
# is "rounds" (the name of the one lease before there could be several), the others "rounds:1" ...
ROUND_PLAYER_LEASE = "rounds"


def player_lease_names(count: int) -> list[str]:
    """The names of `count` player leases, the first (the primary player's) first."""
    return [ROUND_PLAYER_LEASE] + [f"{ROUND_PLAYER_LEASE}:{index}" for index in range(1, count)]


class PlayerLease(models.Model):
    """Who is playing rounds now: one row per player (`settings.ARENA_PLAYERS` of them).

    A player renews its lease every few seconds; a lease past `expires_at` belongs to a dead worker
    and the next player (started by the reaper) takes it over. Each bot's concurrency limit holds
    across players through `BotSlot` leases.
    """

    name = models.CharField(max_length=40, unique=True)
    holder = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    acquired_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.holder or 'free'}"


class BotSlot(models.Model):
    """One of a bot's `max_concurrency` call slots, leased by the player that may use it.

    A player makes at most as many calls to a bot at once as it holds slots of it (below the round's
    frozen limit), so players together never exceed the limit. Slots are taken and renewed in
    batches, never per call; a slot past `expires_at` belongs to a dead player and is free again.
    Which player takes which slot: competition/pipeline/player/slots.py.
    """

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="slots")
    index = models.PositiveIntegerField()
    holder = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bot", "index"], name="bot_slot_unique_bot_index")]
        indexes = [models.Index(fields=["holder"], name="bot_slot_holder")]

    def __str__(self) -> str:
        return f"{self.bot} slot {self.index}: {self.holder or 'free'}"
