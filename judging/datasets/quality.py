"""The dataset card's label quality: how well the automatic judges' labels agree with people's.

For every defender reply of the exported conversations that people labelled (an adjudication or
annotations), each boolean label is read twice: as people alone decide it (the adjudication, else
the human majority: judging.services.labels_by_people) and as the judge ensemble alone decides it
(judging.services.labels_by_judges, what the final label would be without people). People's value
is the truth; the judges' value the prediction, counted as judging/judges/accuracy.py counts it: an
undecided judges' label on a reply people said True is a miss (it costs recall, never precision).
Precision and recall come with Wilson 95% intervals (judging.judges.accuracy.wilson_interval). A label no
person decided on any reply is "not measured" (docs/datasets.md, "Label quality").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from judging import selectors
from judging.judges.accuracy import Tally
from judging.models import Annotation
from judging.services import BOOLEAN_LABELS, labels_by_judges, labels_by_people

# Conversation ids per query, as the card's own queries (judging/datasets/card_stats.py: IDS_PER_QUERY).
IDS_PER_QUERY = 900


def label_tallies(conversation_ids: Sequence[int]) -> dict[str, Tally]:
    """Per boolean label, the judges' labels against people's over the defender replies of these
    conversations (the ones the export wrote) that have a human label; a Tally per label (its `n` is
    0 when no person decided the label anywhere)."""
    turn_ids: set[int] = set()
    for start in range(0, len(conversation_ids), IDS_PER_QUERY):
        chunk = list(conversation_ids[start : start + IDS_PER_QUERY])
        turn_ids.update(
            Annotation.objects.filter(turn__conversation_id__in=chunk).order_by().values_list("turn_id", flat=True)
        )
    adjudications = selectors.adjudications_for(turn_ids=turn_ids)
    annotations = selectors.annotations_for(turn_ids=turn_ids)
    verdicts = selectors.ensemble_verdicts_for(turn_ids=turn_ids)
    tallies = {label: Tally() for label in BOOLEAN_LABELS}
    for turn_id in sorted(turn_ids):
        people = labels_by_people(adjudication=adjudications.get(turn_id), annotations=annotations.get(turn_id, []))
        judges = labels_by_judges(verdicts=verdicts.get(turn_id, []))
        for label in BOOLEAN_LABELS:
            if people[label] is not None:
                tallies[label].add(str(turn_id), people[label], judges[label])
    return tallies


def _figure(value: float | None, interval: list[float] | None) -> str:
    """The figure as "0.875 [0.529, 0.978]", or "-" when undefined (no positive on that side)."""
    if value is None or interval is None:
        return "-"
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def label_quality_rows(conversation_ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """Per boolean label: (label, human-labelled replies, precision [95% interval], recall [95%
    interval], judges undecided); "not measured" in place of the figures when no person decided it."""
    rows = []
    for label, tally in label_tallies(conversation_ids).items():
        if not tally.n:
            rows.append((label, 0, "not measured", "not measured", "-"))
            continue
        figures = tally.as_dict()
        rows.append(
            (
                label,
                tally.n,
                _figure(figures["precision"], figures["precision_interval"]),
                _figure(figures["recall"], figures["recall_interval"]),
                tally.undecided,
            )
        )
    return rows
