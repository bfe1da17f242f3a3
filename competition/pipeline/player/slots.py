"""Each bot's concurrency limit across players: the player's share of the bots' call slots.

A bot with `max_concurrency` L has slots 0 .. L-1, each a lease in the database (`BotSlot`). A
player calls a bot at most as many times at once as it holds slots of it, so the players together
never exceed L. Which player takes which slot is fixed by its position among the live players
(`PlayerLease` rows, the primary "rounds" first): slot i belongs to position i mod P. So the
primary always owns slot 0 of every bot and can play every conversation (a round never waits on
a player that owns none of a bot's slots), a bot with a limit of 1 is played by the primary only,
and larger limits are split evenly with no negotiation between players.

Slots are leased in batches when a bot first shows up in the player's claim candidates, renewed
with the player's lease every two seconds, and handed over when the number of live players
changes: a slot that no longer belongs to this player stops taking new calls and is released once
the calls in flight allow, and the player it now belongs to takes it at its next claim. A dead
player's slots expire with its lease. Nothing here runs per call: the per-call bookkeeping
(`busy`, `usable`) is in memory.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from competition.pipeline import services as pipeline_services


class SlotShare:
    """The slots this player holds, which of them are its own at its position, and its calls in flight."""

    def __init__(self, *, holder: str, seconds: int) -> None:
        self.holder = holder
        self.seconds = seconds
        self.position = 0
        self.players = 1
        self.held: defaultdict[int, set[int]] = defaultdict(set)
        self.busy: Counter[int] = Counter()
        self.limits: dict[int, int] = {}  # each bot's live max_concurrency, as last read
        self._usable: dict[tuple[int, int], int] = {}

    def owns(self, index: int, limit: int) -> bool:
        return index < limit and index % self.players == self.position

    def usable(self, bot_id: int, cap: int | None = None) -> int:
        """How many calls to the bot this player may have in flight at once: its own held slots
        below `cap` (the round's frozen limit) and below the bot's live limit."""
        limit = self.limits.get(bot_id, 0)
        cap = min(cap or limit, limit)
        key = (bot_id, cap)
        if key not in self._usable:
            self._usable[key] = sum(1 for index in self.held[bot_id] if index < cap and self.owns(index, limit))
        return self._usable[key]

    def has_room(self, bot_id: int, cap: int | None = None) -> bool:
        return self.busy[bot_id] < self.usable(bot_id, cap)

    def position_set(self, *, position: int, players: int) -> None:
        """Where this player stands among the live players (read with its lease renewal)."""
        if (position, players) != (self.position, self.players):
            self.position, self.players = position, max(players, 1)
            self._usable.clear()

    def limits_set(self, limits: dict[int, int]) -> None:
        if any(self.limits.get(bot_id) != limit for bot_id, limit in limits.items()):
            self._usable.clear()
        self.limits.update(limits)

    def take(self, bot_ids: set[int]) -> bool:
        """Lease the slots of these bots that belong to this player and it lacks, in one batch.
        Returns whether any is still missing (held by a player that has not let it go yet)."""
        missing = {
            bot_id: [i for i in range(self.limits[bot_id]) if self.owns(i, self.limits[bot_id]) and i not in held]
            for bot_id in bot_ids
            if bot_id in self.limits
            for held in (self.held[bot_id],)
        }
        missing = {bot_id: indexes for bot_id, indexes in missing.items() if indexes}
        if not missing:
            return False
        won = pipeline_services.bot_slots_take(slots=missing, holder=self.holder, seconds=self.seconds)
        for bot_id, index in won:
            self.held[bot_id].add(index)
        self._usable.clear()
        return len(won) < sum(len(indexes) for indexes in missing.values())

    def give_back(self) -> None:
        """Release held slots that are no longer this player's, as far as its calls in flight allow
        (a call in flight keeps a slot until it ends)."""
        released: list[tuple[int, int]] = []
        for bot_id, held in self.held.items():
            foreign = sorted(i for i in held if not self.owns(i, self.limits.get(bot_id, 0)))
            spare = len(held) - self.busy[bot_id]
            for index in foreign[: max(spare, 0)]:
                held.discard(index)
                released.append((bot_id, index))
        if released:
            pipeline_services.bot_slots_release(holder=self.holder, slots=released)
            self._usable.clear()

    def renew(self) -> None:
        """Extend every slot lease; forget the ones lost (expired and taken by another player)."""
        still = pipeline_services.bot_slots_renew(holder=self.holder, seconds=self.seconds)
        self.held = defaultdict(set)
        for bot_id, index in still:
            self.held[bot_id].add(index)
        self._usable.clear()

    def release_all(self) -> None:
        pipeline_services.bot_slots_release(holder=self.holder)
        self.held.clear()
        self._usable.clear()
