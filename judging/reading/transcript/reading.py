"""Reading one conversation's transcript from the database, in a fixed number of queries."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from conversations.models import Conversation, Turn
from judging import selectors
from judging.models import Annotation, FinalLabel, Verdict
from judging.reading.transcript.decisions import HUMAN_SOURCES, final_label_entry, final_label_people
from judging.reading.transcript.entries import AnnotationEntry, Transcript, TurnEntry, VerdictEntry
from judging.reading.transcript.fences import turn_parts
from judging.reading.transcript.findings import finding_parse, reply_lines
from judging.reading.transcript.labels import LabelSet
from teams.models import Side, bot_snapshot_label


def _verdict_entry(verdict: Verdict, *, heard: bool) -> VerdictEntry:
    judge = verdict.judge
    name = f"{judge.name} v{verdict.judge_version}"
    findings = verdict.findings if isinstance(verdict.findings, list) else []
    return VerdictEntry(
        judge_name=judge.name,
        judge_slug=judge.slug,
        judge_kind=judge.get_kind_display(),
        version=verdict.judge_version,
        judge_version=judge.version,
        judge_active=judge.active,
        heard=heard,
        labels=LabelSet.of(verdict),
        error=verdict.error,
        duration_ms=verdict.duration_ms,
        created_at=verdict.created_at,
        findings=tuple(finding_parse(raw, judge=name) for raw in findings),
    )


def _annotation_entry(annotation: Annotation) -> AnnotationEntry:
    return AnnotationEntry(
        annotator=annotation.annotator.get_username(),
        adjudication=annotation.adjudication,
        labels=LabelSet.of(annotation),
        quality=annotation.quality,
        note=annotation.note,
        updated_at=annotation.updated_at,
    )


def _turn_entry(turn: Turn, **labelled: Any) -> TurnEntry:
    # A defender reply's lines carry its findings; an attacker's are numbered only to be drawn.
    lines = labelled.get("lines") or reply_lines(turn.content, [])[0]
    return TurnEntry(
        parts=turn_parts(lines),
        pk=turn.pk,
        index=turn.index,
        speaker=turn.speaker,
        speaker_display=turn.get_speaker_display(),
        status=turn.status,
        status_display=turn.get_status_display(),
        ok=turn.ok,
        content=turn.content,
        error_detail=turn.error_detail,
        latency_ms=turn.latency_ms,
        attempts=turn.attempts,
        attempt_errors=tuple(turn.attempt_errors),
        ends_conversation=turn.ends_conversation,
        created_at=turn.created_at,
        **labelled,
    )


def conversation_transcript(*, conversation_id: int, include_human_labels: bool, for_team: bool = False) -> Transcript:
    """The transcript of one conversation, in a fixed number of queries whatever its length.

    Without `include_human_labels` (annotators, who label blind; teams) no annotation is included,
    and the human rows named in a label's detail are hidden. An annotator's transcript also withholds
    a final label that humans decided (`final_label_withheld`); a team's (`for_team`) shows its labels,
    as the API does, with the rows that decided it in a team's words (docs/annotation.md: teams are
    not annotators; a human-decided label shows its labels without their notes).
    Raises Conversation.DoesNotExist for an unknown id.
    """
    conversation = Conversation.objects.select_related("match__round__competition", "moderated_by").get(
        pk=conversation_id
    )
    turns = list(conversation.turns.order_by("index"))
    reply_ids = [turn.pk for turn in turns if turn.speaker == Side.DEFENDER]
    verdicts: dict[int, list[Verdict]] = defaultdict(list)
    for verdict in (
        Verdict.objects.filter(turn_id__in=reply_ids)
        .select_related("judge")
        .order_by("judge__name", "judge_id", "-judge_version")
    ):
        verdicts[verdict.turn_id].append(verdict)
    heard = {verdict.pk for group in selectors.ensemble_verdicts_for(turn_ids=reply_ids).values() for verdict in group}
    final_labels = {label.turn_id: label for label in FinalLabel.objects.filter(turn_id__in=reply_ids)}
    people = final_label_people(label.detail for label in final_labels.values()) if include_human_labels else {}
    annotations: dict[int, list[Annotation]] = defaultdict(list)
    if include_human_labels:
        for annotation in Annotation.objects.filter(turn_id__in=reply_ids).select_related("annotator"):
            annotations[annotation.turn_id].append(annotation)

    entries = []
    for turn in turns:
        if turn.speaker != Side.DEFENDER:
            entries.append(_turn_entry(turn))
            continue
        verdict_entries = tuple(_verdict_entry(verdict, heard=verdict.pk in heard) for verdict in verdicts[turn.pk])
        lines, without_line = reply_lines(
            turn.content, [finding for entry in verdict_entries for finding in entry.findings]
        )
        final_label = final_labels.get(turn.pk)
        withheld = (
            final_label is not None
            and not include_human_labels
            and not for_team
            and final_label.source in HUMAN_SOURCES
        )
        entries.append(
            _turn_entry(
                turn,
                lines=lines,
                findings_without_line=without_line,
                final_label=None
                if final_label is None or withheld
                else final_label_entry(
                    final_label, include_human_labels=include_human_labels, people=people, plain=for_team
                ),
                final_label_withheld=withheld,
                verdicts=verdict_entries,
                annotations=tuple(_annotation_entry(annotation) for annotation in annotations[turn.pk]),
            )
        )

    match = conversation.match
    round_ = match.round
    return Transcript(
        conversation_id=conversation.pk,
        uuid=str(conversation.uuid),
        competition=round_.competition.name,
        round_name=round_.name,
        round_status=round_.get_status_display(),
        attacker=bot_snapshot_label(match.attacker_snapshot, match.attacker_version),
        defender=bot_snapshot_label(match.defender_snapshot, match.defender_version),
        goal_category=conversation.goal_category,
        goal_target=conversation.goal_target,
        status=conversation.status,
        status_display=conversation.get_status_display(),
        failure_side=conversation.get_failure_side_display() if conversation.failure_side else "",
        failure_kind=conversation.get_failure_kind_display() if conversation.failure_kind else "",
        failure_detail=conversation.failure_detail,
        failure_history=tuple(
            json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str)
            for entry in (conversation.failure_history if isinstance(conversation.failure_history, list) else [])
        ),
        moderation=conversation.moderation,
        moderation_display=conversation.get_moderation_display(),
        moderation_reason=conversation.moderation_reason,
        moderated_by=conversation.moderated_by.get_username() if conversation.moderated_by else "",
        moderated_at=conversation.moderated_at,
        started_at=conversation.started_at,
        ended_at=conversation.ended_at,
        plays=conversation.plays,
        include_human_labels=include_human_labels,
        for_team=for_team,
        turns=tuple(entries),
    )
