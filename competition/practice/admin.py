"""The organizers' admin for practice: every practice match (view only: the platform writes them),
each competition's practice policy with its opponents, and the actions that pause or resume
practice for whole competitions through competition.practice.services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from competition.practice import services
from competition.practice.models import PracticeMatch, PracticeOpponent, PracticePolicy
from config.admin_kit import ViewOnlyAdminMixin


@admin.register(PracticeMatch)
class PracticeMatchAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "competition", "team", "bot", "opponent", "conversations", "status", "round_link"]
    list_filter = ["competition", "round__status"]
    search_fields = ["team__name", "bot__name", "opponent__name"]
    list_select_related = ["competition", "team", "bot__team", "opponent__team", "round"]
    date_hierarchy = "created_at"

    @admin.display(description="status", ordering="round__status")
    def status(self, match: PracticeMatch) -> str:
        return match.round.get_status_display()

    @admin.display(description="conversations")
    def round_link(self, match: PracticeMatch) -> str:
        url = reverse("admin:conversations_conversation_changelist") + f"?match__round__id__exact={match.round_id}"
        return format_html('<a href="{}">transcripts</a>', url)


@admin.register(PracticePolicy)
class PracticePolicyAdmin(admin.ModelAdmin):
    list_display = ["competition", "daily_conversations", "conversations_per_match", "max_turns", "paused"]
    actions = ["pause_practice", "resume_practice"]

    def _paused(self, request: HttpRequest, queryset: QuerySet[PracticePolicy], paused: bool) -> None:
        for policy in queryset:
            services.practice_pause(competition_id=policy.competition_id, paused=paused)
        verb = "paused" if paused else "resumed"
        self.message_user(request, f"Practice {verb} in {queryset.count()} competition(s).", messages.SUCCESS)

    @admin.action(description="Pause practice in the selected competitions", permissions=["change"])
    def pause_practice(self, request: HttpRequest, queryset: QuerySet[PracticePolicy]) -> None:
        self._paused(request, queryset, True)

    @admin.action(description="Resume practice in the selected competitions", permissions=["change"])
    def resume_practice(self, request: HttpRequest, queryset: QuerySet[PracticePolicy]) -> None:
        self._paused(request, queryset, False)


@admin.register(PracticeOpponent)
class PracticeOpponentAdmin(admin.ModelAdmin):
    list_display = ["bot", "competition", "reference", "created_at"]
    list_filter = ["competition", "reference"]
    autocomplete_fields = ["bot"]
