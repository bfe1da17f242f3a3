"""Reads for training the learned judge: a competition's replies that humans labelled."""

from __future__ import annotations

from judging import selectors
from judging.judges.learned.model import LABELS, Record
from judging.judges.learned.runner import request_of
from judging.models import Annotation


def _human_value(label: str, adjudication: Annotation | None, annotations: list[Annotation]) -> bool | None:
    # The same precedence as the final label (judging/services/final_labels.py): the adjudication
    # where it sets the label, else a strict majority of the other annotations, else unknown.
    if adjudication is not None and getattr(adjudication, label) is not None:
        return getattr(adjudication, label)
    yes = sum(1 for row in annotations if getattr(row, label) is True)
    no = sum(1 for row in annotations if getattr(row, label) is False)
    return None if yes == no else yes > no


def human_records(*, competition_id: int) -> list[Record]:
    """Each judgeable reply of the competition with a human label (adjudication or annotations),
    as a training record: the labels humans decided (adjudication first, then the majority of the
    annotations; a tie is unknown), the attacker's last message and the reply. In turn order;
    replies where humans decided no label are left out."""
    turn_ids = list(
        selectors.judgeable_turns()
        .filter(conversation__match__round__competition_id=competition_id, annotations__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    adjudications = selectors.adjudications_for(turn_ids=turn_ids)
    annotations = selectors.annotations_for(turn_ids=turn_ids)
    records = []
    for item in selectors.judge_items(turn_ids=turn_ids):
        labels = {
            label: _human_value(label, adjudications.get(item.turn_id), annotations.get(item.turn_id, []))
            for label in LABELS
        }
        if all(value is None for value in labels.values()):
            continue
        source = "adjudication" if item.turn_id in adjudications else "annotation"
        records.append(
            Record(id=f"turn-{item.turn_id}", request=request_of(item), reply=item.reply, labels=labels, source=source)
        )
    return records
