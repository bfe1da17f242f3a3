"""The figures of the dataset card (card.py renders them): CardStats, gathered while an export's rows
stream (constant memory), what each defender answered the benign probe, and the aggregate queries
over the written conversations (human agreement, the judges used).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Count

from judging.annotation.selectors import replies_agreement
from judging.datasets.record_types import HUMAN_SOURCES, ConversationRecord, Outcome
from judging.models import Annotation, Verdict


@dataclass
class CardStats:
    """Figures gathered from each exported conversation as it streams by."""

    conversations: Counter = field(default_factory=Counter)  # per split
    turns_per_conversation: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    category_successes: Counter = field(default_factory=Counter)
    replies: Counter = field(default_factory=Counter)  # label name -> replies with it True, plus totals
    cwe: Counter = field(default_factory=Counter)
    attacker_teams: Counter = field(default_factory=Counter)
    defender_teams: Counter = field(default_factory=Counter)
    # The platform's benign probe's conversations: not attacks, so apart from outcomes, categories
    # and attacker teams; what the defenders answered (PROBE_ANSWERS) instead.
    probes: Counter = field(default_factory=Counter)
    attacker_messages: int = 0
    # The hashes of every opening and attacker message, 8 bytes each, counted distinct at the end
    # (`distinct`): sets of Python ints took about 70 bytes a message, 60 MB of a chat export of
    # 200,000 conversations (bench/export.py).
    _openings: array = field(default_factory=lambda: array("q"))
    _attacker_messages: array = field(default_factory=lambda: array("q"))

    def _add_conversation(self, record: ConversationRecord, *, split: str) -> None:
        """Who played it and how it ended: an attack's outcome, category and attacker team, or what
        the defender answered the platform's benign probe (not an attack)."""
        self.conversations[split] += 1
        self.turns_per_conversation[len(record.turns)] += 1
        if record.probe:
            self.probes[probe_answer(record)] += 1
        else:
            self.outcomes[record.outcome] += 1
            self.categories[record.goal_category] += 1
            if record.attack_success:
                self.category_successes[record.goal_category] += 1
            self.attacker_teams[record.attacker_team] += 1
        self.defender_teams[record.defender_team] += 1

    def add(self, record: ConversationRecord, *, split: str) -> None:
        self._add_conversation(record, split=split)
        # Counted in locals and added once per conversation: a Counter update per reply and label
        # was a tenth of a chat export's time (bench/export.py).
        opening = True
        total = unlabelled = unsafe = safe = malicious = vulnerable = refusal = human = 0
        for turn in record.turns:
            if not turn.ok:
                continue
            if turn.speaker == "attacker":
                # Python's string hash: fast, and stable within the one process an export runs in.
                digest = hash(turn.content)
                self.attacker_messages += 1
                self._attacker_messages.append(digest)
                if opening:
                    self._openings.append(digest)
                    opening = False
                continue
            total += 1
            label = turn.label
            if label is None:
                unlabelled += 1
                continue
            if label.malicious_assistance:
                malicious += 1
            if label.vulnerable_code:
                vulnerable += 1
            if label.malicious_assistance is False and label.vulnerable_code is False:
                safe += 1
            if label.refusal:
                refusal += 1
            if label.source in HUMAN_SOURCES:
                human += 1
            if label.cwe:
                self.cwe.update(label.cwe)
            unsafe += bool(label.malicious_assistance or label.vulnerable_code)
        if total:
            replies = self.replies
            for name, count in (
                ("total", total),
                ("unlabelled", unlabelled),
                ("labelled", total - unlabelled),
                ("unsafe", unsafe),
                ("safe", safe),
                ("malicious_assistance", malicious),
                ("vulnerable_code", vulnerable),
                ("refusal", refusal),
                ("human_labelled", human),
            ):
                replies[name] += count

    @property
    def total(self) -> int:
        return sum(self.conversations.values())

    @property
    def attacks(self) -> int:
        """The conversations that were attacks: all but the benign probe's."""
        return self.total - sum(self.probes.values())

    def diversity(self) -> dict[str, Any]:
        openings, messages = distinct(self._openings), distinct(self._attacker_messages)
        return {
            "distinct_openings": openings,
            "distinct_opening_share": round(openings / self.total, 4) if self.total else None,
            "distinct_attacker_message_share": round(messages / self.attacker_messages, 4)
            if self.attacker_messages
            else None,
        }


def distinct(hashes: array) -> int:
    """How many different values the array of 64-bit hashes holds."""
    return len(np.unique(np.frombuffer(hashes, dtype=np.int64))) if hashes else 0


# What a defender answered the platform's benign probe, as the card counts it (probe_answer).
PROBE_ANSWERS = ("helpful", "refused", "unsafe", "unlabelled", "failed")


def probe_answer(record: ConversationRecord) -> str:
    """What the defender answered the benign probe: failed, unsafe (any reply), refused (a reply
    decided a refusal), helpful (every reply decided safe and not a refusal), else unlabelled."""
    if record.outcome == Outcome.FAILED:
        return "failed"
    labels = [turn.label for turn in record.replies]
    if any(label is not None and label.unsafe for label in labels):
        return "unsafe"
    if any(label is not None and label.refusal for label in labels):
        return "refused"
    if labels and all(label is not None and label.helpful for label in labels):
        return "helpful"
    return "unlabelled"


# Conversation ids per query of the card's aggregates (within every database's parameter limit).
IDS_PER_QUERY = 900


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), IDS_PER_QUERY):
        yield list(ids[start : start + IDS_PER_QUERY])


def agreement(conversation_ids: Sequence[int]) -> dict[str, Any]:
    """Human agreement over the replies of these conversations (the ones the export wrote) that
    people annotated (adjudications excluded): judging.annotation.selectors.replies_agreement, the
    figures and formulas of the annotation campaigns' pages (judging/annotation/agreement.py), so the
    card and the campaigns never disagree."""
    turn_ids: set[int] = set()
    for chunk in _chunks(conversation_ids):
        turn_ids.update(
            Annotation.objects.filter(turn__conversation_id__in=chunk, adjudication=False)
            # No ordering: the model's default one (across five joins) would be part of DISTINCT, and
            # repeat a reply once per annotation.
            .order_by()
            .values_list("turn_id", flat=True)
            .distinct()
        )
    return replies_agreement(turn_ids=sorted(turn_ids))


def judges_used(conversation_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Each judge and version with the verdicts it gave the replies of these conversations."""
    counts: Counter = Counter()
    for chunk in _chunks(conversation_ids):
        rows = (
            Verdict.objects.filter(turn__conversation_id__in=chunk)
            .values_list("judge__slug", "judge__name", "judge__kind", "judge_version")
            .annotate(verdicts=Count("pk"))
            .order_by()
        )
        for slug, name, kind, version, verdicts in rows:
            counts[(slug, name, kind, version)] += verdicts
    return [
        {"judge": slug, "name": name, "kind": kind, "version": version, "verdicts": verdicts}
        for (slug, name, kind, version), verdicts in sorted(counts.items(), key=lambda item: (item[0][0], item[0][3]))
    ]
