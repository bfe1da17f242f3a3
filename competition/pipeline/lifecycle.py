"""Every move of a Round between its statuses, and nothing else writes `Round.status`.

draft -> scheduled -> running -> judging -> scored -> published, and paused, cancelled:

- round_schedule (draft/scheduled -> scheduled), round_start (draft/scheduled -> running);
- round_pause (running -> paused), round_resume (paused -> running);
- round_cancel (anything not yet scored -> cancelled);
- round_rerun_failed (judging or scored -> running when failed conversations are played again: the
  whole round's or chosen ones; a scored round is judged and scored again, its standings revised);
- round_playing_settle (running -> judging, once no conversation is left to play);
- round_judging_settle (judging -> scored, once judging reports the round's labels complete);
- round_publish (scored -> published);
- round_imported_create (a new round straight into judging: conversations imported from a dataset);
- round_labels_changed: what judging calls whenever labels of a round's replies were written, with
  whether they are now complete; it settles a judging round and is the one place re-scoring of a
  scored or published round hooks in;
- round_inputs_changed: conversations were let into or left out of what their rounds count
  (conversations_moderate); judging is queued for them and the round settled or scored again.

Judging sits above the lifecycle (docs/architecture.md) and is never imported here: judging reports
(round_labels_changed, with whether labels are complete), the lifecycle decides, and the judging work
the lifecycle wants is asked for through competition/pipeline/signals.py (round_judging_wanted,
round_inputs_judging_wanted), which judging receives.

Every transition is a conditional update on the current status, so a double click, a repeated
admin action or a task that runs twice moves a round at most once. A conditional ``.update()`` is not
seen by django-simple-history, so every move also writes the round's historical record itself
(``round_history_note``): the admin's History lists each move, with who made it when a request did
(simple_history's request middleware) and the reason, e.g. "Round action: published".
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from competition.entries.selectors import bots_entered
from competition.models import BotCircuit, Match, Round
from competition.pipeline import signals
from competition.pipeline.probes import round_probes_create
from competition.signals import round_published, round_started, signal_on_commit
from conversations import services as conversation_services
from conversations.models import Conversation
from conversations.moderation import conversation_moderate
from conversations.services import ConversationNew
from teams.models import Bot, Side

logger = logging.getLogger(__name__)

Status = Round.Status

# The statuses each organizer's move starts from. The moves below refuse any other; the buttons on
# a round's admin page read the same tuples, so a button is shown exactly when its move may happen.
START_FROM = (Status.DRAFT, Status.SCHEDULED)
PAUSE_FROM = (Status.RUNNING,)
RESUME_FROM = (Status.PAUSED,)
CANCEL_FROM = (Status.DRAFT, Status.SCHEDULED, Status.RUNNING, Status.PAUSED, Status.JUDGING)
PUBLISH_FROM = (Status.SCORED,)


class RoundTransitionError(Exception):
    """A lifecycle step that cannot happen now; the message is written for organizers."""


def player_enqueue(*, count: int | None = None) -> None:
    """Ask for `count` round players (default `settings.ARENA_PLAYERS`); one that finds every
    player lease held by a live player leaves at once (see PlayerLease)."""
    signals.ask(signals.players_wanted, count=settings.ARENA_PLAYERS if count is None else count)


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
    are entered in the round's competition (approved entries, active bots: competition/entries).
    Goals rotate over categories and targets per pair, offset by the bots' positions, so each
    attacker and each defender sees the categories in equal shares. Every defender also gets one
    benign probe conversation per benign prompt of the competition (competition/pipeline/probes.py).
    """
    round_ = Round.objects.select_for_update().select_related("competition").get(pk=round_id)
    if round_.is_practice_match:
        raise RoundTransitionError(f"{round_} is a practice match; it started when its team asked for it")
    if round_.status not in START_FROM:
        raise RoundTransitionError(
            f"{round_} is {round_.get_status_display().lower()}; only draft or scheduled rounds start"
        )
    competition_id = round_.competition_id
    attackers = list(bots_entered(competition_id=competition_id, side=Side.ATTACKER))
    defenders = list(bots_entered(competition_id=competition_id, side=Side.DEFENDER))
    if not attackers or not defenders:
        raise RoundTransitionError(
            f"{round_} needs at least one active attacker bot and one active defender bot entered in "
            f"{round_.competition} by an approved entry (found {len(attackers)} and {len(defenders)})"
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
                ConversationNew(match_id=match.pk, sequence=sequence, goal_category=category, goal_target=target)
            )
    conversation_services.conversations_create(conversations=conversations)
    probes = round_probes_create(round_=round_, defenders=defenders, prompts=settings["benign_prompts"])
    round_.frozen_settings = settings
    round_.status = Status.RUNNING
    round_.started_at = timezone.now()
    round_._change_reason = "Round action: started"
    round_.save(update_fields=["frozen_settings", "status", "started_at"])
    logger.info(
        "%s started: %d matches, %d conversations, %d benign probes", round_, len(matches), len(conversations), probes
    )
    player_enqueue()
    signal_on_commit(round_started, round_id=round_.pk)
    return round_


