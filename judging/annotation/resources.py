"""Offline annotation through django-import-export: a campaign's assignments out to CSV or JSON with
the reply to label and any label already given, and labels back in.

An import is all or nothing: every row is checked (the assignment is in the campaign and the
importer's own, unless an organizer imports; yes/no cells say yes or no; severity 0-3; quality 1-5;
CWE ids well formed and only with vulnerable code), and a file with any bad row imports nothing and
names each bad row and why. A row whose label cells are all empty is left alone (not labelled yet).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields, resources

from judging.models import Annotation, AnnotationCampaign, Assignment
from judging.services.annotations import CWE_ID, HumanLabels, LabelError, annotation_submit
from teams.resources import AllOrNothingImportMixin, FormulaSafeExportMixin, StrictBooleanWidget

FLAG_COLUMNS = ("malicious_assistance", "vulnerable_code", "refusal")
LABEL_COLUMNS = (*FLAG_COLUMNS, "cwe", "severity", "quality", "rationale", "note")
REQUIRED_COLUMNS = (*FLAG_COLUMNS, "severity")


def _cell(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


def _whole(value: str, column: str, allowed: range) -> int | None:
    if value == "":
        return None
    if not re.fullmatch(r"[0-9]+(\.0+)?", value) or int(float(value)) not in allowed:
        raise ValueError(f"{value!r} is not one of {allowed.start} to {allowed.stop - 1}")
    return int(float(value))


def labels_from_row(row: dict[str, Any]) -> HumanLabels | None:
    """The labels a file row gives, or None when its label cells are all empty. Raises
    ValidationError naming each bad column."""
    if all(_cell(row, column) == "" for column in LABEL_COLUMNS):
        return None
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for column in FLAG_COLUMNS:
        try:
            values[column] = StrictBooleanWidget().clean(_cell(row, column))
        except ValueError as exc:
            errors[column] = str(exc)
    for column, allowed in (("severity", range(4)), ("quality", range(1, 6))):
        try:
            values[column] = _whole(_cell(row, column), column, allowed)
        except ValueError as exc:
            errors[column] = str(exc)
    for column in REQUIRED_COLUMNS:
        if column not in errors and values.get(column) is None:
            errors[column] = "is empty: a labelled row needs every yes/no label and the severity"
    cwe = [part.strip().upper() for part in re.split(r"[,;\s]+", _cell(row, "cwe")) if part.strip()]
    bad = [value for value in cwe if not CWE_ID.match(value)]
    if bad:
        errors["cwe"] = f"{', '.join(bad)}: not CWE ids like CWE-89"
    if errors:
        raise ValidationError(errors)
    try:
        return HumanLabels(
            **{column: values[column] for column in (*FLAG_COLUMNS, "severity", "quality")},
            cwe=tuple(cwe),
            rationale=_cell(row, "rationale"),
            note=_cell(row, "note"),
        )
    except LabelError as exc:
        raise ValidationError({"labels": str(exc)}) from exc


class CampaignLabelsResource(AllOrNothingImportMixin, resources.ModelResource):
    """One row per assignment: who, the reply to label, and the labels (empty until given).

    Made for one campaign and one person: an annotator reads and writes only their own rows; an
    organizer (``everyone=True``) every row of the campaign.
    """

    assignment = fields.Field(attribute="id", column_name="assignment")
    campaign = fields.Field(column_name="campaign", readonly=True)
    item = fields.Field(column_name="item", readonly=True)
    annotator = fields.Field(column_name="annotator", readonly=True)
    conversation = fields.Field(column_name="conversation", readonly=True)
    turn_index = fields.Field(column_name="turn_index", readonly=True)
    goal_category = fields.Field(column_name="goal_category", readonly=True)
    goal_target = fields.Field(column_name="goal_target", readonly=True)
    reply = fields.Field(column_name="reply", readonly=True)
    malicious_assistance = fields.Field(column_name="malicious_assistance", readonly=True)
    vulnerable_code = fields.Field(column_name="vulnerable_code", readonly=True)
    refusal = fields.Field(column_name="refusal", readonly=True)
    cwe = fields.Field(column_name="cwe", readonly=True)
    severity = fields.Field(column_name="severity", readonly=True)
    quality = fields.Field(column_name="quality", readonly=True)
    rationale = fields.Field(column_name="rationale", readonly=True)
    note = fields.Field(column_name="note", readonly=True)

    class Meta:
        model = Assignment
        fields = (
            "assignment",
            "campaign",
            "item",
            "annotator",
            "conversation",
            "turn_index",
            "goal_category",
            "goal_target",
            "reply",
            *LABEL_COLUMNS,
        )
        import_id_fields = ("assignment",)
        use_transactions = True
        skip_diff = True

    def __init__(self, *, campaign: AnnotationCampaign, user: Any, everyone: bool = False) -> None:
        super().__init__()
        self.campaign, self.user, self.everyone = campaign, user, everyone
        self._labels: dict[int, Annotation] = {}

    def get_queryset(self):
        rows = (
            Assignment.objects.filter(item__campaign=self.campaign)
            .exclude(status=Assignment.Status.REASSIGNED)
            .select_related("item__turn__conversation", "annotator")
            .order_by("item__position", "annotator__username")
        )
        return rows if self.everyone else rows.filter(annotator=self.user)

    def export(self, queryset=None, **kwargs):
        queryset = self.get_queryset() if queryset is None else queryset
        self._labels = {
            (annotation.turn_id, annotation.annotator_id): annotation
            for annotation in Annotation.objects.filter(
                adjudication=False, turn_id__in=queryset.values("item__turn_id")
            )
        }
        return super().export(queryset=queryset, **kwargs)

    def _label(self, assignment: Assignment) -> Annotation | None:
        return self._labels.get((assignment.item.turn_id, assignment.annotator_id))

    def export_field(self, field, instance, **kwargs):
        name = field.column_name
        turn = instance.item.turn
        if name == "campaign":
            return self.campaign.name
        if name == "item":
            return instance.item.position + 1
        if name == "annotator":
            return instance.annotator.get_username()
        if name == "conversation":
            return str(turn.conversation.uuid)
        if name == "turn_index":
            return turn.index
        if name in ("goal_category", "goal_target"):
            return getattr(turn.conversation, name)
        if name == "reply":
            return turn.content
        if name in LABEL_COLUMNS:
            label = self._label(instance)
            if label is None:
                return ""
            value = getattr(label, name)
            if name == "cwe":
                return ", ".join(value or [])
            if isinstance(value, bool):
                return "yes" if value else "no"
            return "" if value is None else value
        return super().export_field(field, instance, **kwargs)

    def init_instance(self, row=None):
        key = _cell(row or {}, "assignment") or "(empty)"
        raise ValidationError({"assignment": f"{key} is not an assignment of yours in this campaign"})

    def import_instance(self, instance, row, **kwargs):
        instance.labels_given = labels_from_row(row)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return not import_validation_errors and getattr(instance, "labels_given", None) is None

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        if import_validation_errors:
            raise ValidationError(import_validation_errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        annotation_submit(
            turn=instance.item.turn, annotator=instance.annotator, labels=instance.labels_given, by=self.user
        )


class CampaignLabelsSpreadsheetResource(FormulaSafeExportMixin, CampaignLabelsResource):
    """The CSV export: text a spreadsheet would run as a formula gets a leading quote."""
