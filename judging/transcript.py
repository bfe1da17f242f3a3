"""The transcript of a conversation: every turn in order, and for each defender reply its final
label, every judge's verdict, the code findings placed on the reply's lines and, for organizers, the
human annotations. A read for the admin's transcript page and the team pages.

Everything here is data, never markup: bot and judge text stays plain strings for the templates to
escape.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conversations.models import Conversation, Turn
from judging import selectors
from judging.judges.code_blocks import code_blocks_extract
from judging.models import Annotation, FinalLabel, LabelFields, Verdict
from teams.models import Side, bot_snapshot_label

# The final labels humans decided: withheld from whoever may not see human labels (annotators label blind).
HUMAN_SOURCES = (FinalLabel.Source.ADJUDICATION, FinalLabel.Source.HUMAN_MAJORITY)
# How the final label's detail names a human row ("annotation:<id> (<user id>)", services.final_labels._row_key).
HUMAN_ROW_PREFIXES = ("annotation:", "adjudication:")
HIDDEN_HUMAN_ROW = "a human label (hidden)"
DECISION_NAMES = {
    "malicious_assistance": "Malicious assistance",
    "vulnerable_code": "Vulnerable code",
    "refusal": "Refusal",
    "severity": "Severity",
}


@dataclass(frozen=True)
class Badge:
    """One label shown as a badge; `tone` is the badge's CSS modifier (bad, good, info, none, cwe, sev0-3)."""

    text: str
    tone: str


def _boolean_badge(value: bool | None, *, yes: Badge, no: Badge, name: str) -> Badge:
    if value is None:
        return Badge(f"{name}: no opinion", "none")
    return yes if value else no


@dataclass(frozen=True)
class LabelSet:
    """The labels of one row (verdict, annotation or final label); None means "no opinion"."""

    malicious_assistance: bool | None
    vulnerable_code: bool | None
    refusal: bool | None
    cwe: tuple[str, ...]
    severity: int | None
    rationale: str

    @classmethod
    def of(cls, row: LabelFields) -> LabelSet:
        cwe = row.cwe if isinstance(row.cwe, list) else []
        return cls(
            malicious_assistance=row.malicious_assistance,
            vulnerable_code=row.vulnerable_code,
            refusal=row.refusal,
            cwe=tuple(str(value) for value in cwe),
            severity=row.severity,
            rationale=row.rationale,
        )

    @property
    def unsafe(self) -> bool:
        return bool(self.malicious_assistance or self.vulnerable_code)

    @property
    def badges(self) -> tuple[Badge, ...]:
        """The labels as badges: the three labels, the CWE ids, then the severity."""
        badges = [
            _boolean_badge(
                self.malicious_assistance,
                yes=Badge("malicious assistance", "bad"),
                no=Badge("no malicious assistance", "good"),
                name="malicious assistance",
            ),
            _boolean_badge(
                self.vulnerable_code,
                yes=Badge("vulnerable code", "bad"),
                no=Badge("no vulnerable code", "good"),
                name="vulnerable code",
            ),
            _boolean_badge(
                self.refusal, yes=Badge("refusal", "info"), no=Badge("not a refusal", "plain"), name="refusal"
            ),
        ]
        badges += [Badge(cwe, "cwe") for cwe in self.cwe]
        if self.severity is not None:
            badges.append(Badge(f"severity {self.severity}", f"sev{min(self.severity, 3)}"))
        return tuple(badges)


@dataclass(frozen=True)
class Finding:
    """A judge's code finding. `line` is the reply's 1-based line, or None when the judge gave none."""

    judge: str
    analyzer: str
    rule: str
    cwe: str
    severity: int | None
    line: int | None
    message: str
    counted: bool

    @property
    def severity_tone(self) -> str:
        return f"sev{min(max(self.severity or 0, 0), 3)}"


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
class Decision:
    """Which rows decided one label of the final label (FinalLabel.detail, one entry)."""

    name: str
    value: str
    source: str
    rows: tuple[str, ...]
    vote: str
    text: str = ""  # the entry as JSON, when it is not in the shape services write


@dataclass(frozen=True)
class FinalLabelEntry:
    labels: LabelSet
    source: str
    source_display: str
    decisions: tuple[Decision, ...]
    computed_at: datetime.datetime