def round_history_note(*, round_id: int, reason: str) -> None:
    """Write the round's historical record as it is now, with ``reason`` (e.g. "Round action: published").

    The user is the one of the current request when there is one (HistoryRequestMiddleware), else
    none: the admin's History then says the platform made the move.
    """
    round_ = Round.objects.get(pk=round_id)
    Round.history.bulk_history_create([round_], update=True, default_change_reason=reason)


def _move(*, round_id: int, from_statuses: tuple[str, ...], to: str, verb: str, done: str, **fields) -> Round:
    updated = Round.objects.filter(pk=round_id, status__in=from_statuses).update(status=to, **fields)
    round_ = Round.objects.select_related("competition").get(pk=round_id)
    if not updated:
        allowed = " or ".join(Status(s).label.lower() for s in from_statuses)
        raise RoundTransitionError(f"{round_} is {round_.get_status_display().lower()}; only {allowed} rounds {verb}")
    Round.history.bulk_history_create([round_], update=True, default_change_reason=f"Round action: {done}")
    return round_


def round_schedule(*, round_id: int, at) -> Round:
    """Start the round by itself at `at` (the reaper starts due rounds)."""
    return _move(
        round_id=round_id,
        from_statuses=(Status.DRAFT, Status.SCHEDULED),
        to=Status.SCHEDULED,
        verb="can be scheduled",
        done="scheduled",
        scheduled_at=at,
    )


def round_pause(*, round_id: int) -> Round:
    """Stop making calls; conversations in progress stop after their current call, losing nothing."""
    return _move(round_id=round_id, from_statuses=PAUSE_FROM, to=Status.PAUSED, verb="pause", done="paused")


@transaction.atomic
def round_resume(*, round_id: int) -> Round:
    """Continue a paused round; every conversation resumes from its last stored turn."""
    round_ = _move(round_id=round_id, from_statuses=RESUME_FROM, to=Status.RUNNING, verb="resume", done="resumed")
    player_enqueue()
    return round_


@transaction.atomic
def round_cancel(*, round_id: int) -> Round:
    """Cancel a round that has not been scored; its unfinished conversations are cancelled, played turns kept."""
    round_ = _move(
        round_id=round_id,
        from_statuses=CANCEL_FROM,
        to=Status.CANCELLED,
        verb="can be cancelled",
        done="cancelled",
    )
    conversation_services.conversations_cancel(conversations=Conversation.objects.filter(match__round_id=round_id))
    return round_


@transaction.atomic
def round_rerun_failed(*, round_id: int, conversation_ids: list[int] | None = None) -> int:
    """Play failed conversations again from their last good turn: every failed one of the round, or
    those of `conversation_ids` (others of the list are left alone). Closes the open circuits of
    their bots, so the re-run calls them. Returns how many conversations were put back.

    Allowed while the round is running, paused, judging or scored (Round.RERUN_STATUSES); a judging
    or scored round goes back to running, then is judged and scored again when playing settles, so
    its standings are revised (competition/pipeline/scoring.py; a scored round's standings are a
    preview, so no StandingRevision is written). Raises RoundTransitionError in any other status,
    saying what can be done instead (Round.rerun_refusal).
    """
    round_ = Round.objects.select_for_update().select_related("competition").get(pk=round_id)
    refusal = round_.rerun_refusal()
    if refusal:
        raise RoundTransitionError(refusal)
    failed = Conversation.objects.filter(match__round_id=round_id, status=Conversation.Status.FAILED)
    if conversation_ids is not None:
        failed = failed.filter(pk__in=conversation_ids)
    bot_ids = set()
    for attacker_id, defender_id in failed.values_list("match__attacker_id", "match__defender_id"):
        bot_ids |= {attacker_id, defender_id}
    count = conversation_services.conversations_rerun(conversations=failed)
    if count:
        BotCircuit.objects.filter(round_id=round_id, bot_id__in=bot_ids).delete()
        back = round_.status in (Status.JUDGING, Status.SCORED) and Round.objects.filter(
            pk=round_id, status=round_.status
        ).update(status=Status.RUNNING, playing_finished_at=None, judging_finished_at=None)
        if back:
            round_history_note(
                round_id=round_id,
                reason=f"Round action: {count} failed conversation(s) re-run; playing again (was {round_.status})",
            )
        if round_.status != Status.PAUSED:
            player_enqueue()
    return count


