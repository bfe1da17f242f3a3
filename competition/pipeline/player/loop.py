"""The round player: plays every claimable conversation of the running rounds, many at once.

Why this shape. Bots answer in seconds and a round makes thousands of calls, so the number of
worker processes must not bound throughput. One player holds the `PlayerLease`; it keeps up to
the sum of the bots' concurrency limits of calls in flight on a thread pool whose threads only make
HTTP calls, while this thread owns every database write (one connection, no lock contention on
SQLite) and schedules the next call of each conversation as soon as its bot has a free slot. With a
single player each bot's `max_concurrency` is exact across all workers.

Faults: the lease and every conversation claim are renewed here every few seconds; a killed player
stops renewing, the reaper (competition/pipeline/reaper.py) hands its conversations back as
pending and starts a new player, which resumes each one from its last stored turn. Turns are unique
per (conversation, index), so a resumed slot can never be stored twice.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import time
import uuid
from collections import Counter, defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from competition import services as competition_services
from competition.models import ROUND_PLAYER_LEASE, BotCircuit, Round
from competition.pipeline.lifecycle import round_playing_settle
from competition.pipeline.player.circuits import bot_circuit_open
from conversations import selectors as conversation_selectors
from conversations import services as conversation_services
from conversations.engine import ConversationState, state_build
from conversations.models import Conversation, Turn
from teams.clients import BotCallError, BotReply, bot_call
from teams.models import Bot, CallFailure

logger = logging.getLogger(__name__)


def worker_id_new() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class PlayReport:
    """What one player run did, for logs, the demo and the benchmark."""

    worker_id: str
    acquired: bool = False
    turns: int = 0
    failed_calls: int = 0
    conversations_completed: int = 0
    conversations_failed: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    work_left: bool = False


@dataclass
class Playing:
    """A claimed conversation in memory."""

    state: ConversationState
    attacker_bot_id: int
    defender_bot_id: int
    in_flight: bool = False
    claim_lost: bool = False  # cancelled or taken over while a call was in flight: stop after it

    def next_bot_id(self) -> int:
        return self.attacker_bot_id if self.state.next_side == "attacker" else self.defender_bot_id


@dataclass
class BotSlots:
    limit: int
    secrets: list[str] = field(default_factory=list)
    api_key: str = ""


class RoundPlayer:
    """Plays until no claimable conversation is left, the lease is lost, or `max_seconds` pass."""

    def __init__(
        self,
        *,
        worker_id: str | None = None,
        max_calls_in_flight: int | None = None,
        claim_seconds: int | None = None,
        lease_seconds: int = 30,
        max_seconds: float | None = None,
    ) -> None:
        self.worker_id = worker_id or worker_id_new()
        self.max_calls_in_flight = max_calls_in_flight or settings.ARENA_PLAYER_MAX_CALLS
        self.claim_seconds = claim_seconds or settings.ARENA_CLAIM_SECONDS
        self.lease_seconds = lease_seconds
        self.max_seconds = max_seconds or settings.ARENA_PLAYER_MAX_SECONDS
        self.report = PlayReport(worker_id=self.worker_id)
        self.playing: dict[int, Playing] = {}
        # Conversations waiting for a free slot, per bot they wait for.
        self.waiting: defaultdict[int, deque[int]] = defaultdict(deque)
        self.futures: dict[Future, int] = {}
        self.completions: queue.SimpleQueue[Future] = queue.SimpleQueue()
        self.bots: dict[int, BotSlots] = {}
        self.bot_busy: Counter[int] = Counter()
        self.bot_claimed: Counter[int] = Counter()
        self.failures_in_a_row: Counter[tuple[int, int]] = Counter()
        self.open_circuits: set[tuple[int, int]] = set()
        self.round_status: dict[int, str] = {}
        self.circuit_thresholds: dict[int, int] = {}
        self.rounds_touched: set[int] = set()
        self.completed_unjudged: list[int] = []
        self.claiming = True

    # --- the loop ---------------------------------------------------------------------------------

    def run(self) -> PlayReport:
        started, cpu_started = time.monotonic(), time.process_time()
        if not competition_services.player_lease_acquire(
            name=ROUND_PLAYER_LEASE, holder=self.worker_id, seconds=self.lease_seconds
        ):
            logger.info("player %s: another player holds the lease", self.worker_id)
            return self.report
        self.report.acquired = True
        executor = ThreadPoolExecutor(max_workers=self.max_calls_in_flight, thread_name_prefix="arena-call")
        last_housekeeping = last_claim = 0.0
        try:
            while True:
                now = time.monotonic()
                if now - started > self.max_seconds:
                    self.claiming = False
                if now - last_housekeeping >= 2.0:
                    self._housekeeping()
                    last_housekeeping = now
                # Claiming is a query with joins: at most twice a second while conversations play.
                if now - last_claim >= 0.5 or not self.playing:
                    last_claim = now
                    self._round_status_refresh()
                    claimed = self.claiming and self._claim_more()
                    if not claimed and not self.playing:
                        break
                self._dispatch(executor)
                if not self.futures:
                    time.sleep(0.05)  # only conversations of paused rounds, about to be released
                    continue
                try:
                    batch = [self.completions.get(timeout=0.25)]
                except queue.Empty:
                    continue
                while True:
                    try:
                        batch.append(self.completions.get_nowait())
                    except queue.Empty:
                        break
                self._settle_calls(batch)
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            self._settle_calls([future for future in self.futures if not future.cancelled()])
            conversation_services.conversations_release(conversation_ids=list(self.playing), worker_id=self.worker_id)
            self._judging_enqueue()
            self._rounds_settle()
            competition_services.player_lease_release(name=ROUND_PLAYER_LEASE, holder=self.worker_id)
            self.report.work_left = self._work_left()
            self.report.seconds = time.monotonic() - started
            self.report.cpu_seconds = time.process_time() - cpu_started
        return self.report

    # --- claiming ---------------------------------------------------------------------------------

    def _claim_more(self) -> bool:
        """Claim conversations whose bots have room; return whether any were claimed."""
        room = settings.ARENA_PLAYER_MAX_CONVERSATIONS - len(self.playing)
        if room <= 0:
            return True
        now = timezone.now()
        candidates = (
            Conversation.objects.filter(match__round__status=Round.Status.RUNNING)
            .filter(
                Q(status=Conversation.Status.PENDING) | Q(status=Conversation.Status.RUNNING, claim_expires_at__lt=now)
            )
            .exclude(pk__in=list(self.playing))
            .order_by("sequence", "match_id")
            .values_list(
                "pk",
                "match__attacker_id",
                "match__defender_id",
                "match__attacker_snapshot__max_concurrency",
                "match__defender_snapshot__max_concurrency",
            )[: room * 4]
        )
        chosen: list[int] = []
        budget = Counter(self.bot_claimed)
        for pk, attacker_id, defender_id, attacker_limit, defender_limit in candidates:
            # Enough conversations per bot to keep its slots busy while the others wait for the other
            # side (5x its limit measured best: 3x left slots idle, ratio 1.21 -> 1.15 on PostgreSQL),
            # and no more, so one bot's backlog cannot crowd out the others.
            if budget[attacker_id] >= 5 * (attacker_limit or 1) or budget[defender_id] >= 5 * (defender_limit or 1):
                continue
            budget[attacker_id] += 1
            budget[defender_id] += 1
            chosen.append(pk)
            if len(chosen) >= room:
                break
        if not chosen:
            return False
        won = conversation_services.conversations_claim(
            conversation_ids=chosen, worker_id=self.worker_id, seconds=self.claim_seconds
        )
        self._load(won)
        return bool(won)

    def _load(self, conversation_ids: list[int]) -> None:
        if not conversation_ids:
            return
        conversations = list(
            Conversation.objects.filter(pk__in=conversation_ids).select_related("match__round__competition")
        )
        turns_by_conversation: dict[int, list[Turn]] = {}
        for turn in Turn.objects.filter(conversation_id__in=conversation_ids).order_by("conversation_id", "index"):
            turns_by_conversation.setdefault(turn.conversation_id, []).append(turn)
        self._bots_load({c.match.attacker_id for c in conversations} | {c.match.defender_id for c in conversations})
        self._circuits_load({c.match.round_id for c in conversations})
        for conversation in conversations:
            match = conversation.match
            self.round_status[match.round_id] = match.round.status
            self.circuit_thresholds[match.round_id] = match.round.settings_in_force["circuit_breaker_failures"]
            turns = turns_by_conversation.get(conversation.pk, [])
            failed = [turn for turn in turns if not turn.ok]
            if failed:
                # The worker died between storing a failed turn and failing the conversation.
                turn = failed[0]
                conversation_services.conversation_fail(
                    conversation_id=conversation.pk,
                    worker_id=self.worker_id,
                    side=turn.speaker,
                    kind=turn.status,
                    detail=turn.error_detail,
                )
                self._ended(match.round_id, failed=True)
                continue
            state = state_build(conversation=conversation, turns=turns)
            if state.finished:
                conversation_services.conversations_complete(
                    conversation_ids=[conversation.pk], worker_id=self.worker_id
                )
                self._ended(match.round_id, failed=False)
                continue
            self.playing[conversation.pk] = Playing(
                state=state, attacker_bot_id=match.attacker_id, defender_bot_id=match.defender_id
            )
            self.bot_claimed[match.attacker_id] += 1
            self.bot_claimed[match.defender_id] += 1
            self._wait_for_slot(conversation.pk)

    def _bots_load(self, bot_ids: set[int], *, refresh: bool = False) -> None:
        """Read the bots' secrets, API keys and limits; with `refresh`, again for the known ones, so
        a secret rotation or a new API key reaches a player that is already running."""
        wanted = bot_ids if refresh else bot_ids - set(self.bots)
        for pk, secret, previous, api_key, limit in Bot.objects.filter(pk__in=wanted).values_list(
            "pk", "secret", "previous_secret", "api_key", "max_concurrency"
        ):
            self.bots[pk] = BotSlots(limit=limit, secrets=[s for s in (secret, previous) if s], api_key=api_key)

    def _circuits_load(self, round_ids: set[int]) -> None:
        """Take the rounds' open circuits from the database, where a re-run closes them."""
        opened = set(
            BotCircuit.objects.filter(round_id__in=round_ids, opened_at__isnull=False).values_list("round_id", "bot_id")
        )
        for key in {key for key in self.open_circuits if key[0] in round_ids} - opened:
            self.open_circuits.discard(key)
            self.failures_in_a_row[key] = 0  # closed by a re-run: the bot starts with a clean slate

        self.open_circuits |= opened

    # --- calling ----------------------------------------------------------------------------------

    def _wait_for_slot(self, conversation_id: int) -> None:
        self.waiting[self.playing[conversation_id].next_bot_id()].append(conversation_id)

    def _dispatch(self, executor: ThreadPoolExecutor) -> None:
        """Start the next call of waiting conversations, for every bot with a free slot."""
        for bot_id, waiting in self.waiting.items():
            slots = self.bots[bot_id]
            held = []  # conversations of paused rounds: they keep their place until released
            while waiting and self.bot_busy[bot_id] < slots.limit and len(self.futures) < self.max_calls_in_flight:
                conversation_id = waiting.popleft()
                playing = self.playing.get(conversation_id)
                if playing is None or playing.in_flight or playing.next_bot_id() != bot_id:
                    continue  # a stale entry: dropped, or released and claimed again since
                state = playing.state
                if self.round_status.get(state.round_id) != Round.Status.RUNNING:
                    held.append(conversation_id)
                    continue
                if (state.round_id, bot_id) in self.open_circuits:
                    self._fail_fast(conversation_id, playing, bot_id)
                    continue
                # The frozen snapshot's limit is what the round promised the team; the live row may be lower.
                if self.bot_busy[bot_id] >= (state.next_bot().get("max_concurrency") or slots.limit):
                    held.append(conversation_id)
                    break
                self.bot_busy[bot_id] += 1
                playing.in_flight = True
                future = executor.submit(
                    _call,
                    snapshot=state.next_bot(),
                    secrets=slots.secrets,
                    api_key=slots.api_key,
                    request=state.next_request(),
                    limits=state.limits,
                    delivery_id=state.delivery_id(),
                )
                self.futures[future] = conversation_id
                future.add_done_callback(self.completions.put)
            waiting.extendleft(reversed(held))

    def _settle_calls(self, futures: list[Future]) -> None:
        """Store what finished calls brought, in one transaction for all the answers, then move on."""
        answered: list[tuple[int, Playing, BotReply]] = []
        for future in futures:
            conversation_id = self.futures.pop(future)
            playing = self.playing[conversation_id]
            playing.in_flight = False
            bot_id = playing.next_bot_id()
            self.bot_busy[bot_id] -= 1
            outcome: BotReply | BotCallError = future.result()
            if isinstance(outcome, BotCallError):
                self._settle_failure(conversation_id, playing, bot_id, outcome)
            else:
                answered.append((conversation_id, playing, outcome))
        if not answered:
            return
        turns = []
        for conversation_id, playing, reply in answered:
            state = playing.state
            turns.append(
                Turn(
                    conversation_id=conversation_id,
                    index=state.next_index,
                    speaker=state.next_side,
                    content=reply.content,
                    ends_conversation=reply.end and state.next_side == "attacker",
                    latency_ms=reply.latency_ms,
                    attempts=reply.attempts,
                    delivery_id=state.delivery_id(),
                )
            )
        stored = {turn.conversation_id for turn in conversation_services.turns_record(turns=turns)}
        completed = []
        for (conversation_id, playing, reply), turn in zip(answered, turns, strict=True):
            if conversation_id not in stored:
                self._drop(conversation_id)  # another worker owns it now
                continue
            state = playing.state
            self.report.turns += 1
            self.failures_in_a_row[(state.round_id, playing.next_bot_id())] = 0
            state.apply(content=reply.content, end=turn.ends_conversation)
            if playing.claim_lost:
                self._drop(conversation_id)
            elif state.finished:
                completed.append(conversation_id)
                self._drop(conversation_id)
                self._ended(state.round_id, failed=False)
            else:
                self._after_turn(conversation_id, state)
        conversation_services.conversations_complete(conversation_ids=completed, worker_id=self.worker_id)
        self.completed_unjudged.extend(completed)

    def _settle_failure(self, conversation_id: int, playing: Playing, bot_id: int, error: BotCallError) -> None:
        state = playing.state
        side = state.next_side
        self.report.failed_calls += 1
        stored = conversation_services.turn_record(
            conversation_id=conversation_id,
            index=state.next_index,
            speaker=side,
            status=error.kind,
            error_detail=error.detail,
            latency_ms=error.latency_ms,
            attempts=error.attempts,
            delivery_id=state.delivery_id(),
        )
        if stored is not None:
            conversation_services.conversation_fail(
                conversation_id=conversation_id,
                worker_id=self.worker_id,
                side=side,
                kind=error.kind,
                detail=error.detail,
            )
            self._ended(state.round_id, failed=True)
        self._drop(conversation_id)
        self._count_failure(state.round_id, bot_id, side, error)

    def _after_turn(self, conversation_id: int, state: ConversationState) -> None:
        status = self.round_status.get(state.round_id)
        if not self.claiming:
            # Past its time limit (or its lease lost) the player hands conversations over between
            # turns, so it ends well inside the task timeout; the next player resumes them.
            conversation_services.conversations_release(conversation_ids=[conversation_id], worker_id=self.worker_id)
            self._drop(conversation_id)
        elif status == Round.Status.RUNNING:
            self._wait_for_slot(conversation_id)
        elif status == Round.Status.PAUSED:
            conversation_services.conversations_release(conversation_ids=[conversation_id], worker_id=self.worker_id)
            self._drop(conversation_id)
        else:
            self._drop(conversation_id)

    def _count_failure(self, round_id: int, bot_id: int, side: str, error: BotCallError) -> None:
        key = (round_id, bot_id)
        self.failures_in_a_row[key] += 1
        if self.failures_in_a_row[key] < self.circuit_thresholds[round_id] or key in self.open_circuits:
            return
        failed = bot_circuit_open(
            round_id=round_id,
            bot_id=bot_id,
            side=side,
            failures=self.failures_in_a_row[key],
            last_failure=f"{error.kind}: {error.detail}",
        )
        self.open_circuits.add(key)
        self.report.conversations_failed += failed
        self.rounds_touched.add(round_id)

    def _fail_fast(self, conversation_id: int, playing: Playing, bot_id: int) -> None:
        state = playing.state
        reason = (
            BotCircuit.objects.filter(round_id=state.round_id, bot_id=bot_id).values_list("reason", flat=True).first()
        )
        conversation_services.conversation_fail(
            conversation_id=conversation_id,
            worker_id=self.worker_id,
            side=state.next_side,
            kind=CallFailure.CIRCUIT_OPEN,
            detail=reason or "the bot's circuit is open",
        )
        self._drop(conversation_id)
        self._ended(state.round_id, failed=True)

    def _drop(self, conversation_id: int) -> None:
        playing = self.playing.pop(conversation_id, None)
        if playing is not None:
            self.bot_claimed[playing.attacker_bot_id] -= 1
            self.bot_claimed[playing.defender_bot_id] -= 1

    def _ended(self, round_id: int, *, failed: bool) -> None:
        if failed:
            self.report.conversations_failed += 1
        else:
            self.report.conversations_completed += 1
        self.rounds_touched.add(round_id)

    # --- housekeeping -----------------------------------------------------------------------------

    def _housekeeping(self) -> None:
        if not competition_services.player_lease_renew(
            name=ROUND_PLAYER_LEASE, holder=self.worker_id, seconds=self.lease_seconds
        ):
            logger.warning("player %s lost its lease; finishing the calls in flight", self.worker_id)
            self.claiming = False
        held = conversation_services.conversations_claims_renew(
            conversation_ids=list(self.playing), worker_id=self.worker_id, seconds=self.claim_seconds
        )
        for conversation_id in set(self.playing) - held:
            if self.playing[conversation_id].in_flight:
                self.playing[conversation_id].claim_lost = True
            else:
                self._drop(conversation_id)  # cancelled, or taken over after an expiry
        self._bots_load(set(self.bots), refresh=True)
        self._circuits_load(set(self.round_status))
        self._rounds_settle()
        self._judging_enqueue()

    def _round_status_refresh(self) -> None:
        """Follow pauses and cancellations within half a second: conversations of a round that
        stopped are handed back as soon as no call of theirs is in flight."""
        if self.round_status:
            self.round_status.update(Round.objects.filter(pk__in=list(self.round_status)).values_list("pk", "status"))
        stopped = [
            pk
            for pk, p in self.playing.items()
            if not p.in_flight and self.round_status.get(p.state.round_id) != Round.Status.RUNNING
        ]
        if stopped:
            conversation_services.conversations_release(conversation_ids=stopped, worker_id=self.worker_id)
            for conversation_id in stopped:
                self._drop(conversation_id)

    def _judging_enqueue(self) -> None:
        """Hand the conversations completed since the last tick to the judges, as one batch task."""
        if self.completed_unjudged:
            async_task("judging.tasks.conversations_judge_task", self.completed_unjudged)
            self.completed_unjudged = []

    def _rounds_settle(self) -> None:
        for round_id in list(self.rounds_touched):
            round_playing_settle(round_id=round_id)
        self.rounds_touched.clear()

    def _work_left(self) -> bool:
        return conversation_selectors.play_left()


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
