"""The admin of reply labels: the judges' verdicts and the final labels, and what every label page
shares (the reply in context, the labels in words: ReplyLabelAdminMixin).

Annotators see no final label that was decided by humans; organizers see everything.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from config.admin_kit import ViewOnlyAdminMixin, flag_html, json_pre, text_pre, yes_no_flag
from conversations.models import Turn, turn_name
from judging.annotation.forms import conversation_short_id
from judging.models import Annotation, FinalLabel, LabelFields, Verdict
from judging.reading.admin import transcript_url
from judging.reading.transcript import HUMAN_SOURCES
from judging.selectors import annotations_visible_all

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
