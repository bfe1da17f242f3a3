"""Dispatch of calls: which waiting conversation calls its bot next, on a pool of threads that only
make HTTP calls; their outcomes come back as values to the player's thread, which owns every
database write."""

from __future__ import annotations

import logging
import queue
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from competition.models import Round
from competition.pipeline.player.circuits import BotCircuits
from competition.pipeline.player.slots import SlotShare
from conversations.engine import ConversationState
from teams.clients import BotCallError, BotReply, bot_call
from teams.models import Bot, CallFailure

logger = logging.getLogger(__name__)


@dataclass
class Playing:
    """A claimed conversation in memory."""

    state: ConversationState
    attacker_bot_id: int
    defender_bot_id: int
    in_flight: bool = False
    claim_lost: bool = False  # cancelled or taken over while a call was in flight: stop after it
    practice: bool = False  # a practice match's (Round.Kind.PRACTICE_MATCH): its calls go after rounds'

    def next_bot_id(self) -> int:
        return self.attacker_bot_id if self.state.next_side == "attacker" else self.defender_bot_id


class InHand:
    """How many conversations this player holds per bot, rounds' and practice matches' apart."""

    def __init__(self) -> None:
        self.rounds: Counter[int] = Counter()
        self.practice: Counter[int] = Counter()

    def add(self, playing: Playing) -> None:
        held = self.practice if playing.practice else self.rounds
        held[playing.attacker_bot_id] += 1
        held[playing.defender_bot_id] += 1

    def remove(self, playing: Playing) -> None:
        held = self.practice if playing.practice else self.rounds
        held[playing.attacker_bot_id] -= 1
        held[playing.defender_bot_id] -= 1

    def bots(self) -> set[int]:
        return set(+self.rounds) | set(+self.practice)


@dataclass
class BotSlots:
    limit: int
    secrets: list[str] = field(default_factory=list)
    api_key: str = ""


