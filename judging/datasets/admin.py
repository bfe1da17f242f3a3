"""The datasets admin: dataset conversations (export actions in every shape and format, and the
import of chat JSONL); importing it registers the export jobs' admin too (judging/datasets/job_admin.py).

Only organizers may export, download or import (`datasets_allowed`).
Registered by judging/apps.py once every admin module has loaded.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from import_export.admin import ExportActionMixin
from import_export.forms import SelectableFieldsExportForm

from competition.models import Competition
from config.admin_import_export import GuardedImportExportMixin
from config.admin_kit import RoundListFilter, ViewOnlyAdminMixin
from conversations.admin import CONVERSATION_COLUMNS, conversation_short_id_column
from conversations.models import Conversation
from judging.datasets.filters import EXPORTED_STATUSES, SHAPE_FORMATS
from judging.datasets.importer import DatasetImportInvalid, dataset_file_lines, dataset_import

# Registers the export jobs' admin; their permission check is every datasets page's.
from judging.datasets.job_admin import datasets_allowed
from judging.datasets.models import DatasetConversation
from judging.datasets.resources import DATASET_FORMATS, SHAPE_RESOURCES

# What the export action says instead of sending an empty file.
EMPTY_SHAPE = {
    "preference": (
        "No safe/unsafe pair among the selected conversations: nothing to download. A pair needs the same "
        "goal answered unsafely by one defender and safely by another; select more conversations."
    ),
    "chat": "None of the selected conversations has a defender reply: the chat file would be empty.",
    "*": "The selection gives no {shape} rows: nothing to download.",
}


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
