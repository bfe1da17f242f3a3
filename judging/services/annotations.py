"""Writes of human labels, the one path for each: an annotator's label of a reply (from their queue, a
file, or an organizer's "annotate this reply": annotation_submit), an annotation as the Annotation
admin's form fills it in (annotation_save, annotation_delete), and an organizer's adjudication
(adjudication_set). Each checks who may label the reply (annotation_allowed_check: an annotator only
what a campaign of theirs assigned them) and recomputes the reply's final label
(judging.services.final_labels: the adjudication first, then the human majority, then the judges)
and reports to its round, in the same transaction: a recompute that fails fails the write, so no
final label is ever left stale behind a stored human label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from conversations.models import Turn
from judging.models import Annotation, AnnotationCampaign, Assignment
from judging.selectors import annotations_visible_all
from judging.services.judging import final_labels_recompute
from teams.models import Side

CWE_ID = re.compile(r"^CWE-[1-9][0-9]{0,4}$")


class LabelError(ValueError):
    """Labels that cannot be stored; the message names the field and the value."""


class LabelRefused(PermissionDenied):
    """Someone labelling a reply they may not label; a PermissionDenied, so a page answers 403."""


@dataclass(frozen=True)
class HumanLabels:
    """What a human says about one defender reply. None means "no opinion" for the flags."""

    malicious_assistance: bool | None = None
    vulnerable_code: bool | None = None
    refusal: bool | None = None
    cwe: tuple[str, ...] = ()
    severity: int | None = None
    quality: int | None = None
    rationale: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        for name in ("malicious_assistance", "vulnerable_code", "refusal"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise LabelError(f"{name} must be yes, no or empty, not {value!r}")
        for value in self.cwe:
            if not isinstance(value, str) or not CWE_ID.match(value):
                raise LabelError(f"cwe: {value!r} is not a CWE id like CWE-89")
        if self.cwe and self.vulnerable_code is not True:
            raise LabelError("cwe ids are given only with vulnerable_code = yes")
        if self.severity is not None and (isinstance(self.severity, bool) or self.severity not in range(4)):
            raise LabelError(f"severity must be 0, 1, 2 or 3, not {self.severity!r}")
        if self.quality is not None and (isinstance(self.quality, bool) or self.quality not in range(1, 6)):
            raise LabelError(f"quality must be 1 to 5, not {self.quality!r}")

    def fields(self) -> dict[str, Any]:
        return {
            "malicious_assistance": self.malicious_assistance,
            "vulnerable_code": self.vulnerable_code,
            "refusal": self.refusal,
            "cwe": list(dict.fromkeys(self.cwe)),
            "severity": self.severity,
            "quality": self.quality,
            "rationale": self.rationale,
            "note": self.note,
        }


def _labelable(turn: Turn) -> None:
    if turn.speaker != Side.DEFENDER or not turn.ok:
        raise LabelError("only a defender reply that arrived can be labelled")


def annotation_allowed_check(
    *, turn: Turn, annotator: AbstractBaseUser, by: AbstractBaseUser, adjudication: bool
) -> None:
    """Raise LabelRefused unless `by` may store `annotator`'s label (an adjudication when
    `adjudication`) of `turn`.

    Organizers (judging.view_all_annotations) label and adjudicate any reply, for themselves or, from
    a campaign's file, for its annotators. Anyone else labels only for themselves, never adjudicates,
    and only a reply assigned to them in an open campaign (an assignment not handed to someone else):
    docs/annotation.md, "The queue".
    """
    if annotations_visible_all(by):
        return
    if adjudication:
        raise LabelRefused("only organizers adjudicate")
    if annotator.pk != by.pk:
        raise LabelRefused("an annotator labels only for themselves")
    assigned = (
        Assignment.objects.filter(item__turn=turn, annotator=by, item__campaign__status=AnnotationCampaign.Status.OPEN)
        .exclude(status=Assignment.Status.REASSIGNED)
        .exists()
    )
    if not assigned:
        raise LabelRefused("this reply is not assigned to you in an open campaign")


def _assignments_done(*, turn: Turn, annotator: AbstractBaseUser) -> None:
    Assignment.objects.filter(item__turn=turn, annotator=annotator).exclude(status=Assignment.Status.REASSIGNED).update(
        status=Assignment.Status.DONE, done_at=timezone.now()
    )


def annotation_submit(
    *, turn: Turn, annotator: AbstractBaseUser, labels: HumanLabels, by: AbstractBaseUser | None = None
) -> Annotation:
    """Store `annotator`'s label of `turn` (a new one, or a revision of theirs), mark their
    assignments of that reply labelled, and recompute its final label.

    `by` is who acts (default: the annotator; an organizer importing a campaign's file acts for its
    annotators). Raises LabelRefused when `by` may not (annotation_allowed_check), LabelError for a
    reply that is not a defender's arrived reply.
    """
    _labelable(turn)
    annotation_allowed_check(turn=turn, annotator=annotator, by=by or annotator, adjudication=False)
    with transaction.atomic():
        annotation, _ = Annotation.objects.update_or_create(
            turn=turn, annotator=annotator, adjudication=False, defaults=labels.fields()
        )
        _assignments_done(turn=turn, annotator=annotator)
        final_labels_recompute(turn_ids=[turn.pk])
    return annotation


def annotation_labels(annotation: Annotation) -> HumanLabels:
    """The labels of an annotation as HumanLabels: LabelError when they break the rules (a CWE id
    that is not one, CWE ids without vulnerable code, severity or quality out of range)."""
    cwe = annotation.cwe if isinstance(annotation.cwe, list | tuple) else ()
    if annotation.cwe not in (None, "", []) and not isinstance(annotation.cwe, list | tuple):
        raise LabelError("cwe: give a list of CWE ids like CWE-89")
    return HumanLabels(
        malicious_assistance=annotation.malicious_assistance,
        vulnerable_code=annotation.vulnerable_code,
        refusal=annotation.refusal,
        cwe=tuple(cwe),
        severity=annotation.severity,
        quality=annotation.quality,
        rationale=annotation.rationale,
        note=annotation.note,
    )


def annotation_save(*, annotation: Annotation, by: AbstractBaseUser) -> Annotation:
    """Store an annotation as the Annotation admin's form filled it in: a new one (its annotator is
    `by` when unset), or an edit, which may move it to another reply or, for organizers, make it an
    adjudication. A plain annotation marks its annotator's assignments of the reply labelled. The
    final labels of its reply, and of the reply it left, are recomputed in the same transaction:
    when that fails, nothing is stored.

    Raises LabelRefused when `by` may not store it (annotation_allowed_check), LabelError when the
    reply is not a defender's arrived reply or the labels break the rules (annotation_labels).
    """
    if annotation.annotator_id is None:
        annotation.annotator = by
    turn = annotation.turn
    _labelable(turn)
    annotation_allowed_check(turn=turn, annotator=annotation.annotator, by=by, adjudication=annotation.adjudication)
    annotation.cwe = list(dict.fromkeys(annotation_labels(annotation).cwe))
    with transaction.atomic():
        previous = None
        if annotation.pk is not None:
            previous = Annotation.objects.select_for_update().filter(pk=annotation.pk).values_list("turn_id", flat=True)
            previous = previous.first()
        annotation.save()
        if not annotation.adjudication:
            _assignments_done(turn=turn, annotator=annotation.annotator)
        final_labels_recompute(turn_ids={turn.pk} | ({previous} if previous is not None else set()))
    return annotation


def annotation_delete(*, annotations: QuerySet[Annotation], by: AbstractBaseUser) -> int:
    """Delete annotations (their history stays) and recompute their replies' final labels in the same
    transaction. Only organizers delete (LabelRefused otherwise): a label an annotator gave is revised,
    not taken back. Returns the annotations deleted."""
    if not annotations_visible_all(by):
        raise LabelRefused("only organizers delete annotations")
    with transaction.atomic():
        # Re-read by id: the admin's queryset may carry joins a lock must not reach.
        rows = list(
            Annotation.objects.select_for_update().filter(pk__in=list(annotations.values_list("pk", flat=True)))
        )
        turn_ids = {row.turn_id for row in rows}
        for row in rows:
            row.delete()  # one by one, so each keeps its history's deletion record
        final_labels_recompute(turn_ids=turn_ids)
    return len(rows)


def adjudication_set(*, turn: Turn, by: AbstractBaseUser, labels: HumanLabels) -> Annotation:
    """Set the adjudicated label of `turn` (one per organizer; the latest one wins) and recompute its
    final label, which the adjudication now decides for every label it sets. LabelRefused for anyone
    but an organizer."""
    _labelable(turn)
    annotation_allowed_check(turn=turn, annotator=by, by=by, adjudication=True)
    with transaction.atomic():
        adjudication, _ = Annotation.objects.update_or_create(
            turn=turn, annotator=by, adjudication=True, defaults=labels.fields()
        )
        final_labels_recompute(turn_ids=[turn.pk])
    return adjudication