class Dispatcher:
    """Conversations waiting for a free slot of their bot, the calls in flight, and their outcomes."""

    def __init__(self, *, max_calls_in_flight: int, share: SlotShare, in_hand: InHand) -> None:
        self.max_calls_in_flight = max_calls_in_flight
        self.share = share  # the bots' slots this player may use, and its calls in flight per bot
        self.in_hand = in_hand
        # Conversations waiting for a free slot, per bot they wait for: rounds' and practice matches'.
        self.waiting: defaultdict[int, deque[int]] = defaultdict(deque)
        self.waiting_practice: defaultdict[int, deque[int]] = defaultdict(deque)
        self.futures: dict[Future, tuple[int, int]] = {}  # -> (conversation id, bot id)
        self.completions: queue.SimpleQueue[Future] = queue.SimpleQueue()
        self.bots: dict[int, BotSlots] = {}
        self.executor: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=self.max_calls_in_flight, thread_name_prefix="arena-call")

    def stop(self) -> list[Future]:
        """Wait for the calls in flight (those not started are cancelled); return the finished ones."""
        self.executor.shutdown(wait=True, cancel_futures=True)
        return [future for future in self.futures if not future.cancelled()]

    def bots_load(self, bot_ids: set[int], *, refresh: bool = False) -> None:
        """Read the bots' secrets, API keys and limits; with `refresh`, again for the known ones, so
        a secret rotation or a new API key reaches a player that is already running."""
        wanted = bot_ids if refresh else bot_ids - set(self.bots)
        for pk, secret, previous, api_key, limit in Bot.objects.filter(pk__in=wanted).values_list(
            "pk", "secret", "previous_secret", "api_key", "max_concurrency"
        ):
            self.bots[pk] = BotSlots(limit=limit, secrets=[s for s in (secret, previous) if s], api_key=api_key)
        self.share.limits_set({pk: slots.limit for pk, slots in self.bots.items() if pk in wanted})

    def wait_for_slot(self, conversation_id: int, playing: Playing) -> None:
        (self.waiting_practice if playing.practice else self.waiting)[playing.next_bot_id()].append(conversation_id)

    def practice_room(self, bot_id: int) -> bool:
        """Whether a practice call to the bot may start now: a free slot, and no round's conversation
        of the bot in this player's hand (issue 25: "a round's calls always go first within a bot's
        concurrency limit"). Strict, so a round's call never finds its bot's slot taken by a practice
        call that started while the round's conversation was in hand; a round's makespan with five
        practice matches beside it: +2.9% (bench/README.md, "Practice beside a round")."""
        return self.in_hand.rounds[bot_id] == 0 and self.share.has_room(bot_id)

    def dispatch(
        self,
        *,
        playing: dict[int, Playing],
        round_status: dict[int, str],
        circuits: BotCircuits,
        fail_fast: Callable[[int, Playing, int], bool],
    ) -> None:
        """Start the next call of waiting conversations, for every bot with a free slot: every bot's
        rounds' calls first, then practice matches' where `practice_room` allows. A
        conversation whose bot's circuit is open goes to `fail_fast` instead, and calls after all
        when that says the circuit was closed meanwhile (returns False)."""
        context = {"playing": playing, "round_status": round_status, "circuits": circuits, "fail_fast": fail_fast}
        # Every bot's rounds' calls before any practice call: the calls in flight are capped as a whole.
        for bot_id, waiting in self.waiting.items():
            self._start_calls(bot_id, waiting, room=self.share.has_room, **context)
        for bot_id, waiting in self.waiting_practice.items():
            self._start_calls(bot_id, waiting, room=self.practice_room, **context)

    def _start_calls(
        self,
        bot_id: int,
        waiting: deque[int],
        *,
        room: Callable[[int], bool],
        playing: dict[int, Playing],
        round_status: dict[int, str],
        circuits: BotCircuits,
        fail_fast: Callable[[int, Playing, int], bool],
    ) -> None:
        """Start calls of the conversations waiting for the bot while `room(bot id)` says so."""
        share = self.share
        slots = self.bots[bot_id]
        held = []  # conversations of paused rounds: they keep their place until released
        while waiting and room(bot_id) and len(self.futures) < self.max_calls_in_flight:
            conversation_id = waiting.popleft()
            one = playing.get(conversation_id)
            if one is None or one.in_flight or one.next_bot_id() != bot_id:
                continue  # a stale entry: dropped, or released and claimed again since
            state = one.state
            if round_status.get(state.round_id) != Round.Status.RUNNING:
                held.append(conversation_id)
                continue
            if circuits.is_open(state.round_id, bot_id) and fail_fast(conversation_id, one, bot_id):
                continue
            # The frozen snapshot's limit is what the round promised the team; the live row may be
            # lower. Either way only this player's own slots below it count (slots.py).
            if not share.has_room(bot_id, state.next_bot().get("max_concurrency")):
                held.append(conversation_id)
                break
            share.busy[bot_id] += 1
            one.in_flight = True
            future = self.executor.submit(
                _call,
                snapshot=state.next_bot(),
                secrets=slots.secrets,
                api_key=slots.api_key,
                request=state.next_request(),
                limits=state.limits,
                delivery_id=state.delivery_id(),
            )
            self.futures[future] = (conversation_id, bot_id)
            future.add_done_callback(self.completions.put)
        waiting.extendleft(reversed(held))

    def in_flight(self) -> bool:
        return bool(self.futures)

    def finished(self, *, timeout: float) -> list[Future]:
        """The calls that finished: waits up to `timeout` for the first, then takes all that are done."""
        try:
            batch = [self.completions.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                batch.append(self.completions.get_nowait())
            except queue.Empty:
                return batch

    def settle(self, future: Future) -> tuple[int, int, BotReply | BotCallError]:
        """Free the finished call's slot: (conversation id, bot id, what the call brought)."""
        conversation_id, bot_id = self.futures.pop(future)
        self.share.busy[bot_id] -= 1
        return conversation_id, bot_id, future.result()


def _call(**kwargs) -> BotReply | BotCallError:
    """Run on a pool thread: the HTTP call only, never the database. Failures come back as values."""
    try:
        return bot_call(**kwargs)
    except BotCallError as error:
        return error
    except Exception as error:
        # A fault of ours, not the bot's: fail this call visibly (permanent, so it is not retried
        # in a loop) instead of crashing the player, which the reaper would restart into the same fault.
        logger.exception("the call to %s failed inside the platform", kwargs["snapshot"].get("url"))
        return BotCallError(
            CallFailure.CONNECTION,
            f"the platform could not make this call ({type(error).__name__}: {error}); the details are in its logs",
            latency_ms=0,
            attempts=1,
            permanent=True,
        )
