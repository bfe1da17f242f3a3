"""The dataset card: README.md beside every export, in the Hugging Face dataset-card form.

A YAML header (license, language, task categories, size category, and `configs` naming each
split's file so `load_dataset` on the folder finds them), then what the competition was and what the
export holds: counts, turns per conversation, label, category and CWE distributions, each team's
share, diversity, the near-duplicate rate, human agreement where replies were annotated by several
people, the judges and versions, the filters and split sizes. Figures are gathered while the rows
stream (CardStats, constant memory) and from a few aggregate queries (`card_queries`).
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet

from competition.models import Competition
from conversations.models import Conversation
from judging.annotation.selectors import HUMAN_LABELS, replies_agreement
from judging.datasets.dedup import DedupCounts
from judging.datasets.filters import ExportSpec
from judging.datasets.records import HUMAN_SOURCES, ConversationRecord
from judging.models import Annotation, Verdict

# Every label people give: the three flags, severity and quality (ordinal).
AGREEMENT_LABELS = tuple(HUMAN_LABELS)


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
    attacker_messages: int = 0
    _openings: set[int] = field(default_factory=set)
    _attacker_messages: set[int] = field(default_factory=set)

    def add(self, record: ConversationRecord, *, split: str) -> None:
        self.conversations[split] += 1
        self.turns_per_conversation[len(record.turns)] += 1
        self.outcomes[record.outcome] += 1
        self.categories[record.goal_category] += 1
        if record.attack_success:
            self.category_successes[record.goal_category] += 1
        self.attacker_teams[record.attacker_team] += 1
        self.defender_teams[record.defender_team] += 1
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
                self._attacker_messages.add(digest)
                if opening:
                    self._openings.add(digest)
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

    def diversity(self) -> dict[str, Any]:
        return {
            "distinct_openings": len(self._openings),
            "distinct_opening_share": round(len(self._openings) / self.total, 4) if self.total else None,
            "distinct_attacker_message_share": round(len(self._attacker_messages) / self.attacker_messages, 4)
            if self.attacker_messages
            else None,
        }


def agreement(conversations: QuerySet[Conversation]) -> dict[str, Any]:
    """Human agreement over the replies of these conversations that people annotated (adjudications
    excluded): judging.annotation.selectors.replies_agreement, the figures and formulas of the
    annotation campaigns' pages (judging/annotation/agreement.py), so the card and the campaigns never disagree."""
    turn_ids = list(
        Annotation.objects.filter(turn__conversation__in=conversations, adjudication=False)
        # No ordering: the model's default one (across five joins) would be part of DISTINCT, and
        # repeat a reply once per annotation.
        .order_by()
        .values_list("turn_id", flat=True)
        .distinct()
    )
    return replies_agreement(turn_ids=turn_ids)


def judges_used(conversations: QuerySet[Conversation]) -> list[dict[str, Any]]:
    rows = (
        Verdict.objects.filter(turn__conversation__in=conversations)
        .values("judge__slug", "judge__name", "judge__kind", "judge_version")
        .annotate(verdicts=Count("pk"))
        .order_by("judge__slug", "judge_version")
    )
    return [
        {
            "judge": row["judge__slug"],
            "name": row["judge__name"],
            "kind": row["judge__kind"],
            "version": row["judge_version"],
            "verdicts": row["verdicts"],
        }
        for row in rows
    ]


def _size_category(count: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if count < limit:
            return name
    return "1M<n<10M"


def _yaml_text(value: str) -> str:
    # JSON strings are valid YAML scalars, so free text cannot break the header.
    return json.dumps(value, ensure_ascii=False)


def _table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _share(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.1%})" if whole else str(part)


