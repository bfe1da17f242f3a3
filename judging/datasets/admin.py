"""The datasets admin: export jobs (new, progress, download) and dataset conversations (export
actions in every shape and format, and the import of chat JSONL).

Only organizers may export or download: the permission `judging.download_dataset`, which the
Organizer group holds (competition/apps.py grants organizers every permission of the arena apps)
and annotators do not.
Registered by judging/apps.py once every admin module has loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from import_export.admin import ExportActionMixin
from import_export.forms import SelectableFieldsExportForm

from competition.models import Competition
from config.admin_import_export import GuardedImportExportMixin
from config.admin_kit import RoundListFilter, ViewOnlyAdminMixin, json_pre, text_pre
from conversations.admin import CONVERSATION_COLUMNS, conversation_short_id_column
from conversations.models import Conversation
from judging.datasets.filters import (
    DEDUP_MODES,
    EXPORTED_STATUSES,
    FORMATS,
    LABEL_SOURCES,
    LABELS,
    SHAPE_FORMATS,
    SHAPES,
    ExportSpec,
    ExportSpecInvalid,
    conversations_selected,
)
from judging.datasets.importer import DatasetImportInvalid, dataset_file_lines, dataset_import
from judging.datasets.models import DatasetConversation, ExportJob
from judging.datasets.record_types import Outcome
from judging.datasets.resources import DATASET_FORMATS, SHAPE_RESOURCES
from judging.datasets.services import EXPORT_MAX_ATTEMPTS, export_job_create

DOWNLOAD_PERMISSION = "judging.download_dataset"
NOTHING_MATCHED = "Done: no conversation matched these filters (the zip holds only the card)"
# What the export action says instead of sending an empty file.
EMPTY_SHAPE = {
    "preference": (
        "No safe/unsafe pair among the selected conversations: nothing to download. A pair needs the same "
        "goal answered unsafely by one defender and safely by another; select more conversations."
    ),
    "chat": "None of the selected conversations has a defender reply: the chat file would be empty.",
    "*": "The selection gives no {shape} rows: nothing to download.",
}


def datasets_allowed(user: Any) -> bool:
    """Whether `user` may take data out of (or bring it into) the platform: organizers."""
    return bool(user.is_active and user.is_staff and user.has_perm(DOWNLOAD_PERMISSION))


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value.replace("_", " ")) for value in values]


class ExportJobForm(forms.ModelForm):
    """A new export: the ExportSpec's fields; `spec` is built (and checked) in clean()."""

    rounds = forms.CharField(required=False, help_text="Round slugs separated by commas; empty: every round")
    shape = forms.ChoiceField(choices=_choices(SHAPES), initial="chat")
    format = forms.ChoiceField(choices=_choices(FORMATS), initial="jsonl", help_text="chat and preference: jsonl")
    include_practice = forms.BooleanField(required=False, help_text="Also practice rounds not named above")
    include_excluded = forms.BooleanField(required=False, help_text="Also conversations a moderator excluded")
    outcomes = forms.MultipleChoiceField(
        choices=_choices(Outcome.ALL), required=False, widget=forms.CheckboxSelectMultiple, help_text="None: all"
    )
    labels = forms.MultipleChoiceField(
        choices=_choices(LABELS),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Keep conversations with a reply so labelled; none: all",
    )
    label_source = forms.ChoiceField(choices=_choices(LABEL_SOURCES), initial="any")
    since = forms.DateTimeField(required=False, help_text="Conversations created at or after")
    until = forms.DateTimeField(required=False, help_text="Conversations created before")
    split = forms.CharField(initial="0.8,0.1,0.1", help_text="train,validation,test ratios")
    seed = forms.IntegerField(initial=0)
    dedup = forms.ChoiceField(choices=_choices(DEDUP_MODES), initial="near")
    near_threshold = forms.FloatField(initial=0.8, min_value=0.01, max_value=1)
    anonymous = forms.BooleanField(required=False, help_text="Stable anonymous ids instead of team and bot names")
    safe_replacements = forms.BooleanField(required=False, help_text="chat: add safe replies to unsafe contexts")
    undecided = forms.ChoiceField(
        choices=[
            ("default", "default: left out of chat, kept in preference"),
            ("leave_out", "leave out"),
            ("keep", "keep"),
        ],
        initial="default",
        required=False,
        help_text="Defender replies neither decided safe nor unsafe: leaving them out cuts each conversation "
        "before its first one (chat and preference only)",
    )

    class Meta:
        model = ExportJob
        fields = ["competition"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["anonymous"].initial = settings.ARENA_DATASET_ANONYMOUS
        self.spec: ExportSpec | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        competition = data.get("competition")
        if competition is None or self.errors:
            return data
        try:
            self.spec = ExportSpec.from_json(
                data
                | {
                    "competition": competition.slug,
                    "rounds": [slug.strip() for slug in data["rounds"].split(",") if slug.strip()],
                    "since": data["since"].isoformat() if data.get("since") else "",
                    "until": data["until"].isoformat() if data.get("until") else "",
                    "undecided": data.get("undecided") or "default",
                }
            )
            # The checks the job itself makes before reading (unknown rounds), now rather than in
            # the background after the organizer has left the page.
            conversations_selected(self.spec)
        except ExportSpecInvalid as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    form = ExportJobForm
    list_display = [
        "__str__",
        "status",
        "progress_bar",
        "attempts_shown",
        "requested_by",
        "created_at",
        "finished_at",
        "download",
    ]
    list_filter = ["status", "competition"]
    list_select_related = ["competition", "requested_by"]
    add_fieldsets = [
        (None, {"fields": ["competition", "rounds", "shape", "format"]}),
        (
            "Filters",
            {
                "fields": [
                    "include_practice",
                    "include_excluded",
                    "outcomes",
                    "labels",
                    "label_source",
                    "since",
                    "until",
                ]
            },
        ),
        ("Split and duplicates", {"fields": ["split", "seed", "dedup", "near_threshold"]}),
        ("Names", {"fields": ["anonymous", "safe_replacements"]}),
        ("Undecided replies", {"fields": ["undecided"]}),
    ]
    readonly_fields = [
        "competition",
        "status",
        "progress_bar",
        "spec_pretty",
        "report_pretty",
        "error_text",
        "download",
        "requested_by",
        "created_at",
        "started_at",
        "heartbeat_at",
        "attempts_shown",
        "finished_at",
    ]

    def get_fieldsets(self, request: HttpRequest, obj: ExportJob | None = None) -> list:
        if obj is None:
            return self.add_fieldsets
        # Attempts only when a stopped worker's run was redone: one run is the rule, not news.
        fields = [name for name in self.readonly_fields if name != "attempts_shown" or obj.attempts > 1]
        return [(None, {"fields": fields})]

    def get_readonly_fields(self, request: HttpRequest, obj: ExportJob | None = None) -> list[str]:
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: ExportJob | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and datasets_allowed(request.user)

    def save_model(self, request: HttpRequest, obj: ExportJob, form: ExportJobForm, change: bool) -> None:
        job = export_job_create(spec=form.spec, requested_by=request.user)
        # The "added" message and Recent actions name the form's object: give it the job's fields.
        for field in ExportJob._meta.concrete_fields:
            setattr(obj, field.attname, getattr(job, field.attname))
        obj._state.adding = False

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="judging_exportjob_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, object_id: str) -> FileResponse:
        """The job's zip, to organizers only."""
        if not datasets_allowed(request.user):
            raise PermissionDenied
        job = ExportJob.objects.filter(pk=unquote(object_id)).select_related("competition").first()
        if job is None or job.status != ExportJob.Status.DONE or not job.file_path:
            raise Http404("No finished export with this id.")
        file = Path(job.file_path).resolve()
        if Path(settings.ARENA_EXPORT_DIR).resolve() not in file.parents or not file.is_file():
            raise Http404("The export's file is gone.")
        name = f"{job.competition.slug}-{job.spec.get('shape')}-{job.pk}.zip"
        return FileResponse(file.open("rb"), as_attachment=True, filename=name, content_type="application/zip")

    @admin.display(description="Progress")
    def progress_bar(self, job: ExportJob) -> str:
        if job.matched_nothing:
            note = (job.report or {}).get("note", "")
            return format_html(
                '<span class="arena-flag arena-flag-warn">{}</span>', f"{NOTHING_MATCHED}{'; ' + note if note else ''}"
            )
        return format_html(
            '<progress value="{}" max="100" style="width: 8em"></progress> {}% ({} of {})',
            job.percent,
            job.percent,
            job.progress,
            job.total if job.total is not None else "?",
        )

    @admin.display(description="Attempts")
    def attempts_shown(self, job: ExportJob) -> str:
        """Runs started, when more than one: the worker of an earlier run stopped and the sweep
        (judging.datasets.services.export_jobs_reap) ran the job again."""
        if job.attempts <= 1:
            return ""
        return f"{job.attempts} of {EXPORT_MAX_ATTEMPTS}"

    @admin.display(description="File")
    def download(self, job: ExportJob) -> str:
        if job.status != ExportJob.Status.DONE or not job.file_path:
            return "-"
        return format_html('<a href="{}">Download zip</a>', reverse("admin:judging_exportjob_download", args=[job.pk]))

    @admin.display(description="Spec")
    def spec_pretty(self, job: ExportJob) -> str:
        return json_pre(job.spec)

    @admin.display(description="Report")
    def report_pretty(self, job: ExportJob) -> str:
        return json_pre(job.report)

    @admin.display(description="Error")
    def error_text(self, job: ExportJob) -> str:
        return text_pre(job.error)


class DatasetImportForm(forms.Form):
    competition = forms.ModelChoiceField(queryset=Competition.objects.all())
    round_name = forms.CharField(max_length=120, help_text="Name of the new round the conversations go into")
    round_slug = forms.SlugField(max_length=60)
    file = forms.FileField(help_text="Chat JSONL: one conversation per line (docs/datasets.md)")


class DatasetExportForm(SelectableFieldsExportForm):
    """import-export's export form, refusing a format its shape is not written in (chat and
    preference: JSONL only), with a message on the format field before anything is built."""

    def __init__(self, formats: list, resources: list, **kwargs: Any) -> None:
        super().__init__(formats, resources, **kwargs)
        self.shape_formats = formats
        self.shape_resources = resources

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            shape = self.shape_resources[int(data.get("resource") or 0)].shape
            name = self.shape_formats[int(data["format"])].name
        except (KeyError, IndexError, TypeError, ValueError):
            return data  # the fields' own errors say what is wrong
        if name not in SHAPE_FORMATS[shape]:
            self.add_error(
                "format", f"The {shape} shape is written as {', '.join(SHAPE_FORMATS[shape])} only, not {name}."
            )
        return data


@admin.register(DatasetConversation)
class DatasetConversationAdmin(ViewOnlyAdminMixin, GuardedImportExportMixin, ExportActionMixin, admin.ModelAdmin):
    """Finished conversations that may leave the platform (never excluded ones: export those from
    the shell or an export job, on purpose), with export actions in every shape."""

    resource_classes = SHAPE_RESOURCES
    export_formats = DATASET_FORMATS
    export_form_class = DatasetExportForm
    import_export_change_list_template = "admin/judging/datasetconversation/change_list.html"
    # The conversations list's own columns, so the page fits 1280 px like every arena list.
    list_display = [conversation_short_id_column, *CONVERSATION_COLUMNS]
    list_filter = [("match__round", RoundListFilter), "goal_category", "status", "moderation"]
    list_select_related = ["match"]
    search_fields = ["=uuid"]
    fields = ["uuid", "match", "goal_category", "goal_target", "status", "moderation", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        return (
            super()
            .get_queryset(request)
            .filter(status__in=EXPORTED_STATUSES)
            .exclude(moderation=Conversation.Moderation.EXCLUDED)
        )

    @admin.display(description="Conversation", ordering="pk")
    def short_id(self, conversation: Conversation) -> str:
        return str(conversation.uuid)[:8]

    def has_export_permission(self, request: HttpRequest) -> bool:
        return datasets_allowed(request.user)

    def get_data_for_export(self, request: HttpRequest, queryset: QuerySet, **kwargs: Any) -> Any:
        dataset = super().get_data_for_export(request, queryset, **kwargs)
        if not dataset.height:
            # import-export's export view shows a ValueError as a message instead of sending a file.
            raise ValueError(EMPTY_SHAPE.get(dataset.title, EMPTY_SHAPE["*"]).format(shape=dataset.title))
        return dataset

    def get_valid_export_item_pks(self, request: HttpRequest) -> QuerySet:
        # Selected ids are checked against what this page lists: an excluded conversation's id
        # posted by hand is dropped, not exported.
        return self.get_queryset(request).values_list("pk", flat=True)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "import-chat/",
                self.admin_site.admin_view(self.import_chat_view),
                name="judging_datasetconversation_import_chat",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_import_chat": datasets_allowed(request.user)}
        return super().changelist_view(request, extra_context)

    def import_chat_view(self, request: HttpRequest) -> HttpResponse:
        """Upload chat JSONL into a new imported round: all or nothing, every problem with its line."""
        if not datasets_allowed(request.user):
            raise PermissionDenied
        form = DatasetImportForm(request.POST or None, request.FILES or None)
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            try:
                report = dataset_import(
                    competition=form.cleaned_data["competition"],
                    round_name=form.cleaned_data["round_name"],
                    round_slug=form.cleaned_data["round_slug"],
                    lines=dataset_file_lines(form.cleaned_data["file"], size=form.cleaned_data["file"].size),
                )
            except DatasetImportInvalid as exc:
                problems = exc.problems
            else:
                messages.success(request, " ".join(report.lines()))
                return HttpResponseRedirect(reverse("admin:judging_datasetconversation_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import conversations (chat JSONL)",
            "opts": self.opts,
            "form": form,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/judging/datasetconversation/import_chat.html", context)
