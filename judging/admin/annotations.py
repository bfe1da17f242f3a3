"""The admin of human annotations. Annotators work here blind: they see and edit only their own
annotations. Organizers (permission ``judging.view_all_annotations``, given by the Organizer group)
see everything.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from judging.admin.labels import LABEL_COLUMNS, LABEL_FIELDS, ReplyLabelAdminMixin
from judging.annotation.forms import ReplyPickerForm
from judging.models import Annotation
from judging.selectors import annotations_visible_all
from judging.services.annotations import (
    LabelError,
    LabelRefused,
    annotation_allowed_check,
    annotation_delete,
    annotation_labels,
    annotation_save,
)


def cwe_ids_parse(text: str) -> list[str]:
    """CWE ids written in a text box, separated by commas or spaces, upper-cased; blank is none."""
    return [value.upper() for value in re.split(r"[,\s]+", text.strip()) if value]


class AnnotationForm(ReplyPickerForm, forms.ModelForm):
    """An annotation by ``annotator`` (set by the admin for the signed-in user on new annotations) of
    a defender reply picked by conversation id and turn number (ReplyPickerForm). The labels follow
    the rules of every human label (judging.services.annotations.annotation_labels): a bad one is an
    error on the form."""

    annotator: AbstractBaseUser | None = None

    cwe = forms.CharField(
        required=False,
        label="CWE",
        help_text="With vulnerable code: CWE ids separated by commas, e.g. CWE-89, CWE-79 (blank: none)",
    )

    class Meta:
        model = Annotation
        fields = ["adjudication", *LABEL_FIELDS, "quality", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.annotator_id is None and self.annotator is not None:
            self.instance.annotator = self.annotator
        if isinstance(self.instance.cwe, list):
            self.initial["cwe"] = ", ".join(map(str, self.instance.cwe))

    def clean_cwe(self) -> list[str]:
        return cwe_ids_parse(self.cleaned_data.get("cwe") or "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        turn = cleaned.get("turn")
        # The annotator is not a form field, so the model form skips this unique constraint.
        adjudication = cleaned.get("adjudication", self.instance.adjudication)
        if turn is not None and self.instance.annotator_id is not None:
            duplicate = Annotation.objects.filter(
                turn=turn, annotator_id=self.instance.annotator_id, adjudication=adjudication
            ).exclude(pk=self.instance.pk)
            if duplicate.exists():
                raise forms.ValidationError("This reply already has your annotation: edit that one instead.")
            # Who may label this reply, asked before saving so that a refusal is an error on the form
            # that keeps what was typed (the save asks again: a 403 for every other door).
            if self.annotator is not None:
                try:
                    annotation_allowed_check(
                        turn=turn, annotator=self.instance.annotator, by=self.annotator, adjudication=bool(adjudication)
                    )
                except LabelRefused as refused:
                    raise forms.ValidationError(f"You cannot label this reply: {refused}.") from refused
        if not self.errors:
            labels = {name: cleaned.get(name) for name in [*LABEL_FIELDS, "quality", "note"] if name in cleaned}
            try:
                annotation_labels(Annotation(**labels))
            except LabelError as error:
                raise forms.ValidationError(str(error)) from error
        return cleaned


@admin.register(Annotation)
class AnnotationAdmin(ReplyLabelAdminMixin, SimpleHistoryAdmin):
    """Annotators see and edit only their own annotations; the annotator is always who saved it first."""

    form = AnnotationForm
    list_display = ["reply_ref", "annotator", "labels", "kind", "quality"]
    search_fields = ["^turn__conversation__uuid", "rationale", "note"]
    list_select_related = ["annotator", "turn__conversation"]
    date_hierarchy = "updated_at"
    fieldsets = [
        (None, {"fields": ["conversation", "turn_number", "transcript", "reply", "annotator", "adjudication"]}),
        ("Labels", {"fields": LABEL_FIELDS}),
        ("Review", {"fields": ["quality", "note"]}),
        ("Timeline", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="Kind", ordering="adjudication")
    def kind(self, annotation: Annotation) -> str:
        return "adjudication" if annotation.adjudication else "annotation"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Annotation]:
        queryset = super().get_queryset(request)
        if annotations_visible_all(request.user):
            return queryset
        return queryset.filter(annotator=request.user)

    def get_list_filter(self, request: HttpRequest) -> list:
        filters = ["adjudication", *LABEL_COLUMNS]
        if annotations_visible_all(request.user):
            filters.append(("annotator", admin.RelatedOnlyFieldListFilter))
        return filters

    def get_fieldsets(self, request: HttpRequest, obj: Annotation | None = None) -> list:
        if annotations_visible_all(request.user):
            return self.fieldsets
        # Annotators are blind: the transcript names the bots and shows every label; the reply in its
        # conversation (the "reply" field) is what they read.
        return [
            (name, {**options, "fields": [field for field in options["fields"] if field != "transcript"]})
            for name, options in self.fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Annotation | None = None) -> list:
        fields = ["transcript", "reply", "annotator", "created_at", "updated_at"]
        if not annotations_visible_all(request.user):
            # An adjudication settles disagreements and wins over every label: organizers only.
            fields.append("adjudication")
        return fields

    def has_view_permission(self, request: HttpRequest, obj: Annotation | None = None) -> bool:
        return super().has_view_permission(request, obj) and self.is_visible_to(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Annotation | None = None) -> bool:
        return super().has_change_permission(request, obj) and self.is_visible_to(request, obj)

    def is_visible_to(self, request: HttpRequest, annotation: Annotation | None) -> bool:
        return annotation is None or annotation.annotator_id == request.user.pk or annotations_visible_all(request.user)

    def get_form(self, request: HttpRequest, obj: Annotation | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"annotator": request.user})

    # The one write path of labels (judging.services.annotations): who may label the reply is
    # checked there (LabelRefused is a 403), and the final labels are recomputed in the same
    # transaction as the save or the delete.
    def save_model(self, request: HttpRequest, obj: Annotation, form: forms.Form, change: bool) -> None:
        annotation_save(annotation=obj, by=request.user)

    def delete_model(self, request: HttpRequest, obj: Annotation) -> None:
        annotation_delete(annotations=Annotation.objects.filter(pk=obj.pk), by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Annotation]) -> None:
        annotation_delete(annotations=queryset, by=request.user)