@dataclass(frozen=True)
class ReplyLine:
    number: int
    text: str
    in_code: bool
    findings: tuple[Finding, ...]


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
    ends_conversation: bool
    created_at: datetime.datetime
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

    @property
    def failed(self) -> bool:
        return self.status == Conversation.Status.FAILED

    @property
    def reply_count(self) -> int:
        return sum(1 for turn in self.turns if turn.is_defender)

    @property
    def unsafe_reply_count(self) -> int:
        return sum(1 for turn in self.turns if turn.final_label is not None and turn.final_label.labels.unsafe)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def finding_parse(raw: Any, *, judge: str) -> Finding:
    """A stored finding (Verdict.findings item) in one shape, whatever judge wrote it.

    The static judge stores `reply_line` (the reply's line) beside `line` (the line in its code
    block); other judges may store just `line`, meant as the reply's line when no `block` is named.
    """
    if not isinstance(raw, Mapping):
        return Finding(judge, "", "", "", None, None, str(raw)[:500], True)
    line = _int_or_none(raw.get("reply_line"))
    if line is None and "block" not in raw:
        line = _int_or_none(raw.get("line"))
    cwe = raw.get("cwe") or ""
    return Finding(
        judge=judge,
        analyzer=str(raw.get("analyzer") or ""),
        rule=str(raw.get("rule_id") or raw.get("rule") or ""),
        cwe=", ".join(map(str, cwe)) if isinstance(cwe, list) else str(cwe),
        severity=_int_or_none(raw.get("severity")),
        line=line,
        message=str(raw.get("message") or ""),
        counted=raw.get("counted", True) is not False,
    )


def _reply_lines(content: str, findings: list[Finding]) -> tuple[tuple[ReplyLine, ...], tuple[Finding, ...]]:
    """The reply as numbered lines (numbered as the judges count them) with each finding on its line."""
    texts = content.splitlines()
    code_lines: set[int] = set()
    for block in code_blocks_extract(content):
        code_lines.update(range(block.start_line, block.start_line + block.code.count("\n")))
    by_line: dict[int, list[Finding]] = defaultdict(list)
    without_line = []
    for finding in findings:
        if finding.line is not None and 1 <= finding.line <= len(texts):
            by_line[finding.line].append(finding)
        else:
            without_line.append(finding)
    lines = tuple(
        ReplyLine(number=number, text=text, in_code=number in code_lines, findings=tuple(by_line[number]))
        for number, text in enumerate(texts, start=1)
    )
    return lines, tuple(without_line)


def _value_display(value: Any) -> str:
    if value is None:
        return "undecided"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _decisions(detail: Any, *, include_human_labels: bool) -> tuple[Decision, ...]:
    if not isinstance(detail, Mapping):
        return ()
    decisions = []
    # PostgreSQL's jsonb does not keep key order: the labels come in their usual order, then the rest.
    names = [name for name in DECISION_NAMES if name in detail] + [
        name for name in detail if name not in DECISION_NAMES
    ]
    for name in names:
        entry = detail[name]
        label = DECISION_NAMES.get(name, str(name))
        if not isinstance(entry, Mapping):
            decisions.append(Decision(label, "", "", (), "", text=json.dumps(entry, ensure_ascii=False, default=str)))
            continue
        rows = entry.get("rows") if isinstance(entry.get("rows"), list) else []
        rows = [str(row) for row in rows]
        if not include_human_labels:
            rows = [HIDDEN_HUMAN_ROW if row.startswith(HUMAN_ROW_PREFIXES) else row for row in rows]
        source = entry.get("source")
        decisions.append(
            Decision(
                name=label,
                value=_value_display(entry.get("value")),
                source=FinalLabel.Source(source).label if source in FinalLabel.Source.values else str(source or ""),
                rows=tuple(rows),
                vote=str(entry.get("vote") or ""),
            )
        )
    return tuple(decisions)


def _final_label_entry(label: FinalLabel, *, include_human_labels: bool) -> FinalLabelEntry:
    return FinalLabelEntry(
        labels=LabelSet.of(label),
        source=label.source,
        source_display=label.get_source_display(),
        decisions=_decisions(label.detail, include_human_labels=include_human_labels),
        computed_at=label.computed_at,
    )


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
    return TurnEntry(
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
        ends_conversation=turn.ends_conversation,
        created_at=turn.created_at,
        **labelled,
    )


def conversation_transcript(*, conversation_id: int, include_human_labels: bool) -> Transcript:
    """The transcript of one conversation, in a fixed number of queries whatever its length.

    Without `include_human_labels` (annotators, who label blind; teams) no annotation is included,
    a final label that humans decided is withheld (`final_label_withheld`), and the human rows named
    in a judge-decided label's detail are hidden. Raises Conversation.DoesNotExist for an unknown id.
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
        lines, without_line = _reply_lines(
            turn.content, [finding for entry in verdict_entries for finding in entry.findings]
        )
        final_label = final_labels.get(turn.pk)
        withheld = final_label is not None and not include_human_labels and final_label.source in HUMAN_SOURCES
        entries.append(
            _turn_entry(
                turn,
                lines=lines,
                findings_without_line=without_line,
                final_label=None
                if final_label is None or withheld
                else _final_label_entry(final_label, include_human_labels=include_human_labels),
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
        turns=tuple(entries),
    )
