"""Scoring a round: read its conversations and final labels, compute its standings, store them.

Reads conversations (conversations.selectors) and final labels (judging.selectors) into the plain
records of competition/scoring/, computes every standing there, and stores Standing rows. Running it
again on unchanged labels writes the same numbers (the bootstrap is seeded with the round's id), so
it is safe to run whenever a label may have changed. A change to a published round's standings is
kept as a StandingRevision (what changed, when, why).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from competition import signals
from competition.models import Competition, Round, Standing, StandingRevision
from competition.scoring import (
    BotInfo,
    ConversationRecord,
    Rating,
    ReplyLabel,
    RoundInputs,
    RoundResult,
    Weights,
    attack_succeeded,
    bradley_terry,
    round_standings,
)
from competition.signals import signal_on_commit
from conversations.selectors import round_scoring_conversations
from judging.selectors import rounds_final_labels
from teams.models import Bot

logger = logging.getLogger(__name__)

SCORED_STATUSES = (Round.Status.SCORED, Round.Status.PUBLISHED)
RESAMPLES = 1000
# The Standing columns a revision compares; every other number lives in `inputs`.
COMPARED_FIELDS = Standing.FIGURES


def _records(round_ids: list[int], *, with_text: bool) -> list[ConversationRecord]:
    labels = rounds_final_labels(round_ids=round_ids)
    return [
        ConversationRecord(
            id=row.id,
            attacker_id=row.attacker_id,
            defender_id=row.defender_id,
            category=row.category,
            status=row.status,
            failure_side=row.failure_side,
            attacker_text=row.attacker_text,
            labels=tuple(ReplyLabel(*label) for label in labels.get(row.id, [])),
            attacker_calls=row.attacker_calls,
            defender_calls=row.defender_calls,
            probe=row.attacker_kind == Bot.Kind.PROBE,
        )
        for row in round_scoring_conversations(round_ids=round_ids, with_text=with_text)
    ]


def round_inputs(*, round_id: int, resamples: int = RESAMPLES) -> RoundInputs:
    """Everything the round's standings come from, as plain records (competition/scoring/records.py)."""
    round_ = Round.objects.select_related("competition").get(pk=round_id)
    competition = round_.competition
    bot_ids = set()
    for attacker_id, defender_id in round_.matches.values_list("attacker_id", "defender_id"):
        bot_ids |= {attacker_id, defender_id}
    bots = {
        bot.pk: BotInfo(id=bot.pk, team_id=bot.team_id, side=bot.team.side, name=bot.name, team=bot.team.name)
        for bot in Bot.objects.filter(pk__in=bot_ids).exclude(kind=Bot.Kind.PROBE).select_related("team")
    }
    return RoundInputs(
        categories=sorted(round_.settings_in_force.get("goals") or competition.goals),
        bots=bots,
        conversations=_records([round_id], with_text=True),
        weights=Weights.from_mapping(competition.scoring_weights),
        reference_defender_id=competition.reference_defender_id,
        seed=round_id,
        resamples=resamples,
    )


def _fields(result) -> dict:
    return {name: getattr(result, name) for name in COMPARED_FIELDS if hasattr(result, name)}


def _rows(result: RoundResult) -> dict[tuple[int, int | None], dict]:
    """(team id, bot id or None) -> the Standing fields of every bot and team of the result."""
    rows = {}
    for bot in result.bots:
        rows[(bot.team_id, bot.bot_id)] = {"side": bot.side, "inputs": bot.inputs(), **_fields(bot)}
    by_bot = {bot.bot_id: bot for bot in result.bots}
    for team in result.teams:
        best = by_bot[team.best_bot_id]
        fields = _fields(best) | {"rank": team.rank, "score": team.score}
        rows[(team.team_id, None)] = {
            "side": team.side,
            "inputs": {"best_bot": team.best_bot_id, "bots": team.bot_ids},
            **fields,
        }
    return rows


def _changed(before: dict, after: dict) -> dict:
    changes = {}
    for name in COMPARED_FIELDS:
        old, new = before.get(name), after.get(name)
        if isinstance(old, float) and isinstance(new, float) and abs(old - new) < 1e-9:
            continue
        if old != new:
            changes[name] = [old, new]
    return changes


@dataclass(frozen=True)
class ScoreReport:
    round_id: int
    status: str
    rows: int = 0
    changed: int = 0
    revisions: int = 0


def round_score(*, round_id: int, reason: str, resamples: int = RESAMPLES) -> ScoreReport:
    """Compute and store the standings of a scored or published round; idempotent.

    Rows whose numbers are unchanged are left alone; for a published round every changed row gets
    a StandingRevision with `reason`. A round in any other status is left (status in the report).
    """
    status = Round.objects.filter(pk=round_id).values_list("status", flat=True).first()
    if status not in SCORED_STATUSES:
        return ScoreReport(round_id=round_id, status=status or "missing")
    result = round_standings(round_inputs(round_id=round_id, resamples=resamples))
    rows = _rows(result)
    changed = revisions = 0
    with transaction.atomic():
        round_ = Round.objects.select_for_update().get(pk=round_id)
        published = round_.status == Round.Status.PUBLISHED
        stored = {(row.team_id, row.bot_id): row for row in Standing.objects.filter(round=round_)}
        for key, fields in rows.items():
            team_id, bot_id = key
            row = stored.pop(key, None)
            if row is None:
                Standing.objects.create(round=round_, team_id=team_id, bot_id=bot_id, **fields)
                changed += 1
                continue
            difference = _changed({name: getattr(row, name) for name in COMPARED_FIELDS}, fields)
            if not difference and row.inputs == fields["inputs"]:
                continue
            for name, value in fields.items():
                setattr(row, name, value)
            row.save()
            changed += 1
            if published and difference:
                StandingRevision.objects.create(
                    round=round_, team_id=team_id, bot_id=bot_id, reason=reason, changes=difference
                )
                revisions += 1
        for row in stored.values():
            if published:
                StandingRevision.objects.create(
                    round=round_,
                    team_id=row.team_id,
                    bot_id=row.bot_id,
                    reason=reason,
                    changes={"removed": [True, None]},
                )
                revisions += 1
            row.delete()
            changed += 1
        if revisions:
            signal_on_commit(signals.standings_revised, round_id=round_id, reason=reason)
    if changed:
        logger.info("round %s scored (%s): %d rows changed, %d revisions", round_id, reason, changed, revisions)
    return ScoreReport(round_id=round_id, status=status, rows=len(rows), changed=changed, revisions=revisions)


def competition_ratings(
    *, competition: Competition, round_ids: list[int] | None = None, resamples: int = RESAMPLES
) -> dict[int, Rating]:
    """Bradley-Terry ratings over every scored or published non-practice round of the competition,
    or over ``round_ids`` only (the public leaderboard passes its published rounds)."""
    if round_ids is None:
        round_ids = list(
            competition.rounds.filter(practice=False, kind=Round.Kind.ROUND, status__in=SCORED_STATUSES)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    if not round_ids:
        return {}
    games = [
        (record.attacker_id, record.defender_id, attack_succeeded(record))
        for record in _records(round_ids, with_text=False)
        if record.completed and not record.probe
    ]
    return bradley_terry(games, resamples=resamples, seed=competition.pk)
