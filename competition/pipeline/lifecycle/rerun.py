"""Repair: failed conversations played again from their last good turn, a round's or chosen ones,
the round going back to running when it had moved on (judging or scored), so it is judged and
scored again."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from competition.models import BotCircuit, Round
from competition.pipeline.lifecycle.moves import RoundTransitionError, player_enqueue, round_history_note
from conversations import services as conversation_services
from conversations.models import Conversation

Status = Round.Status


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