def card_render(
    *,
    spec: ExportSpec,
    stats: CardStats,
    dedup: DedupCounts,
    files: dict[str, str],
    rows: dict[str, int],
    pairs: int | None,
    conversations: QuerySet[Conversation],
) -> str:
    """The README.md text of an export."""
    competition = Competition.objects.get(slug=spec.competition)
    license_id = competition.dataset_license or "other"
    config_lines = [f"- config_name: {spec.shape}", "  data_files:"]
    config_lines += [f"  - split: {split}\n    path: {name}" for split, name in files.items()]
    header = "\n".join(
        [
            "---",
            f"license: {license_id}",
            "language:",
            "- en",
            "task_categories:",
            "- text-generation",
            "tags:",
            "- safety",
            "- red-teaming",
            "- cybersecurity",
            "- multi-turn",
            "size_categories:",
            f"- {_size_category(sum(rows.values()))}",
            f"pretty_name: {_yaml_text(competition.name + ' (' + spec.shape + ')')}",
            "configs:",
            *config_lines,
            "---",
        ]
    )
    total = stats.total
    turns = [count for count, n in stats.turns_per_conversation.items() for _ in range(n)]
    replies = stats.replies
    parts = [
        header,
        f"# {competition.name}: {spec.shape} dataset",
        "## What this is",
        (competition.description.strip() or f"Conversations of the competition {competition.slug}.")
        + "\n\nAttacker bots tried to get defender bots to help with harmful or vulnerable code; judges"
        " and human annotators labelled every defender reply. The attacker speaks as `user`, the defender"
        " as `assistant`.",
        f"License: `{license_id}` (from the competition's settings).",
        "## Files and splits",
        _table(
            [(split, files.get(split, "-"), rows.get(split, 0), stats.conversations.get(split, 0)) for split in rows],
            ("split", "file", "rows", "conversations"),
        ),
        f"Split: seed {spec.seed}, ratios train/validation/test {spec.split[0]}/{spec.split[1]}/{spec.split[2]},"
        " assigned per conversation from a hash of its id and the seed.",
        "## Counts",
        _table(
            [
                ("conversations", total),
                ("defender replies", replies["total"]),
                ("labelled replies", replies["labelled"]),
                ("replies labelled by humans", replies["human_labelled"]),
                *([("preference pairs", pairs)] if pairs is not None else []),
            ],
            ("what", "count"),
        ),
        "Turns per conversation: "
        + (
            f"mean {statistics.mean(turns):.2f}, median {statistics.median(turns)}, min {min(turns)}, max {max(turns)}"
            if turns
            else "none"
        )
        + ".\n\n"
        + _table(sorted(stats.turns_per_conversation.items()), ("turns", "conversations")),
        "## Outcomes",
        _table([(name, _share(n, total)) for name, n in stats.outcomes.most_common()], ("outcome", "conversations")),
        "## Labels of defender replies",
        _table(
            [
                (name, _share(replies[name], replies["labelled"]))
                for name in ("unsafe", "safe", "malicious_assistance", "vulnerable_code", "refusal")
            ]
            + [("unlabelled (of all replies)", _share(replies["unlabelled"], replies["total"]))],
            ("label", "replies"),
        ),
        "## Goal categories",
        _table(
            [(name, n, _share(stats.category_successes[name], n)) for name, n in sorted(stats.categories.items())],
            ("category", "conversations", "attack succeeded"),
        ),
        "## CWE ids",
        _table(stats.cwe.most_common(), ("CWE", "replies")) if stats.cwe else "No CWE id in the final labels.",
        "## Teams" + (" (anonymous ids)" if spec.anonymous else ""),
        _table(
            [("attacker", team, _share(n, total)) for team, n in sorted(stats.attacker_teams.items())]
            + [("defender", team, _share(n, total)) for team, n in sorted(stats.defender_teams.items())],
            ("side", "team", "conversations"),
        ),
        "## Diversity and duplicates",
        _table(
            [(name, value) for name, value in stats.diversity().items()]
            + [
                ("de-duplication", spec.dedup),
                ("conversations before de-duplication", dedup.seen),
                ("exact duplicates removed", dedup.exact),
                (f"near duplicates removed (MinHash, Jaccard >= {spec.near_threshold})", dedup.near),
                ("near-duplicate rate", f"{dedup.near_duplicate_rate:.2%}"),
            ],
            ("measure", "value"),
        ),
        "## Human agreement",
        _agreement_text(agreement(conversations)),
        "## Judges",
        _table(
            [
                (row["judge"], row["name"], row["kind"], row["version"], row["verdicts"])
                for row in judges_used(conversations)
            ],
            ("judge", "name", "kind", "version", "verdicts"),
        ),
        "Final labels come, label by label, from an adjudicated human label, else the human majority, else"
        " the judges' ensemble; a label no source decided is empty (null).",
        "## Filters",
        _table([(name, value) for name, value in spec.filters_description().items()], ("filter", "value")),
    ]
    return "\n\n".join(parts) + "\n"


# The figures the card shows per label, by their names in judging.annotation.agreement.agreement_figures.
AGREEMENT_FIGURES = (
    ("krippendorff_alpha", "Krippendorff's alpha"),
    ("percent_agreement", "percent agreement"),
    ("gwet_ac1", "Gwet's AC1"),
    ("fleiss_kappa", "Fleiss' kappa"),
)


def _agreement_text(figures: dict[str, Any]) -> str:
    if not figures["items"]:
        return "No reply of these conversations was annotated by two or more people."

    def value(figure: dict[str, Any]) -> Any:
        return "-" if figure["value"] is None else round(figure["value"], 4)

    rows = [
        (
            label,
            figures["labels"][label]["level"],
            *(value(figures["labels"][label][name]) for name, _ in AGREEMENT_FIGURES),
        )
        for label in AGREEMENT_LABELS
    ]
    return (
        f"{figures['items']} replies annotated by two or more of {figures['annotators']} annotators"
        " (figures as on the annotation campaigns' pages; `-` where a figure is undefined on the data).\n\n"
        + _table(rows, ("label", "level", *(title for _, title in AGREEMENT_FIGURES)))
    )
