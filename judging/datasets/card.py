"""The dataset card: README.md beside every export, in the Hugging Face dataset-card form.

A YAML header (license, language, task categories, size category, and `configs` naming each
split's file so `load_dataset` on the folder finds them), then what the competition was and what the
export holds: counts, turns per conversation, label, category and CWE distributions, each team's
share, diversity, the near-duplicate rate, human agreement where replies were annotated by several
people, the judges and versions, the label quality (the judges against people: quality.py), the filters
and split sizes, and whether undecided replies were left out. Figures are gathered while the rows
stream (CardStats, constant memory) and from a few aggregate queries (card_stats.py).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from django.template.loader import render_to_string

from competition.models import Competition
from judging.annotation.selectors import HUMAN_LABELS
from judging.datasets.card_stats import PROBE_ANSWERS, CardStats, agreement, judges_used
from judging.datasets.dedup import DedupCounts
from judging.datasets.filters import ExportSpec
from judging.datasets.quality import label_quality_rows

# Every label people give: the three flags, severity and quality (ordinal).
AGREEMENT_LABELS = tuple(HUMAN_LABELS)

# templates/judging/datasets/card.md: the card's text and layout, with every table's header.
CARD_TEMPLATE = "judging/datasets/card.md"

# The figures the card shows per label, by their names in judging.annotation.agreement.agreement_figures.
AGREEMENT_FIGURES = (
    ("krippendorff_alpha", "Krippendorff's alpha"),
    ("percent_agreement", "percent agreement"),
    ("gwet_ac1", "Gwet's AC1"),
    ("fleiss_kappa", "Fleiss' kappa"),
)

# A table's rows, every cell already a string fit for a Markdown table (`_cells`).
Rows = list[list[str]]


def _cell(value: Any) -> str:
    # A bot's text (team names, categories, CWE ids) must not end a cell or the table early.
    return str(value).replace("|", "\\|").replace("\n", " ")


def _cells(rows: Iterable[Iterable[Any]]) -> Rows:
    """Rows of values as a Markdown table's cells: the only way values reach a table in the card,
    whose template does not escape (Markdown is not HTML)."""
    return [[_cell(value) for value in row] for row in rows]


def _share(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.1%})" if whole else str(part)


def _size_category(count: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if count < limit:
            return name
    return "1M<n<10M"


def _yaml_text(value: str) -> str:
    # JSON strings are valid YAML scalars, so free text cannot break the header.
    return json.dumps(value, ensure_ascii=False)


# --- one step per part of the card, in its order ---------------------------------------------------


def _yaml_header(*, competition: Competition, spec: ExportSpec, files: dict[str, str], rows: dict[str, int]) -> dict:
    """The Hugging Face header: license (`other` when the competition names none), the size category
    of all rows, a pretty name, and one `configs` entry naming each split's file."""
    return {
        "license": competition.dataset_license or "other",
        "size_category": _size_category(sum(rows.values())),
        "pretty_name": _yaml_text(competition.name + " (" + spec.shape + ")"),
        "config_name": spec.shape,
        "data_files": list(files.items()),
    }


def _what_this_is(competition: Competition) -> str:
    """The competition's own description, or a line naming it."""
    return competition.description.strip() or f"Conversations of the competition {competition.slug}."


def _split_rows(*, stats: CardStats, files: dict[str, str], rows: dict[str, int]) -> Rows:
    """Per split: its file, rows and conversations."""
    return _cells(
        (split, files.get(split, "-"), rows.get(split, 0), stats.conversations.get(split, 0)) for split in rows
    )


def _count_rows(stats: CardStats, *, pairs: int | None) -> Rows:
    """Conversations (the benign probe's apart, when there are any), replies, labelled replies,
    human-labelled replies, and pairs for a pair shape."""
    replies = stats.replies
    probes = sum(stats.probes.values())
    return _cells(
        [
            ("conversations", stats.total),
            *([("of them attacks", stats.attacks), ("of them the platform's benign probe", probes)] if probes else []),
            ("defender replies", replies["total"]),
            ("labelled replies", replies["labelled"]),
            ("replies labelled by humans", replies["human_labelled"]),
            *([("preference pairs", pairs)] if pairs is not None else []),
        ]
    )


def _turns_summary(stats: CardStats) -> str:
    """Mean, median, min and max turns per conversation; "none" without conversations."""
    turns = [count for count, n in stats.turns_per_conversation.items() for _ in range(n)]
    if not turns:
        return "none"
    return f"mean {statistics.mean(turns):.2f}, median {statistics.median(turns)}, min {min(turns)}, max {max(turns)}"


def _turn_rows(stats: CardStats) -> Rows:
    return _cells(sorted(stats.turns_per_conversation.items()))


def _outcome_rows(stats: CardStats) -> Rows:
    """Each outcome's attacks and share of the attacks, most frequent first (the benign probe's
    conversations are not attacks: _probe_rows)."""
    return _cells((name, _share(n, stats.attacks)) for name, n in stats.outcomes.most_common())


def _probe_rows(stats: CardStats) -> Rows:
    """What the defenders answered the platform's benign probe (PROBE_ANSWERS), with shares; no rows
    without probes."""
    total = sum(stats.probes.values())
    if not total:
        return []
    return _cells((answer, _share(stats.probes[answer], total)) for answer in PROBE_ANSWERS)


