"""The organizers' admin for matches: made when a round starts, read-only, with how far their
conversations have got (a round's page lists them inline)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from competition.models import Match
from config.admin_kit import RoundListFilter, ViewOnlyAdminMixin, changelist_link, json_pre
from conversations.models import Conversation
from teams.models import bot_snapshot_label

# Conversations whose play is over, whatever the outcome (the admin acts on rounds from the top of the
# stack, docs/architecture.md: it may read conversations).
FINISHED = Conversation.FINISHED_STATUSES


class MatchInline(admin.TabularInline):
    """A round's matches, read-only, with how far their conversations have got."""

    model = Match
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = ["attacker_bot", "defender_bot", "conversation_total", "conversation_finished", "conversation_failed"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Match]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                conversation_total=Count("conversations"),
                conversation_finished=Count("conversations", filter=Q(conversations__status__in=FINISHED)),
                conversation_failed=Count("conversations", filter=Q(conversations__status="failed")),
            )
        )

    @admin.display(description="Attacker")
    def attacker_bot(self, match: Match) -> str:
        return bot_snapshot_label(match.attacker_snapshot, match.attacker_version)

    @admin.display(description="Defender")
    def defender_bot(self, match: Match) -> str:
        return bot_snapshot_label(match.defender_snapshot, match.defender_version)

    @admin.display(description="Conversations")
    def conversation_total(self, match: Match) -> int:
        return match.conversation_total

    @admin.display(description="Finished")
    def conversation_finished(self, match: Match) -> int:
        return match.conversation_finished

    @admin.display(description="Failed")
    def conversation_failed(self, match: Match) -> int:
        return match.conversation_failed


@admin.register(Match)
class MatchAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Matches are made when a round starts, with the bots' versions frozen in their snapshots."""

    list_display = ["__str__", "round", "attacker_version", "defender_version", "conversation_count", "created_at"]
    list_filter = ["round__competition", ("round", RoundListFilter)]
    search_fields = ["attacker__name", "attacker__team__name", "defender__name", "defender__team__name"]
    list_select_related = ["round__competition"]
    readonly_fields = [
        "round",
        "attacker",
        "attacker_version",
        "attacker_snapshot_pretty",
        "defender",
        "defender_version",
        "defender_snapshot_pretty",
        "conversations_link",
        "created_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Match]:
        return super().get_queryset(request).annotate(conversation_count=Count("conversations"))

    @admin.display(description="Conversations", ordering="conversation_count")
    def conversation_count(self, match: Match) -> int:
        return match.conversation_count

    @admin.display(description="Attacker snapshot")
    def attacker_snapshot_pretty(self, match: Match) -> str:
        return json_pre(match.attacker_snapshot)

    @admin.display(description="Defender snapshot")
    def defender_snapshot_pretty(self, match: Match) -> str:
        return json_pre(match.defender_snapshot)

    @admin.display(description="Conversations")
    def conversations_link(self, match: Match) -> str:
        return changelist_link(
            "conversations_conversation", "The conversations of this match", match__id__exact=match.pk
        )
