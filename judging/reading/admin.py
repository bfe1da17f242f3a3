"""Judging's admin pages about conversations and rounds: a conversation's transcript, and re-judging
rounds or conversations with a chosen judge.

Judging registers them itself, on its proxy models: the transcripts and the conversations' re-judge
action on JudgedConversation ("Transcripts"), the rounds' re-judge action on JudgedRound ("Rounds to
judge"); and a link from every conversation's admin row to its transcript through
conversations.admin.conversation_page_add. So neither the conversations nor the competition app
imports anything of judging. What may be re-judged, and the queueing, is judging.services.rejudging; the
actions here only ask for the judge and report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import ngettext

from competition.models import Round
from conversations.admin import (
    CONVERSATION_COLUMNS,
    ConversationAdmin,
    conversation_page_add,
    conversation_short_id_column,
    conversations_rerun_report,
)
from conversations.models import Conversation
from judging import services
from judging.models import Judge, JudgedConversation, JudgedRound
from judging.reading.transcript import conversation_transcript
from judging.selectors import annotations_visible_all
from judging.services.rejudging import (
    CONVERSATION_RULE,
    JUDGEABLE_STATUS_NAMES,
    ROUND_RULE,
    RejudgeRefused,
    conversation_rejudge_skip_reason,
    conversations_rejudgeable,
    rejudge_judge_check,
    rejudge_judges,
    round_rejudge_skip_reason,
)

EVERY_ACTIVE_JUDGE = "every-active"
# How many selected objects the re-judge page names; the rest are counted.
SHOWN = 20
TRANSCRIPT_URL_NAME = "admin:judging_judgedconversation_transcript"


def transcript_url(conversation_id: int) -> str:
    """The admin URL of a conversation's transcript."""
    return reverse(TRANSCRIPT_URL_NAME, args=[conversation_id])


# Every conversation's row and change page (conversations' admin) link to its transcript.
conversation_page_add(text="Transcript", url=lambda conversation: transcript_url(conversation.pk))


# --- re-judging ------------------------------------------------------------------------------------


def judge_choice_label(judge: Judge) -> str:
    status = "" if judge.active else " (inactive)"
    return f"{judge.name} v{judge.version}: {judge.get_kind_display()}, {judge.competition.name}{status}"


