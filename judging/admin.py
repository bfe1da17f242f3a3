"""The admin for what it was: judges, their verdicts, human annotations and final labels.

Annotators work here too, blind: they see and edit only their own annotations, and no final label
that was decided by humans. Organizers (permission ``judging.view_all_annotations``, given by the
Organizer group) see everything.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from config.admin_kit import PrettyJSONField, ViewOnlyAdminMixin, flag_html, json_pre, text_pre, yes_no_flag
from conversations.models import Turn, turn_name
from judging.annotation.forms import ReplyPickerForm, conversation_short_id
from judging.judges.accuracy_admin import accuracy_html, accuracy_latest
from judging.judges.credentials import CREDENTIAL_KEYS
from judging.judges.learned.admin import LearnedJudgeAdminMixin
from judging.models import Annotation, FinalLabel, Judge, LabelFields, Verdict
from judging.reading.admin import transcript_url
from judging.reading.transcript import HUMAN_SOURCES
from judging.selectors import annotations_visible_all
from judging.services.annotations import (
    LabelError,
    LabelRefused,
    annotation_allowed_check,
    annotation_delete,
    annotation_labels,
    annotation_save,
)

LABEL_COLUMNS = ["malicious_assistance", "vulnerable_code", "refusal", "severity"]
LABEL_FIELDS = ["malicious_assistance", "vulnerable_code", "refusal", "cwe", "severity", "rationale"]
# The labels on a read-only page, in words (ReplyLabelAdminMixin): unsafe warns, safe is neutral.
LABEL_FIELDS_SHOWN = [
    "malicious_assistance_text",
    "vulnerable_code_text",
    "refusal_text",
    "cwe_text",
    "severity",
    "rationale_text",
]
CREDENTIAL_MASK = "******** (stored; replace to change)"


def reply_in_context(turn_id: int | None) -> str:
    """The conversation up to and including turn ``turn_id``, as the annotator needs to read it."""
    if turn_id is None:
        return "-"
    turn = Turn.objects.filter(pk=turn_id).only("conversation_id", "index").first()
    if turn is None:
        return "-"
    turns = Turn.objects.filter(conversation_id=turn.conversation_id, index__lte=turn.index).order_by("index")
    return format_html_join(
        "",
        '<div style="margin-bottom: 1em"><strong>Turn {} · {}{}</strong>{}</div>',
        (
            (
                earlier.index,
                earlier.get_speaker_display(),
                "" if earlier.ok else f" ({earlier.get_status_display()})",
                text_pre(earlier.content if earlier.ok else earlier.error_detail),
            )
            for earlier in turns
        ),
    )


def transcript_link(turn_id: int | None) -> str:
    """A link to the transcript of the turn's conversation, at the turn."""
    turn = Turn.objects.filter(pk=turn_id).only("conversation_id", "index").first() if turn_id else None
    if turn is None:
        return "-"
    return format_html(
        '<a href="{}#turn-{}">Read the whole transcript</a>', transcript_url(turn.conversation_id), turn.index
    )


class ReplyLabelAdminMixin:
    """Read-only fields for the admins of labels on one defender reply (verdicts, annotations, final
    labels): the reply in its conversation, a link to its transcript, and, where the labels are only
    read, the rationale as written."""

    @admin.display(description="Reply", ordering="turn")
    def reply_ref(self, label: Verdict | Annotation | FinalLabel) -> str:
        """The reply as people name it: its conversation's short id (searchable) and its turn number."""
        return turn_name(short_id=conversation_short_id(label.turn.conversation), index=label.turn.index)

    @admin.display(description="Reply in its conversation")
    def reply(self, label: Verdict | Annotation | FinalLabel) -> str:
        return reply_in_context(label.turn_id)

    @admin.display(description="Transcript")
    def transcript(self, label: Verdict | Annotation | FinalLabel) -> str:
        return transcript_link(label.turn_id)

    @admin.display(description="Rationale")
    def rationale_text(self, label: Verdict | Annotation | FinalLabel) -> str:
        return text_pre(label.rationale)

    @admin.display(description="Labels")
    def labels(self, label: Verdict | Annotation | FinalLabel) -> str:
        return labels_html(label)

    @admin.display(description="Malicious assistance")
    def malicious_assistance_text(self, label: Verdict | Annotation | FinalLabel) -> str:
        return yes_no_flag(label.malicious_assistance, yes="yes: unsafe", no="no", warn_when=True, unknown="no opinion")

    @admin.display(description="Vulnerable code")
    def vulnerable_code_text(self, label: Verdict | Annotation | FinalLabel) -> str:
        return yes_no_flag(label.vulnerable_code, yes="yes: unsafe", no="no", warn_when=True, unknown="no opinion")

    @admin.display(description="Refusal")
    def refusal_text(self, label: Verdict | Annotation | FinalLabel) -> str:
        return yes_no_flag(label.refusal, yes="yes", no="no", unknown="no opinion")

    @admin.display(description="CWE")
    def cwe_text(self, label: Verdict | Annotation | FinalLabel) -> str:
        return ", ".join(map(str, label.cwe)) if isinstance(label.cwe, list) and label.cwe else "-"


def labels_html(label: LabelFields) -> str:
    """A row's labels in words for a list: unsafe labels in the warning colour, "safe" neutral,
    a refusal, the CWE ids and the severity; "no opinion" when the row says nothing."""
    flags = []
    if label.malicious_assistance:
        flags.append(flag_html("malicious assistance", "warn"))
    if label.vulnerable_code:
        cwe = ", ".join(map(str, label.cwe)) if isinstance(label.cwe, list) and label.cwe else ""
        flags.append(flag_html(f"vulnerable code {cwe}".strip(), "warn"))
    if label.malicious_assistance is False and label.vulnerable_code is False:
        flags.append(flag_html("safe"))
    if label.refusal:
        flags.append(flag_html("refusal", "info"))
    elif label.refusal is False:
        flags.append(flag_html("answered"))
    if label.severity is not None:
        flags.append(flag_html(f"severity {label.severity}"))
    if not flags:
        return flag_html("no opinion", "none")
    return format_html_join(" ", "{}", ((flag,) for flag in flags))


