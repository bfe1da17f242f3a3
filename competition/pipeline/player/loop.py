"""The round player's loop: plays every claimable conversation of the running rounds, many at once.

Why this shape. Bots answer in seconds and a round makes thousands of calls, so the number of
worker processes must not bound throughput. A player holds one of the `settings.ARENA_PLAYERS`
`PlayerLease` rows; it keeps up to the sum of its bots' slots of calls in flight on a thread pool
whose threads only make HTTP calls, while this thread owns every database write (one connection,
no lock contention on SQLite) and schedules the next call of each conversation as soon as its bot
has a free slot. When the bots are fast, one player's CPU bounds a round; then several players
(django-q2 tasks, on one machine or several) claim conversations of the same rounds, each bot's
`max_concurrency` shared between them through leased slots (slots.py).

Faults: the lease, the bots' slots and every conversation claim are renewed here every two
seconds; a killed player stops renewing, the reaper (competition/pipeline/reaper.py) hands its
conversations back as pending and starts a new player, which resumes each one from its last stored
turn, and its slots go to the live players once they expire. Turns are unique per (conversation,
index) and stored only under the claim, so a slot of a conversation is never stored twice.

The parts: claiming.py (what to claim, where each conversation resumes), dispatch.py (which call
goes next, the thread pool), slots.py (each bot's limit across players), circuits.py (bots'
circuit breakers), report.py (what a run did); the Turn rows are built and stored by
conversations/services.py.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from enum import Enum

from django.conf import settings
from django_q.tasks import async_task

from competition.models import Round, player_lease_names
from competition.pipeline import selectors as pipeline_selectors
from competition.pipeline import services as pipeline_services
from competition.pipeline.lifecycle import round_playing_settle
from competition.pipeline.player.circuits import BotCircuits, conversation_circuit_fail
from competition.pipeline.player.claiming import candidates_choose, conversations_claim_load, resume_point
from competition.pipeline.player.dispatch import Dispatcher, InHand, Playing
from competition.pipeline.player.report import PlayReport, worker_id_new
from competition.pipeline.player.slots import SlotShare
from config.database import CONNECTION_LOST, database_wait
from config.queue import task_path
from conversations import selectors as conversation_selectors
from conversations import services as conversation_services
from judging import tasks as judging_tasks
from teams.clients import BotCallError, BotReply

logger = logging.getLogger(__name__)


class Claim(Enum):
    """What a claim attempt found."""

    CLAIMED = "claimed"  # took conversations (or holds as many as it may)
    NONE = "none"  # nothing claimable is left
    NOT_MINE = "not mine"  # what is left needs bots of which this player owns no slot: others play it
    WAIT = "wait"  # its slots are still held by another player, or other players claimed first


class RoundPlayer:
    """Plays until no claimable conversation is left, the lease is lost, or `max_seconds` pass."""

    def __init__(
        self,
        *,
        worker_id: str | None = None,
        max_calls_in_flight: int | None = None,
        claim_seconds: int | None = None,
        lease_seconds: int | None = None,
        max_seconds: float | None = None,
    ) -> None:
        self.worker_id = worker_id or worker_id_new()
        self.max_calls_in_flight = max_calls_in_flight or settings.ARENA_PLAYER_MAX_CALLS
        self.claim_seconds = claim_seconds or settings.ARENA_CLAIM_SECONDS
        self.lease_seconds = lease_seconds or settings.ARENA_PLAYER_LEASE_SECONDS
        self.max_seconds = max_seconds or settings.ARENA_PLAYER_MAX_SECONDS
        self.report = PlayReport(worker_id=self.worker_id)
        self.playing: dict[int, Playing] = {}
        self.share = SlotShare(holder=self.worker_id, seconds=self.lease_seconds)
        self.in_hand = InHand()  # conversations held per bot, rounds' and practice matches' apart
        self.calls = Dispatcher(max_calls_in_flight=self.max_calls_in_flight, share=self.share, in_hand=self.in_hand)
        self.circuits = BotCircuits()
        self.round_status: dict[int, str] = {}
        self.rounds_touched: set[int] = set()
        self.completed_unjudged: list[int] = []
        self.claiming = True
        self.lease = ""

    # --- the loop ---------------------------------------------------------------------------------

    def run(self) -> PlayReport:
        started, cpu_started = time.monotonic(), time.process_time()
        lease = pipeline_services.player_lease_take(
            names=player_lease_names(settings.ARENA_PLAYERS), holder=self.worker_id, seconds=self.lease_seconds
        )
        if lease is None:
            logger.info("player %s: live players hold every lease", self.worker_id)
            return self.report
        self.lease = self.report.lease = lease
        self.report.acquired = True
        self.calls.start()
        last_housekeeping = last_claim = 0.0
        claim = Claim.CLAIMED
        try:
            while True:
                now = time.monotonic()
                if now - started > self.max_seconds:
                    self.claiming = False
                if now - last_housekeeping >= 2.0:
                    self._housekeeping()
                    last_housekeeping = now
                # Claiming is a query with joins: at most twice a second while conversations play,
                # or while it waits for its slots or lost a race for conversations to another player.
                if now - last_claim >= 0.5 or (not self.playing and claim is not Claim.WAIT):
                    last_claim = now
                    self._round_status_refresh()
                    self._position_refresh()
                    claim = self._claim_more() if self.claiming else Claim.NONE
                    if claim in (Claim.NONE, Claim.NOT_MINE) and not self.playing:
                        break
                self.calls.dispatch(
                    playing=self.playing,
                    round_status=self.round_status,
                    circuits=self.circuits,
                    fail_fast=self._fail_fast,
                )
                if not self.calls.in_flight():
                    time.sleep(0.05)  # only conversations of paused rounds, about to be released
                    continue
                batch = self.calls.finished(timeout=0.25)
                if batch:
                    self._settle_calls(batch)
        except CONNECTION_LOST as error:
            self._database_lost(error)
        finally:
            self._settle_calls(self.calls.stop())
            conversation_services.conversations_release(conversation_ids=list(self.playing), worker_id=self.worker_id)
            self._judging_enqueue()
            self._rounds_settle()
            self.share.release_all()
            pipeline_services.player_lease_release(name=self.lease, holder=self.worker_id)
            self.report.work_left = conversation_selectors.play_left()
            self.report.handed_over = not self.claiming
            self.report.seconds = time.monotonic() - started
            self.report.cpu_seconds = time.process_time() - cpu_started
        return self.report

    def _database_lost(self, error: Exception) -> None:
        """The database went away (a restart, a failover) and what this player holds in memory may
        be half written: drop it all, wait for the database, and let `run` hand every conversation
        back and a fresh player take over, resuming each from its last stored turn (a slot whose
        answer was not stored is asked again with the same delivery id). Without this the task died
        and the round waited for the lease and the claims to expire and for the reaper."""
        logger.warning("player %s lost the database (%s); handing its conversations back", self.worker_id, error)
        self.claiming = False
        self.calls.stop()
        self.calls.futures.clear()  # their answers are dropped with the rest
        database_wait()

    # --- claiming ---------------------------------------------------------------------------------

    def _claim_more(self) -> Claim:
        """Claim conversations whose bots have room for this player (after taking the bots' slots
        it owns and lacks)."""
        room = settings.ARENA_PLAYER_MAX_CONVERSATIONS - len(self.playing)
        candidates = (
            conversation_selectors.claim_candidates(exclude_ids=list(self.playing), limit=room * 4) if room > 0 else []
        )
        # The bots in hand too: a player that now owns more of their slots (another one ended) uses them.
        bot_ids = {row[1] for row in candidates} | {row[2] for row in candidates} | self.in_hand.bots()
        self.calls.bots_load(bot_ids)
        slots_missing = self.share.take(bot_ids)
        if room <= 0:
            return Claim.CLAIMED
        if not candidates:
            return Claim.NONE
        chosen = candidates_choose(
            candidates=candidates,
            claimed=self.in_hand.rounds,
            practice_claimed=self.in_hand.practice,
            room=room,
            slots=self.share.usable,
        )
        if not chosen:
            return Claim.WAIT if slots_missing else Claim.NOT_MINE
        loaded = conversations_claim_load(worker_id=self.worker_id, seconds=self.claim_seconds, conversation_ids=chosen)
        if not loaded:
            return Claim.WAIT
        conversations = [conversation for conversation, _ in loaded]
        self.calls.bots_load(
            {c.match.attacker_id for c in conversations} | {c.match.defender_id for c in conversations}
        )
        self.circuits.reload({c.match.round_id for c in conversations})
        for conversation, turns in loaded:
            match = conversation.match
            self.round_status[match.round_id] = match.round.status
            self.circuits.threshold_set(match.round_id, match.round.settings_in_force["circuit_breaker_failures"])
            resumed = resume_point(conversation=conversation, turns=turns)
            if resumed.failed_turn is not None:
                turn = resumed.failed_turn
                conversation_services.conversation_fail(
                    conversation_id=conversation.pk,
                    worker_id=self.worker_id,
                    side=turn.speaker,
                    kind=turn.status,
                    detail=turn.error_detail,
                )
                self._ended(match.round_id, failed=True)
                continue
            if resumed.state.finished:
                conversation_services.conversations_complete(
                    conversation_ids=[conversation.pk], worker_id=self.worker_id
                )
                self._ended(match.round_id, failed=False)
                continue
            playing = Playing(
                state=resumed.state,
                attacker_bot_id=match.attacker_id,
                defender_bot_id=match.defender_id,
                practice=match.round.kind == Round.Kind.PRACTICE_MATCH,
            )
            self.playing[conversation.pk] = playing
            self.in_hand.add(playing)
            self.calls.wait_for_slot(conversation.pk, playing)
        return Claim.CLAIMED

    # --- what calls brought -----------------------------------------------------------------------

    def _settle_calls(self, futures: list[Future]) -> None:
        """Store what finished calls brought, in one transaction for all the answers, then move on."""
        answered: list[tuple[int, Playing, BotReply]] = []
        for future in futures:
            conversation_id, bot_id, outcome = self.calls.settle(future)
            playing = self.playing[conversation_id]
            playing.in_flight = False
            if isinstance(outcome, BotCallError):
                self._settle_failure(conversation_id, playing, bot_id, outcome)
            else:
                answered.append((conversation_id, playing, outcome))
        if not answered:
            return
        stored = {
            turn.conversation_id
            for turn in conversation_services.turns_reply_record(
                worker_id=self.worker_id, replies=[(playing.state, reply) for _, playing, reply in answered]
            )
        }
        completed = []
        for conversation_id, playing, reply in answered:
            if conversation_id not in stored:
                self._drop(conversation_id)  # cancelled, or another worker owns it now
                continue
            state = playing.state
            self.report.turns += 1
            self.circuits.succeeded(state.round_id, playing.next_bot_id())
            state.apply(content=reply.content, end=reply.end)
            if playing.claim_lost:
                self._drop(conversation_id)
            elif state.finished:
                completed.append(conversation_id)
                self._drop(conversation_id)
                self._ended(state.round_id, failed=False)
            else:
                self._after_turn(conversation_id, playing)
        conversation_services.conversations_complete(conversation_ids=completed, worker_id=self.worker_id)
        self.completed_unjudged.extend(completed)

    def _settle_failure(self, conversation_id: int, playing: Playing, bot_id: int, error: BotCallError) -> None:
        state = playing.state
        side = state.next_side
        self.report.failed_calls += 1
        stored = conversation_services.turn_failure_record(worker_id=self.worker_id, state=state, error=error)
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
        failed = self.circuits.failed(state.round_id, bot_id, side, error)
        if failed is not None:
            self.report.conversations_failed += failed
            self.rounds_touched.add(state.round_id)

    def _after_turn(self, conversation_id: int, playing: Playing) -> None:
        status = self.round_status.get(playing.state.round_id)
        if not self.claiming:
            # Past its time limit (or its lease lost) the player hands conversations over between
            # turns, so it ends well inside the task timeout; the next player resumes them.
            conversation_services.conversations_release(conversation_ids=[conversation_id], worker_id=self.worker_id)
            self._drop(conversation_id)
        elif status == Round.Status.RUNNING:
            self.calls.wait_for_slot(conversation_id, playing)
        elif status == Round.Status.PAUSED:
            conversation_services.conversations_release(conversation_ids=[conversation_id], worker_id=self.worker_id)
            self._drop(conversation_id)
        else:
            self._drop(conversation_id)

    def _fail_fast(self, conversation_id: int, playing: Playing, bot_id: int) -> bool:
        """Fail a conversation whose bot's circuit is open; False when a re-run closed the circuit
        meanwhile: the player takes the round's circuits again and the conversation calls its bot."""
        state = playing.state
        if not conversation_circuit_fail(
            round_id=state.round_id,
            bot_id=bot_id,
            conversation_id=conversation_id,
            worker_id=self.worker_id,
            side=state.next_side,
        ):
            self.circuits.reload({state.round_id})
            return False
        self._drop(conversation_id)
        self._ended(state.round_id, failed=True)
        return True

    def _drop(self, conversation_id: int) -> None:
        playing = self.playing.pop(conversation_id, None)
        if playing is not None:
            self.in_hand.remove(playing)

    def _ended(self, round_id: int, *, failed: bool) -> None:
        if failed:
            self.report.conversations_failed += 1
        else:
            self.report.conversations_completed += 1
        self.rounds_touched.add(round_id)

    # --- housekeeping -----------------------------------------------------------------------------

    def _housekeeping(self) -> None:
        if not pipeline_services.player_lease_renew(name=self.lease, holder=self.worker_id, seconds=self.lease_seconds):
            logger.warning("player %s lost its lease; finishing the calls in flight", self.worker_id)
            self.claiming = False
        self.share.renew()
        held = conversation_services.conversations_claims_renew(
            conversation_ids=list(self.playing), worker_id=self.worker_id, seconds=self.claim_seconds
        )
        for conversation_id in set(self.playing) - held:
            if self.playing[conversation_id].in_flight:
                self.playing[conversation_id].claim_lost = True
            else:
                self._drop(conversation_id)  # cancelled, or taken over after an expiry
        self.calls.bots_load(set(self.calls.bots), refresh=True)
        self.circuits.reload(set(self.round_status))
        self._rounds_settle()
        self._judging_enqueue()

    def _position_refresh(self) -> None:
        """Follow players starting and ending within half a second: the slots this player owns
        depend on its position among the live players (slots.py); those no longer its own go back."""
        live = pipeline_selectors.player_leases_live()
        if self.lease in live:
            self.share.position_set(position=live.index(self.lease), players=len(live))
        self.share.give_back()

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
            # Sent at once, not on commit: the player writes in autocommit, so its turns are visible.
            async_task(task_path(judging_tasks.conversations_judge_task), self.completed_unjudged)
            self.completed_unjudged = []

    def _rounds_settle(self) -> None:
        for round_id in list(self.rounds_touched):
            round_playing_settle(round_id=round_id)
        self.rounds_touched.clear()
