"""The shapes of a transcript: the conversation, its turns, and each reply's verdicts and annotations.

Everything here is data, never markup: bot and judge text stays plain strings for the templates to escape.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

from conversations.models import Conversation
from judging.reading.transcript.decisions import FinalLabelEntry
from judging.reading.transcript.fences import TurnPart, turn_parts
from judging.reading.transcript.findings import Finding, ReplyLine
from judging.reading.transcript.labels import LabelSet
from teams.models import Side


@dataclass(frozen=True)
class VerdictEntry:
    judge_name: str
    judge_slug: str
    judge_kind: str
    version: int
    judge_version: int  # the judge's version now: an older verdict was made by an earlier behaviour
    judge_active: bool
    heard: bool  # this verdict is the one the judge ensemble hears for the reply
    labels: LabelSet
    error: str
    duration_ms: int | None
    created_at: datetime.datetime
    findings: tuple[Finding, ...]

    @property
    def outdated(self) -> bool:
        return self.version < self.judge_version


@dataclass(frozen=True)
class AnnotationEntry:
    annotator: str
    adjudication: bool
    labels: LabelSet
    quality: int | None
    note: str
    updated_at: datetime.datetime


@dataclass(frozen=True)
class TurnEntry:
    pk: int
    index: int
    speaker: str
    speaker_display: str
    status: str
    status_display: str
    ok: bool
    content: str
    error_detail: str
    latency_ms: int | None
    attempts: int
    # The failed attempts before the last one, oldest first (Turn.attempt_errors).
    attempt_errors: tuple[dict, ...]
    ends_conversation: bool
    created_at: datetime.datetime
    # The turn's text as prose and fenced code (fences.py), every line numbered; what templates draw.
    parts: tuple[TurnPart, ...] = ()
    # Defender replies only: the reply as numbered lines, findings placed on their line.
    lines: tuple[ReplyLine, ...] = ()
    findings_without_line: tuple[Finding, ...] = ()
    final_label: FinalLabelEntry | None = None
    # A final label exists but humans decided it, and this reader may not see human labels.
    final_label_withheld: bool = False
    verdicts: tuple[VerdictEntry, ...] = ()
    annotations: tuple[AnnotationEntry, ...] = ()

    @property
    def is_defender(self) -> bool:
        return self.speaker == Side.DEFENDER

    @property
    def finding_count(self) -> int:
        return sum(len(line.findings) for line in self.lines) + len(self.findings_without_line)

    def without_judges(self) -> TurnEntry:
        """This turn with nothing a judge said: no verdict, no final label, no finding (so no line
        drawn as flagged); its text, parts and line numbers unchanged. What a blind annotator sees."""
        lines = tuple(replace(line, findings=()) for line in self.lines)
        return replace(
            self,
            parts=turn_parts(lines) if lines else self.parts,
            lines=lines,
            findings_without_line=(),
            final_label=None,
            final_label_withheld=False,
            verdicts=(),
        )


@dataclass(frozen=True)
class Transcript:
    conversation_id: int
    uuid: str
    competition: str
    round_name: str
    round_status: str
    attacker: str
    defender: str
    goal_category: str
    goal_target: str
    status: str
    status_display: str
    failure_side: str
    failure_kind: str
    failure_detail: str
    failure_history: tuple[str, ...]
    moderation: str
    moderation_display: str
    moderation_reason: str
    moderated_by: str
    moderated_at: datetime.datetime | None
    started_at: datetime.datetime | None
    ended_at: datetime.datetime | None
    plays: int
    include_human_labels: bool
    turns: tuple[TurnEntry, ...]
    for_team: bool = False

    @property
    def replays(self) -> int:
        """How many times the conversation was played again after a play that broke off."""
        return max(0, self.plays - 1)

    @property
    def failed(self) -> bool:
        return self.status == Conversation.Status.FAILED

    @property
    def reply_count(self) -> int:
        return sum(1 for turn in self.turns if turn.is_defender)

    @property
    def unsafe_reply_count(self) -> int:
        return sum(1 for turn in self.turns if turn.final_label is not None and turn.final_label.labels.unsafe)
