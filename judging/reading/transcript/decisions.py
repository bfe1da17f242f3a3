"""A final label as the transcript shows it: which source and rows decided each label, and the vote.

The rows are read from their structure (judging.models.final_label_row): a human's row is hidden
from whoever may not see human labels by its kind, never by parsing text.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from judging.models import FinalLabel
from judging.reading.transcript.labels import LabelSet

# The final labels humans decided: withheld from whoever may not see human labels (annotators label blind).
HUMAN_SOURCES = (FinalLabel.Source.ADJUDICATION, FinalLabel.Source.HUMAN_MAJORITY)
HIDDEN_HUMAN_ROW = "a human label (hidden)"
DECISION_NAMES = {
    "malicious_assistance": "Malicious assistance",
    "vulnerable_code": "Vulnerable code",
    "refusal": "Refusal",
    "severity": "Severity",
}


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


def _verdict_row(row: Any) -> bool:
    return isinstance(row, Mapping) and row.get("kind") == FinalLabel.RowKind.VERDICT


def _value_display(value: Any) -> str:
    if value is None:
        return "undecided"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _human_row(row: Any) -> bool:
    return isinstance(row, Mapping) and row.get("kind") in FinalLabel.HUMAN_ROW_KINDS


def final_label_people(details: Iterable[Any]) -> dict[int, str]:
    """The people named in the human rows of FinalLabel.detail values: user id -> full name, or the
    username where there is none. One query for all the details given."""
    ids = {
        row.get("annotator")
        for detail in details
        if isinstance(detail, Mapping)
        for entry in detail.values()
        if isinstance(entry, Mapping) and isinstance(entry.get("rows"), list)
        for row in entry["rows"]
        if _human_row(row)
    }
    ids = {user_id for user_id in ids if isinstance(user_id, int)}
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids)
    return {user.pk: user.get_full_name() or user.get_username() for user in users}


def decision_row_display(row: Any, *, people: Mapping[int, str]) -> str:
    """A row that decided a label as people read it: "rules v1, verdict 7" for a judge's verdict,
    "adjudication by Olivia Organizer (9)" for a human's label, the person named from ``people``
    (final_label_people) or "a removed user" when the account is gone. A row in no known shape is
    shown as its JSON text."""
    if _verdict_row(row):
        return f"{row.get('judge')} v{row.get('judge_version')}, verdict {row.get('id')}"
    if _human_row(row):
        person = people.get(row.get("annotator"), "a removed user")
        return f"{row['kind']} by {person} ({row.get('id')})"
    return json.dumps(row, ensure_ascii=False, sort_keys=True, default=str)


def decision_row_plain(row: Any) -> str:
    """A row that decided a label in a team's words: "the rules judge (version 1)", "a label by an
    annotator", "an adjudication by an organizer"; no row ids, no person named."""
    if _verdict_row(row):
        return f"the {row.get('judge')} judge (version {row.get('judge_version')})"
    if _human_row(row):
        return "an adjudication by an organizer" if row.get("kind") == "adjudication" else "a label by an annotator"
    return "another record"


def decisions_read(
    detail: Any, *, include_human_labels: bool, people: Mapping[int, str] | None = None, plain: bool = False
) -> tuple[Decision, ...]:
    """FinalLabel.detail as one Decision per label, the labels in their usual order, then the rest.

    Rows read as decision_row_display says, people named from ``people`` (final_label_people);
    with ``plain`` (a team's page) as decision_row_plain says, whatever ``include_human_labels``.
    Without ``include_human_labels`` every row but a judge's verdict (a human's annotation or
    adjudication, or a row in no known shape) is shown as HIDDEN_HUMAN_ROW. An entry not in the
    shape services write is shown as its JSON text.
    """
    people = people or {}
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
        stored = entry.get("rows") if isinstance(entry.get("rows"), list) else []
        rows = [
            decision_row_plain(row)
            if plain
            else decision_row_display(row, people=people)
            if include_human_labels or _verdict_row(row)
            else HIDDEN_HUMAN_ROW
            for row in stored
        ]
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


def final_label_entry(
    label: FinalLabel, *, include_human_labels: bool, people: Mapping[int, str] | None = None, plain: bool = False
) -> FinalLabelEntry:
    """The final label of a reply as the transcript shows it, people named from ``people``
    (final_label_people); ``plain``: its rows in a team's words (decision_row_plain)."""
    return FinalLabelEntry(
        labels=LabelSet.of(label),
        source=label.source,
        source_display=label.get_source_display(),
        decisions=decisions_read(label.detail, include_human_labels=include_human_labels, people=people, plain=plain),
        computed_at=label.computed_at,
    )
