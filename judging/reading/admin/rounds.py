"""Rounds to judge: rounds as judging sees them (the proxy JudgedRound), their state and when judging
finished, and the re-judge action; a round's page is the competition's, nothing here edits a round."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from competition.models import Round
from judging.models import JudgedRound
from judging.reading.admin.rejudge import rounds_rejudge
from judging.reading.admin.transcripts import ProxyPermissionsMixin


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