@dataclass
class RerunReport:
    """What conversations_rerun_failed did: conversations selected, put back to play, and refused
    (with each refusing round's reason); the rest had not failed."""

    selected: int = 0
    rerun: int = 0
    refused_conversations: int = 0
    refused: list[str] = field(default_factory=list)

    @property
    def not_failed(self) -> int:
        return self.selected - self.rerun - self.refused_conversations


def conversations_rerun_failed(*, conversation_ids: list[int]) -> RerunReport:
    """Re-run these conversations, round by round, through round_rerun_failed: those that failed are
    played again; the others are counted. A round that refuses is named with its reason."""
    by_round: dict[int, list[int]] = {}
    for pk, round_id in Conversation.objects.filter(pk__in=conversation_ids).values_list("pk", "match__round_id"):
        by_round.setdefault(round_id, []).append(pk)
    report = RerunReport(selected=sum(len(ids) for ids in by_round.values()))
    for round_id, ids in sorted(by_round.items()):
        try:
            report.rerun += round_rerun_failed(round_id=round_id, conversation_ids=ids)
        except RoundTransitionError as refusal:
            report.refused.append(str(refusal))
            report.refused_conversations += len(ids)
    return report


def round_playing_settle(*, round_id: int) -> bool:
    """Move a running round to judging once none of its conversations is left to play."""
    unfinished = Conversation.objects.unfinished().filter(match__round_id=round_id)
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
        round_history_note(round_id=round_id, reason="Playing finished: judging starts")
        logger.info("round %s finished playing; judging starts", round_id)
        signals.ask(signals.round_judging_wanted, round_id=round_id)
    return True


def round_publish(*, round_id: int) -> Round:
    """Show a scored round's standings to the teams (never a practice match: it stays private)."""
    if Round.objects.filter(pk=round_id, kind=Round.Kind.PRACTICE_MATCH).exists():
        raise RoundTransitionError("A practice match is private to its team and is never published")
    round_ = _move(
        round_id=round_id,
        from_statuses=PUBLISH_FROM,
        to=Status.PUBLISHED,
        verb="publish",
        done="published",
        published_at=timezone.now(),
    )
    signal_on_commit(round_published, round_id=round_id)
    return round_


def round_judging_settle(*, round_id: int, labels_complete: bool) -> bool:
    """Move a judging round to scored when judging reports its labels complete; True when this call moved it.

    Complete is judging's to say, and judging says it with every report (judging.services.judging:
    round_labels_report; every judgeable reply has a verdict of every active judge at its current
    version, errors included, and a final label). The move is a conditional update, so of two
    concurrent calls exactly one returns True.
    """
    if not labels_complete:
        return False
    moved = Round.objects.filter(pk=round_id, status=Status.JUDGING).update(
        status=Status.SCORED, judging_finished_at=timezone.now()
    )
    if moved:
        round_history_note(round_id=round_id, reason="Judging finished: scored")
        logger.info("round %s judged: moved to scored", round_id)
        round_score_enqueue(round_id=round_id, reason="labels complete")
    return bool(moved)


def round_score_enqueue(*, round_id: int, reason: str) -> None:
    """Have the round's standings computed (competition.tasks.round_score_task, idempotent) once
    this transaction commits; `reason` is what a published round's revisions say. A practice match
    has no standings: nothing is asked for it."""
    if Round.objects.filter(pk=round_id, kind=Round.Kind.PRACTICE_MATCH).exists():
        return
    signals.ask(signals.round_scoring_wanted, round_id=round_id, reason=reason)


def round_labels_changed(*, round_id: int, reason: str, labels_complete: bool) -> bool:
    """Judging wrote or recomputed labels of this round's replies (`reason` says why, for logs), and
    says whether the round's labels are now complete (judging works that out only for a judging round,
    the one status it can move). True when this call moved the round to scored.

    A judging round is settled (round_judging_settle): the labels may have been the last it waited
    for. A scored or published round keeps its status and has its standings computed again
    (competition/pipeline/scoring.py), since a re-judge or a human label may change them. Rounds in
    any other status are left as they are.
    """
    status = Round.objects.filter(pk=round_id).values_list("status", flat=True).first()
    if status == Status.JUDGING and round_judging_settle(round_id=round_id, labels_complete=labels_complete):
        logger.info("round %s scored after labels changed: %s", round_id, reason)
        return True
    if status in (Status.SCORED, Status.PUBLISHED):
        # Scoring again is idempotent: unchanged labels write nothing and add no revision.
        round_score_enqueue(round_id=round_id, reason=f"labels changed ({reason})")
    return False


