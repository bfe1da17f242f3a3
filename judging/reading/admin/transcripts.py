"""Transcripts: conversations as judging reads them (the proxy JudgedConversation), each one's
transcript with its verdicts and final labels, the re-judge and re-run actions, and a link from every
conversation's admin row to its transcript (conversations.admin.conversation_page_add), so the
conversations app imports nothing of judging.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from conversations.admin import (
    CONVERSATION_COLUMNS,
    ConversationAdmin,
    conversation_page_add,
    conversation_short_id_column,
    conversations_rerun_report,
)
from conversations.models import Conversation
from judging.models import JudgedConversation
from judging.reading.admin.rejudge import conversations_rejudge
from judging.reading.transcript import conversation_transcript
from judging.selectors import annotations_visible_all

TRANSCRIPT_URL_NAME = "admin:judging_judgedconversation_transcript"


def transcript_url(conversation_id: int) -> str:
    """The admin URL of a conversation's transcript."""
    return reverse(TRANSCRIPT_URL_NAME, args=[conversation_id])


# Every conversation's row and change page (conversations' admin) link to its transcript.
conversation_page_add(text="Transcript", url=lambda conversation: transcript_url(conversation.pk))


class ProxyPermissionsMixin:
    """A proxy's admin that adds nothing and deletes nothing, and answers with its concrete model's
    permissions (``view_permission``, ``change_permission``): who may see a conversation may read its
    transcript, and re-judging needs the permission to change it."""

    view_permission: str
    change_permission: str

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(self.change_permission)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(self.view_permission) or self.has_change_permission(request, obj)


@admin.register(JudgedConversation)
class TranscriptAdmin(ProxyPermissionsMixin, admin.ModelAdmin):
    """Conversations as judging reads them: each one's transcript with its verdicts and final labels,
    and the re-judge action. Nothing here edits a conversation (moderation is on the conversation's
    own page). Whoever may see a conversation may read its transcript: the permissions are the
    conversation's (``conversations.view_conversation``, ``change_conversation`` to re-judge)."""

    view_permission = "conversations.view_conversation"
    change_permission = "conversations.change_conversation"
    list_display = [conversation_short_id_column, "transcript_link", *CONVERSATION_COLUMNS]
    # The same filters and search as the conversations' own list.
    list_filter = ConversationAdmin.list_filter
    search_fields = ConversationAdmin.search_fields
    list_select_related = ["match"]
    list_display_links = None
    date_hierarchy = "created_at"
    actions = ["rejudge_conversations", "rerun_failed"]

    def get_urls(self) -> list[URLPattern]:
        # Before the default URLs: their "<path:object_id>/" would take ".../transcript/" too.
        transcript = path(
            "<path:object_id>/transcript/",
            self.admin_site.admin_view(self.transcript_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_transcript",
        )
        rerun = path(
            "<path:object_id>/rerun/",
            self.admin_site.admin_view(self.rerun_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_rerun",
        )
        return [transcript, rerun, *super().get_urls()]

    def rerun_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The transcript's "Re-run this conversation" button (POST): the same service as the action."""
        conversation = self.get_object(request, unquote(object_id))
        if conversation is None:
            raise Http404("No such conversation.")
        if request.method != "POST" or not self.has_change_permission(request, conversation):
            raise PermissionDenied
        conversations_rerun_report(self, request, [conversation.pk])
        return HttpResponseRedirect(transcript_url(conversation.pk))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        # A transcript has no form: its page is the transcript.
        return HttpResponseRedirect(transcript_url(unquote(object_id)))

    def transcript_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Every turn with its verdicts and final label (judging/reading/transcript/); needs view permission.

        Human annotations (and final labels that humans decided) are shown only to holders of
        ``judging.view_all_annotations``: annotators label blind.
        """
        conversation = self.get_object(request, unquote(object_id))
        if conversation is None:
            raise Http404("No such conversation.")
        if not self.has_view_permission(request, conversation):
            raise PermissionDenied
        include_human_labels = annotations_visible_all(request.user)
        search = urlencode({"q": str(conversation.uuid)})
        context = {
            **self.admin_site.each_context(request),
            "title": f"Transcript of conversation {str(conversation.uuid)[:8]}",
            "subtitle": str(conversation),
            "opts": self.opts,
            "original": conversation,
            "conversation_url": reverse("admin:conversations_conversation_change", args=[conversation.pk]),
            "has_change_permission": self.has_change_permission(request, conversation),
            # A failed conversation can be played again from its transcript until its round is published.
            "rerun_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_rerun", args=[conversation.pk])
            if conversation.status == Conversation.Status.FAILED and self.has_change_permission(request, conversation)
            else "",
            "rerun_refusal": conversation.match.round.rerun_refusal()
            if conversation.status == Conversation.Status.FAILED
            else "",
            "transcript": conversation_transcript(
                conversation_id=conversation.pk, include_human_labels=include_human_labels
            ),
            "verdicts_url": f"{reverse('admin:judging_verdict_changelist')}?{search}"
            if request.user.has_perm("judging.view_verdict")
            else "",
            "annotations_url": f"{reverse('admin:judging_annotation_changelist')}?{search}"
            if include_human_labels and request.user.has_perm("judging.view_annotation")
            else "",
            # Organizers label any reply themselves (judging/annotation/admin/queue.py, "annotate this reply").
            "can_annotate_replies": include_human_labels and request.user.has_perm("judging.add_annotation"),
        }
        return TemplateResponse(request, "admin/judging/judgedconversation/transcript.html", context)

    @admin.display(description="Transcript")
    def transcript_link(self, conversation: Conversation) -> str:
        return format_html('<a href="{}">Transcript</a>', transcript_url(conversation.pk))

    @admin.action(description="Re-run selected failed conversations", permissions=["change"])
    def rerun_failed(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        conversations_rerun_report(self, request, list(queryset.values_list("pk", flat=True)))

    @admin.action(description="Re-judge with a chosen judge…", permissions=["change"])
    def rejudge_conversations(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> HttpResponse | None:
        return conversations_rejudge(self, request, queryset)