class RejudgeForm(forms.Form):
    """A judge of the selection's competitions (or every active one) and whether to retry errors."""

    judge = forms.ChoiceField(label="Judge")
    retry_errors = forms.BooleanField(
        required=False,
        label="Retry errored verdicts",
        help_text="Also judge again the replies whose verdict at the judge's current version is an error; "
        "the error is replaced. Without it only replies with no verdict at that version are judged.",
    )

    def __init__(self, *args: Any, competition_ids: set[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.judges = {str(judge.pk): judge for judge in rejudge_judges(competition_ids=competition_ids)}
        self.competition_ids = competition_ids
        self.fields["judge"].choices = [
            (EVERY_ACTIVE_JUDGE, "Every active judge of the competition"),
            *((key, judge_choice_label(judge)) for key, judge in self.judges.items()),
        ]

    def clean_judge(self) -> Judge | None:
        value = self.cleaned_data["judge"]
        judge = None if value == EVERY_ACTIVE_JUDGE else self.judges[value]
        try:
            rejudge_judge_check(judge=judge, competition_ids=self.competition_ids)
        except RejudgeRefused as refusal:
            raise forms.ValidationError(str(refusal)) from None
        return judge


@dataclass(frozen=True)
class Selected:
    """One selected object as the re-judge page lists it; `skipped` says why nothing is queued for it."""

    name: str
    detail: str
    skipped: str = ""


def _rejudge_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    form: RejudgeForm,
    action: str,
    what: tuple[str, str],
    selected_pks: list[int],
    shown: list[Selected],
    skipped_count: int,
    skip_rule: str,
) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Re-judge {len(selected_pks)} {what[0] if len(selected_pks) == 1 else what[1]}",
        "opts": model_admin.opts,
        "form": form,
        "action": action,
        "what": what[1],
        "selected": selected_pks,
        "shown": shown,
        "not_shown": max(len(selected_pks) - len(shown), 0),
        "skipped_count": skipped_count,
        "skip_rule": skip_rule,
        "judges_url": reverse("admin:judging_judge_changelist"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/judging/rejudge.html", context)


def _judge_text(judge: Judge | None, retry_errors: bool) -> str:
    who = f"{judge.name} v{judge.version}" if judge is not None else "every active judge"
    return who + (", retrying errored verdicts" if retry_errors else "")


def rounds_rejudge(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Round]
) -> TemplateResponse | None:
    """The rounds' re-judge action: ask for the judge, then services.rounds_rejudge.
    Rounds that are not judgeable are named, not queued."""
    rounds = list(queryset.select_related("competition").order_by("competition__name", "number"))
    competition_ids = {round_.competition_id for round_ in rounds}
    form = RejudgeForm(request.POST if "apply" in request.POST else None, competition_ids=competition_ids)
    if form.is_bound and form.is_valid():
        judge, retry_errors = form.cleaned_data["judge"], form.cleaned_data["retry_errors"]
        done = services.rounds_rejudge(rounds=rounds, judge=judge, retry_errors=retry_errors)
        if done.queued:
            model_admin.message_user(
                request,
                ngettext("Judging queued for %(n)d round", "Judging queued for %(n)d rounds", len(done.queued))
                % {"n": len(done.queued)}
                + f" with {_judge_text(judge, retry_errors)}: "
                + ", ".join(str(round_) for round_ in done.queued)
                + ". Replies already judged at the judge's current version keep their verdicts.",
                messages.SUCCESS,
            )
        if done.skipped:
            model_admin.message_user(
                request,
                f"Not queued ({ROUND_RULE}): "
                + ", ".join(f"{round_} ({round_.get_status_display()})" for round_ in done.skipped),
                messages.WARNING,
            )
        return None
    shown = [
        Selected(name=str(round_), detail=round_.get_status_display(), skipped=round_rejudge_skip_reason(round_))
        for round_ in rounds[:SHOWN]
    ]
    return _rejudge_page(
        model_admin,
        request,
        form=form,
        action="rejudge_rounds",
        what=("round", "rounds"),
        selected_pks=[round_.pk for round_ in rounds],
        shown=shown,
        skipped_count=sum(1 for round_ in rounds if round_rejudge_skip_reason(round_)),
        skip_rule=ROUND_RULE,
    )


def conversations_rejudge(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Conversation]
) -> TemplateResponse | None:
    """The transcripts' re-judge action: ask for the judge, then services.conversations_rejudge."""
    selected_pks = list(queryset.order_by("pk").values_list("pk", flat=True))
    selection = Conversation.objects.filter(pk__in=selected_pks)
    competition_ids = set(selection.values_list("match__round__competition_id", flat=True).distinct())
    form = RejudgeForm(request.POST if "apply" in request.POST else None, competition_ids=competition_ids)
    if form.is_bound and form.is_valid():
        judge, retry_errors = form.cleaned_data["judge"], form.cleaned_data["retry_errors"]
        done = services.conversations_rejudge(conversation_ids=selected_pks, judge=judge, retry_errors=retry_errors)
        if done.queued_ids:
            model_admin.message_user(
                request,
                ngettext(
                    "Judging queued for the replies of %(n)d conversation",
                    "Judging queued for the replies of %(n)d conversations",
                    len(done.queued_ids),
                )
                % {"n": len(done.queued_ids)}
                + f" with {_judge_text(judge, retry_errors)}. Replies already judged at the judge's current version "
                "keep their verdicts.",
                messages.SUCCESS,
            )
        if done.skipped_count:
            model_admin.message_user(
                request,
                ngettext(
                    "Not queued: %(n)d conversation that is not completed, is excluded, or whose round is not %(s)s.",
                    "Not queued: %(n)d conversations that are not completed, are excluded, "
                    "or whose round is not %(s)s.",
                    done.skipped_count,
                )
                % {"n": done.skipped_count, "s": JUDGEABLE_STATUS_NAMES},
                messages.WARNING,
            )
        return None
    shown = [
        Selected(
            name=str(conversation),
            detail=f"{conversation.match.round} · {conversation.match} · {conversation.goal_category}",
            skipped=conversation_rejudge_skip_reason(conversation),
        )
        for conversation in selection.select_related("match__round__competition").order_by("pk")[:SHOWN]
    ]
    return _rejudge_page(
        model_admin,
        request,
        form=form,
        action="rejudge_conversations",
        what=("conversation", "conversations"),
        selected_pks=selected_pks,
        shown=shown,
        skipped_count=len(selected_pks) - conversations_rejudgeable(selection).count(),
        skip_rule=CONVERSATION_RULE,
    )


# --- transcripts -----------------------------------------------------------------------------------


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


# --- rounds to judge -------------------------------------------------------------------------------


@admin.register(JudgedRound)
class RoundToJudgeAdmin(ProxyPermissionsMixin, admin.ModelAdmin):
    """Rounds as judging sees them: their state and when judging finished, and the re-judge action.
    A round's page is the competition's; nothing here edits a round."""

    view_permission = "competition.view_round"
    change_permission = "competition.change_round"
    list_display = ["__str__", "status", "practice", "started_at", "judging_finished_at", "round_link"]
    list_filter = ["status", "competition"]
    search_fields = ["name", "slug", "competition__name", "competition__slug"]
    list_select_related = ["competition"]
    list_display_links = None
    actions = ["rejudge_rounds"]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:competition_round_change", args=[unquote(object_id)]))

    @admin.display(description="Round")
    def round_link(self, round_: Round) -> str:
        url = reverse("admin:competition_round_change", args=[round_.pk])
        return format_html('<a href="{}">Open the round</a>', url)

    @admin.action(description="Re-judge with a chosen judge…", permissions=["change"])
    def rejudge_rounds(self, request: HttpRequest, queryset: QuerySet[Round]) -> HttpResponse | None:
        return rounds_rejudge(self, request, queryset)
