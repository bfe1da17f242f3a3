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
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import krippendorff
import numpy as np
from django.db.models import Count, QuerySet

from competition.models import Competition
from conversations.models import Conversation
from judging.datasets.dedup import DedupCounts
from judging.datasets.filters import ExportSpec
from judging.datasets.records import ConversationRecord
from judging.models import Annotation, Verdict

AGREEMENT_LABELS = ("malicious_assistance", "vulnerable_code", "refusal")


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
        opening = True
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
            self.replies["total"] += 1
            label = turn.label
            if label is None:
                self.replies["unlabelled"] += 1
                continue
            self.replies["labelled"] += 1
            self.replies["unsafe"] += label.unsafe
            self.replies["safe"] += label.safe
            self.replies["malicious_assistance"] += bool(label.malicious_assistance)
            self.replies["vulnerable_code"] += bool(label.vulnerable_code)
            self.replies["refusal"] += bool(label.refusal)
            self.replies["human_labelled"] += label.human
            if label.cwe:
                self.cwe.update(label.cwe)

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


def agreement(conversations: QuerySet[Conversation]) -> dict[str, Any] | None:
    """Human agreement over replies of these conversations with two or more (non-adjudication)
    annotations: per label, Krippendorff's alpha (nominal) and the share of pairs that agree.
    None when no reply has two annotations."""
    votes: dict[int, dict[int, Annotation]] = defaultdict(dict)
    for annotation in Annotation.objects.filter(turn__conversation__in=conversations, adjudication=False).only(
        "turn_id", "annotator_id", *AGREEMENT_LABELS
    ):
        votes[annotation.turn_id][annotation.annotator_id] = annotation
    shared = {turn: by_annotator for turn, by_annotator in votes.items() if len(by_annotator) >= 2}
    if not shared:
        return None
    annotators = sorted({annotator for by_annotator in shared.values() for annotator in by_annotator})
    figures: dict[str, Any] = {"replies": len(shared), "annotators": len(annotators)}
    for label in AGREEMENT_LABELS:
        matrix = np.full((len(annotators), len(shared)), np.nan)
        agree = pairs = 0
        for column, by_annotator in enumerate(shared.values()):
            values = []
            for annotator, annotation in by_annotator.items():
                value = getattr(annotation, label)
                if value is not None:
                    matrix[annotators.index(annotator), column] = float(value)
                    values.append(value)
            for first in range(len(values)):
                for second in range(first + 1, len(values)):
                    pairs += 1
                    agree += values[first] == values[second]
        alpha = None
        if np.count_nonzero(~np.isnan(matrix)) and len(np.unique(matrix[~np.isnan(matrix)])) > 1:
            alpha = round(float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")), 4)
        figures[label] = {"alpha": alpha, "pair_agreement": round(agree / pairs, 4) if pairs else None}
    return figures


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


def _agreement_text(figures: dict[str, Any] | None) -> str:
    if figures is None:
        return "No reply of these conversations was annotated by two or more people."
    rows = [(label, figures[label]["alpha"], figures[label]["pair_agreement"]) for label in AGREEMENT_LABELS]
    return f"{figures['replies']} replies annotated by two or more of {figures['annotators']} annotators.\n\n" + _table(
        rows, ("label", "Krippendorff's alpha (nominal)", "pairwise agreement")
    )