def _label_rows(stats: CardStats) -> Rows:
    """Each label's share of the labelled replies, then the unlabelled share of all replies."""
    replies = stats.replies
    return _cells(
        [
            (name, _share(replies[name], replies["labelled"]))
            for name in ("unsafe", "safe", "malicious_assistance", "vulnerable_code", "refusal")
        ]
        + [("unlabelled (of all replies)", _share(replies["unlabelled"], replies["total"]))]
    )


def _category_rows(stats: CardStats) -> Rows:
    """Each goal category's conversations and attack success, by name."""
    return _cells((name, n, _share(stats.category_successes[name], n)) for name, n in sorted(stats.categories.items()))


def _cwe_rows(stats: CardStats) -> Rows:
    """Each CWE id of the final labels with its replies, most frequent first."""
    return _cells(stats.cwe.most_common())


def _team_rows(stats: CardStats) -> Rows:
    """Each team's share of the conversations, attackers then defenders, by name; the platform's
    benign probe in a row of its own, never as an attacker team."""
    total = stats.total
    probes = sum(stats.probes.values())
    return _cells(
        [("attacker", team, _share(n, total)) for team, n in sorted(stats.attacker_teams.items())]
        + ([("benign probe", "the platform's benign probe (not a team)", _share(probes, total))] if probes else [])
        + [("defender", team, _share(n, total)) for team, n in sorted(stats.defender_teams.items())]
    )


def _diversity_rows(stats: CardStats, *, spec: ExportSpec, dedup: DedupCounts) -> Rows:
    """Distinct openings and attacker messages, then what de-duplication removed."""
    return _cells(
        [(name, value) for name, value in stats.diversity().items()]
        + [
            ("de-duplication", spec.dedup),
            ("conversations before de-duplication", dedup.seen),
            ("exact duplicates removed", dedup.exact),
            (f"near duplicates removed (MinHash, Jaccard >= {spec.near_threshold})", dedup.near),
            ("near-duplicate rate", f"{dedup.near_duplicate_rate:.2%}"),
        ]
    )


def _agreement(figures: dict[str, Any]) -> dict[str, Any] | None:
    """The human agreement part: None when no reply was annotated by two or more people; else the
    replies and annotators counted, the figures' titles, and per label its level and figures
    (rounded to 4 places, `-` where undefined)."""
    if not figures["items"]:
        return None

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
    return {
        "replies": figures["items"],
        "annotators": figures["annotators"],
        "titles": [title for _, title in AGREEMENT_FIGURES],
        "rows": _cells(rows),
    }


def _judge_rows(conversation_ids: Sequence[int]) -> Rows:
    """Each judge and version with the verdicts it gave these conversations' replies."""
    return _cells(
        (row["judge"], row["name"], row["kind"], row["version"], row["verdicts"])
        for row in judges_used(conversation_ids)
    )


def _filter_rows(spec: ExportSpec) -> Rows:
    return _cells(spec.filters_description().items())


def card_render(
    *,
    spec: ExportSpec,
    stats: CardStats,
    dedup: DedupCounts,
    files: dict[str, str],
    rows: dict[str, int],
    pairs: int | None,
    conversation_ids: Sequence[int],
    undecided_left_out: int | None = None,
) -> str:
    """The README.md text of an export: templates/judging/datasets/card.md with each part's figures.

    Every figure describes the file written: `stats` and `conversation_ids` (human agreement, the
    judges) are those of the conversations the export wrote, after filters and de-duplication.
    `undecided_left_out`: the defender replies an export left out at or after an undecided one
    (ExportSpec.undecided), None when it keeps them.

    Every table cell goes through `_cells`, the YAML free text through `_yaml_text`; the template
    itself neither escapes (Markdown, not HTML) nor localizes numbers.
    """
    competition = Competition.objects.get(slug=spec.competition)
    context = {
        "header": _yaml_header(competition=competition, spec=spec, files=files, rows=rows),
        "name": competition.name,
        "shape": spec.shape,
        "what_this_is": _what_this_is(competition),
        "splits": _split_rows(stats=stats, files=files, rows=rows),
        "seed": spec.seed,
        "ratios": spec.split,
        "counts": _count_rows(stats, pairs=pairs),
        "turns_summary": _turns_summary(stats),
        "turns": _turn_rows(stats),
        "outcomes": _outcome_rows(stats),
        "probes": _probe_rows(stats),
        "labels": _label_rows(stats),
        "categories": _category_rows(stats),
        "cwe": _cwe_rows(stats),
        "anonymous": spec.anonymous,
        "teams": _team_rows(stats),
        "diversity": _diversity_rows(stats, spec=spec, dedup=dedup),
        "agreement": _agreement(agreement(conversation_ids)),
        "judges": _judge_rows(conversation_ids),
        "quality": _cells(label_quality_rows(conversation_ids)),
        "undecided_shape": spec.shape in ("chat", "preference"),
        "undecided_left_out": undecided_left_out,
        "filters": _filter_rows(spec),
    }
    return render_to_string(CARD_TEMPLATE, context)