def round_inputs_changed(*, left_out: Collection[int], let_in: Collection[int], reason: str) -> None:
    """Conversations were left out of what their rounds count (`left_out`: excluded) or let back in
    (`let_in`), for `reason`; called inside the transaction that moved them.

    For each round of them, once that transaction commits: a judging round has judging queued for
    them (signals.round_inputs_judging_wanted: what became judgeable is judged, and judging reports, so the round is
    settled at once when nothing is left to judge); a scored or published round is scored again at
    once, and when conversations were let in, judging is queued for them too (one never judged is
    judged, and scored again when its labels arrive). A round still being played judges its
    conversations as they complete; earlier and cancelled rounds count nothing: both are left alone.
    """
    by_round: dict[int, tuple[str, list[int], list[int]]] = {}
    for ids, index in ((left_out, 1), (let_in, 2)):
        for conversation_id, round_id, status in Conversation.objects.filter(pk__in=list(ids)).values_list(
            "pk", "match__round_id", "match__round__status"
        ):
            by_round.setdefault(round_id, (status, [], []))[index].append(conversation_id)
    for round_id, (status, out, back) in sorted(by_round.items()):
        if status in (Status.SCORED, Status.PUBLISHED):
            round_score_enqueue(round_id=round_id, reason=reason)
        if status == Status.JUDGING or (status in (Status.SCORED, Status.PUBLISHED) and back):
            signals.ask(signals.round_inputs_judging_wanted, round_id=round_id, conversation_ids=sorted(out + back))


def conversations_moderate(*, conversations: QuerySet[Conversation], state: str, reason: str, by: User) -> int:
    """Moderate conversations (conversations.moderation.conversation_moderate: the state, who, why,
    when; ValueError for an unknown state or a blank reason) and, for those whose exclusion changed,
    tell their rounds (round_inputs_changed). Returns the number of conversations written.
    """
    excluded = Conversation.Moderation.EXCLUDED
    with transaction.atomic():
        before = dict(conversations.values_list("pk", "moderation"))
        count = conversation_moderate(
            conversations=Conversation.objects.filter(pk__in=list(before)), state=state, reason=reason, by=by
        )
        left_out = [pk for pk, was in before.items() if was != excluded and state == excluded]
        let_in = [pk for pk, was in before.items() if was == excluded and state != excluded]
        round_inputs_changed(left_out=left_out, let_in=let_in, reason=f"moderation ({state}): {reason.strip()}")
    return count


def round_imported_create(*, competition_id: int, name: str, slug: str, pairs: list[tuple[Bot, Bot]]) -> Round:
    """A round for conversations imported from a dataset (Round.imported), with a match per
    (attacker, defender) pair frozen at the bots' current versions. It starts in judging: nothing
    is played, and the competition's judges label the imported replies like any others."""
    numbers = Round.objects.filter(competition_id=competition_id).order_by("-number").values_list("number", flat=True)
    now = timezone.now()
    round_ = Round(
        competition_id=competition_id,
        number=(numbers.first() or 0) + 1,
        name=name,
        slug=slug,
        imported=True,
        status=Status.JUDGING,
        started_at=now,
        playing_finished_at=now,
    )
    round_._change_reason = "Imported from a dataset: judging starts"
    round_.save()
    Match.objects.bulk_create([Match.frozen(round_=round_, attacker=a, defender=d) for a, d in dict.fromkeys(pairs)])
    return round_


def round_practice_start(
    *, competition_id: int, attacker: Bot, defender: Bot, conversations: int, max_turns: int, slug: str, name: str
) -> Round:
    """A practice match's round (Round.kind PRACTICE_MATCH, number 0), started at once: one Match of
    the two bots frozen as they are now, `conversations` conversations of at most `max_turns`
    exchanges each with goals rotated over the competition's categories, and a player asked for.
    No benign probes, no notices, no standings: judging labels it like any round and it stops at
    scored. Call inside a transaction (the caller checks who may ask and the caps)."""
    round_ = Round(competition_id=competition_id, number=0, name=name, slug=slug, kind=Round.Kind.PRACTICE_MATCH)
    round_.max_turns = max_turns
    round_.conversations_per_pair = conversations
    round_.frozen_settings = round_.live_settings() | {"benign_prompts": []}
    round_.status = Status.RUNNING
    round_.started_at = timezone.now()
    round_._change_reason = "Practice match asked for: started"
    round_.save()
    match = Match.frozen(round_=round_, attacker=attacker, defender=defender)
    match.save()
    goals = round_.frozen_settings["goals"]
    new = []
    for sequence in range(conversations):
        category, target = goals_spread(goals=goals, index=sequence)
        new.append(ConversationNew(match_id=match.pk, sequence=sequence, goal_category=category, goal_target=target))
    conversation_services.conversations_create(conversations=new)
    player_enqueue()
    return round_