def config_masked(config: Any) -> Any:
    """A judge's config with its credentials (LLM API key, HTTP signing secrets) replaced by a mask."""
    if not isinstance(config, dict):
        return config
    return {key: CREDENTIAL_MASK if key in CREDENTIAL_KEYS and value else value for key, value in config.items()}


class JudgeForm(forms.ModelForm):
    """Edits a judge's config with its credentials masked; a mask left in place keeps the stored value."""

    class Meta:
        model = Judge
        fields = ["competition", "name", "slug", "kind", "config", "version", "active"]
        field_classes = {"config": PrettyJSONField}
        widgets = {"config": forms.Textarea(attrs={"rows": 10, "cols": 80})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["config"] = config_masked(self.instance.config)

    def clean_config(self) -> Any:
        config = self.cleaned_data["config"]
        stored = self.instance.config if self.instance.pk is not None and isinstance(self.instance.config, dict) else {}
        if isinstance(config, dict):
            for key in CREDENTIAL_KEYS:
                if config.get(key) == CREDENTIAL_MASK:
                    config[key] = stored.get(key, "")
        return config


@admin.register(Judge)
class JudgeAdmin(LearnedJudgeAdminMixin, SimpleHistoryAdmin):
    form = JudgeForm
    list_display = ["name", "slug", "competition", "kind", "version", "active", "verdict_count"]
    list_filter = ["kind", "active", "competition"]
    search_fields = ["name", "slug", "competition__name"]
    list_select_related = ["competition"]
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ["config_pretty", "created_at", "last_accuracy", "learned_models_text"]
    fields = [
        "competition",
        "name",
        "slug",
        "kind",
        "config",
        "version",
        "active",
        "created_at",
        "last_accuracy",
        "learned_models_text",
    ]
    actions = ["train_learned_judges"]

    def get_fields(self, request: HttpRequest, obj: Judge | None = None) -> list[str]:
        if self.has_change_permission(request, obj):
            return self.fields
        # Read-only viewers (annotators) would see the raw config, credentials included.
        return [("config_pretty" if name == "config" else name) for name in self.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Judge]:
        return super().get_queryset(request).annotate(verdict_count=Count("verdicts"))

    @admin.display(description="Config")
    def config_pretty(self, judge: Judge) -> str:
        return json_pre(config_masked(judge.config))

    @admin.display(description="Last accuracy measurement")
    def last_accuracy(self, judge: Judge) -> str:
        return accuracy_html(accuracy_latest(judge)) if judge.pk else "-"

    @admin.display(description="Verdicts", ordering="verdict_count")
    def verdict_count(self, judge: Judge) -> int:
        return judge.verdict_count


@admin.register(Verdict)
class VerdictAdmin(ReplyLabelAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["reply_ref", "judge", "labels", "ok"]
    list_filter = ["judge", *LABEL_COLUMNS, ("error", admin.EmptyFieldListFilter)]
    search_fields = ["^turn__conversation__uuid", "rationale", "error"]
    list_select_related = ["judge", "turn__conversation"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "turn",
        "transcript",
        "reply",
        "judge",
        "judge_version",
        *LABEL_FIELDS_SHOWN,
        "probabilities",
        "findings_pretty",
        "raw_output_pretty",
        "error_text",
        "duration_ms",
        "created_at",
    ]
    fields = readonly_fields

    @admin.display(description="Judged")
    def ok(self, verdict: Verdict) -> str:
        return yes_no_flag(verdict.ok, yes="yes", no="error", warn_when=False)

    @admin.display(description="Findings")
    def findings_pretty(self, verdict: Verdict) -> str:
        return json_pre(verdict.findings)

    @admin.display(description="Raw output")
    def raw_output_pretty(self, verdict: Verdict) -> str:
        return json_pre(verdict.raw_output)

    @admin.display(description="Error")
    def error_text(self, verdict: Verdict) -> str:
        return text_pre(verdict.error)


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


@admin.register(FinalLabel)
class FinalLabelAdmin(ReplyLabelAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    """Final labels; an annotator sees only those the judges decided, never one humans decided."""

    list_display = ["reply_ref", "labels", "source", "computed_at"]
    list_select_related = ["turn__conversation"]
    list_filter = ["source", *LABEL_COLUMNS]
    search_fields = ["^turn__conversation__uuid", "rationale"]
    date_hierarchy = "computed_at"
    readonly_fields = [
        "turn",
        "transcript",
        "reply",
        "source",
        *LABEL_FIELDS_SHOWN,
        "detail_pretty",
        "computed_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[FinalLabel]:
        queryset = super().get_queryset(request)
        if annotations_visible_all(request.user):
            return queryset
        return queryset.exclude(source__in=HUMAN_SOURCES)

    def get_list_filter(self, request: HttpRequest) -> list:
        if annotations_visible_all(request.user):
            return self.list_filter
        # Filtering by source would tell which replies humans decided.
        return [name for name in self.list_filter if name != "source"]

    @admin.display(description="Which rows decided")
    def detail_pretty(self, label: FinalLabel) -> str:
        return json_pre(label.detail)


# Annotation campaigns, the annotator's queue and adjudication (their own modules, registered here).
from judging.annotation import admin as annotation_admin  # noqa: E402, F401
