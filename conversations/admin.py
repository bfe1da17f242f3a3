"""The organizers' admin for what was said: conversations (read as transcripts, moderated) and turns.

Conversations and turns are written by the engine only; here they are read, and a conversation's
moderation is the one thing an organizer changes, always with a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.text import Truncator
from simple_history.admin import SimpleHistoryAdmin

from competition.pipeline import lifecycle
from competition.pipeline.lifecycle import conversations_moderate
from config.admin_kit import RoundListFilter, ViewOnlyAdminMixin, flag_html, json_pre, text_pre, yes_no_flag
from conversations.models import Conversation, Turn
from teams.models import bot_snapshot_label

# How many selected conversations the confirmation page names; the rest are counted.
CONFIRMATION_SHOWN = 20


@dataclass(frozen=True)
class ConversationPage:
    """A page about one conversation that an app above this one serves (judging: its transcript)."""

    text: str
    url: Callable[[Conversation], str]


# The apps above this one add their pages here from their own admin modules (conversation_page_add),
# so every conversation links to them while this app imports nothing of theirs.
CONVERSATION_PAGES: list[ConversationPage] = []


def conversation_page_add(*, text: str, url: Callable[[Conversation], str]) -> None:
    """Link every conversation's admin row and change page to the page ``url(conversation)``, titled ``text``."""
    CONVERSATION_PAGES.append(ConversationPage(text=text, url=url))


def turn_message(turn: Turn) -> str:
    """What the turn says: the message, or why there is none."""
    if turn.ok:
        return text_pre(turn.content)
    return text_pre(f"[{turn.get_status_display()}] {turn.error_detail}".strip())


class TurnInline(admin.TabularInline):
    """The conversation as a transcript: every turn in order, read-only."""

    model = Turn
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["index"]
    fields = ["index", "speaker", "status", "latency_ms", "attempts", "ends_conversation_text", "message"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Message")
    def message(self, turn: Turn) -> str:
        return turn_message(turn)

    @admin.display(description="Asked to end")
    def ends_conversation_text(self, turn: Turn) -> str:
        return yes_no_flag(turn.ends_conversation, yes="yes", no="no")


# docs/scoring.md: a change to a published round's standings is kept with its why, and teams see it.
REASON_HELP = (
    "Recorded with your name and the time on every selected conversation. When it changes a published "
    "round's standings, every affected team sees this reason word for word (never your name)."
)


class ConversationModerationForm(forms.ModelForm):
    """The change page edits moderation only, and a change of it needs a reason."""

    class Meta:
        model = Conversation
        fields = ["moderation", "moderation_reason"]
        help_texts = {"moderation_reason": REASON_HELP}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.has_changed() and not (cleaned.get("moderation_reason") or "").strip():
            self.add_error("moderation_reason", "Say why: every moderation decision keeps its reason.")
        return cleaned


class ModerationReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=REASON_HELP,
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why: every moderation decision keeps its reason.")
        return reason


def conversation_failure(conversation: Conversation) -> str:
    """Which side failed and how, in words; "" for a conversation that did not fail."""
    if not conversation.failure_kind:
        return ""
    return f"{conversation.get_failure_side_display()}: {conversation.get_failure_kind_display()}"


# Columns of the lists of conversations (here and judging's transcripts), as callables both share.
@admin.display(description="Status", ordering="status")
def conversation_outcome(conversation: Conversation) -> str:
    failure = conversation_failure(conversation)
    status = conversation.get_status_display()
    return flag_html(f"{status}: {failure}", "warn") if failure else status


@admin.display(description="Attacker", ordering="match__attacker__name")
def conversation_attacker(conversation: Conversation) -> str:
    return bot_snapshot_label(conversation.match.attacker_snapshot, conversation.match.attacker_version)


@admin.display(description="Defender", ordering="match__defender__name")
def conversation_defender(conversation: Conversation) -> str:
    return bot_snapshot_label(conversation.match.defender_snapshot, conversation.match.defender_version)


@admin.display(description="Goal", ordering="goal_category")
def conversation_goal(conversation: Conversation) -> str:
    return conversation.goal_category.replace("_", " ")


@admin.display(description="Conversation", ordering="uuid")
def conversation_short_id_column(conversation: Conversation) -> str:
    return conversation.short_id


# What an organizer looks for first comes first, and the row fits a 1280 px screen; the first
# column is the link to the conversation's page, the second to its transcript.
CONVERSATION_COLUMNS = [
    conversation_outcome,
    conversation_attacker,
    conversation_defender,
    conversation_goal,
    "moderation",
]


def conversations_rerun_report(
    model_admin: admin.ModelAdmin, request: HttpRequest, conversation_ids: list[int]
) -> None:
    """Re-run the failed conversations among these (lifecycle.conversations_rerun_failed, which goes
    through round_rerun_failed round by round) and say what happened: how many play again, each
    round that refused and why, how many had not failed."""
    report = lifecycle.conversations_rerun_failed(conversation_ids=conversation_ids)
    if report.rerun:
        model_admin.message_user(
            request,
            f"{report.rerun} failed conversation(s) put back to play; their bots' circuits are closed.",
            messages.SUCCESS,
        )
    for refusal in report.refused:
        model_admin.message_user(request, refusal, messages.ERROR)
    if report.not_failed:
        model_admin.message_user(
            request,
            f"{report.not_failed} selected conversation(s) had not failed: nothing to re-run.",
            messages.WARNING,
        )


@admin.register(Conversation)
class ConversationAdmin(SimpleHistoryAdmin):
    list_display = [conversation_short_id_column, "transcript_link", *CONVERSATION_COLUMNS]
    list_filter = [
        "status",
        "moderation",
        "goal_category",
        "failure_side",
        "failure_kind",
        "match__round__competition",
        ("match__round", RoundListFilter),
    ]
    search_fields = [
        "^uuid",
        "goal_target",
        "match__attacker__name",
        "match__attacker__team__name",
        "match__defender__name",
        "match__defender__team__name",
    ]
    list_select_related = ["match"]
    date_hierarchy = "created_at"
    form = ConversationModerationForm
    inlines = [TurnInline]
    actions = ["hide_from_teams", "exclude_from_scores", "make_visible", "rerun_failed"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "transcript_link",
                    "uuid",
                    "match",
                    "sequence",
                    "goal_category",
                    "goal_target",
                    "status",
                    "plays",
                ]
            },
        ),
        ("Failure", {"fields": ["failure_side", "failure_kind", "failure_detail_text", "failure_history_pretty"]}),
        ("Worker claim", {"fields": ["claimed_by", "claim_expires_at"]}),
        ("Moderation", {"fields": ["moderation", "moderation_reason", "moderated_by", "moderated_at"]}),
        ("Timeline", {"fields": ["started_at", "ended_at", "created_at"]}),
    ]
    # Everything the page shows but the moderation the form edits.
    readonly_fields = [
        name
        for _, options in fieldsets
        for name in options["fields"]
        if name not in ConversationModerationForm.Meta.fields
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Conversations are made with their goals when a round starts, never by hand.
        return False

    @admin.display(description="Transcript")
    def transcript_link(self, conversation: Conversation) -> str:
        """Links to the pages other apps serve about the conversation (CONVERSATION_PAGES)."""
        if conversation.pk is None or not CONVERSATION_PAGES:
            return "-"
        return format_html_join(
            " · ", '<a href="{}">{}</a>', ((page.url(conversation), page.text) for page in CONVERSATION_PAGES)
        )

    @admin.display(description="Failure")
    def failure(self, conversation: Conversation) -> str:
        return conversation_failure(conversation)

    @admin.display(description="Failure detail")
    def failure_detail_text(self, conversation: Conversation) -> str:
        return text_pre(conversation.failure_detail)

    @admin.display(description="Failures of earlier plays")
    def failure_history_pretty(self, conversation: Conversation) -> str:
        return json_pre(conversation.failure_history) if conversation.failure_history else "-"

    def save_model(self, request: HttpRequest, obj: Conversation, form: forms.Form, change: bool) -> None:
        if form.has_changed():
            conversations_moderate(
                conversations=Conversation.objects.filter(pk=obj.pk),
                state=form.cleaned_data["moderation"],
                reason=form.cleaned_data["moderation_reason"],
                by=request.user,
            )

    @admin.action(description="Re-run selected failed conversations", permissions=["change"])
    def rerun_failed(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        conversations_rerun_report(self, request, list(queryset.values_list("pk", flat=True)))

    @admin.action(description="Hide from teams…", permissions=["change"])
    def hide_from_teams(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> HttpResponse | None:
        return self.moderate(request, queryset, state=Conversation.Moderation.HIDDEN, action="hide_from_teams")

    @admin.action(description="Exclude from scores and datasets…", permissions=["change"])
    def exclude_from_scores(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> HttpResponse | None:
        return self.moderate(request, queryset, state=Conversation.Moderation.EXCLUDED, action="exclude_from_scores")

    @admin.action(description="Make visible…", permissions=["change"])
    def make_visible(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> HttpResponse | None:
        return self.moderate(request, queryset, state=Conversation.Moderation.VISIBLE, action="make_visible")

    def moderate(
        self, request: HttpRequest, queryset: QuerySet[Conversation], *, state: str, action: str
    ) -> HttpResponse | None:
        """Ask for a reason on a confirmation page, then moderate the selection with it."""
        label = Conversation.Moderation(state).label
        if "apply" in request.POST:
            form = ModerationReasonForm(request.POST)
            if form.is_valid():
                count = conversations_moderate(
                    conversations=Conversation.objects.filter(pk__in=queryset.values("pk")),
                    state=state,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
                self.message_user(request, f"{count} conversation(s) set to “{label}”.", messages.SUCCESS)
                return None
        else:
            form = ModerationReasonForm()
        selected = list(queryset.values_list("pk", flat=True))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{label}: why?",
            "opts": self.opts,
            "form": form,
            "state_label": label,
            "action": action,
            "selected": selected,
            "shown": queryset[:CONFIRMATION_SHOWN],
            "not_shown": max(len(selected) - CONFIRMATION_SHOWN, 0),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/conversations/conversation/moderate.html", context)


@admin.register(Turn)
class TurnAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "status", "excerpt", "latency_ms", "created_at"]
    list_select_related = ["conversation"]
    list_filter = ["speaker", "status", "conversation__moderation"]
    search_fields = ["^conversation__uuid", "content"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "conversation",
        "index",
        "speaker",
        "status",
        "message",
        "latency_ms",
        "attempts",
        "ends_conversation_text",
        "delivery_id",
        "created_at",
    ]
    fields = readonly_fields
    # A turn is part of the record: moderation excludes a conversation, nothing deletes a turn
    # (ViewOnlyAdminMixin). So the admin cannot delete a played conversation, match, round or
    # competition either.

    @admin.display(description="Asked to end")
    def ends_conversation_text(self, turn: Turn) -> str:
        return yes_no_flag(turn.ends_conversation, yes="yes", no="no")

    @admin.display(description="Message")
    def excerpt(self, turn: Turn) -> str:
        return Truncator(turn.content or turn.error_detail).chars(80)

    @admin.display(description="Message")
    def message(self, turn: Turn) -> str:
        return turn_message(turn)
