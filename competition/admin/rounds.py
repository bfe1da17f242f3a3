"""The organizers' admin for rounds: their settings, progress, standings preview and lifecycle actions.

A round's status moves only through its lifecycle (starting freezes settings and bot versions), so
the admin shows it but never edits it; once a round has started, its settings are read-only too.
"""

from __future__ import annotations

from functools import partialmethod
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from competition.admin.matches import FINISHED, MatchInline
from competition.models import Round
from competition.pipeline import lifecycle
from competition.standings.admin import standings_display, standings_html
from config.admin_buttons import ObjectButton, ObjectButtonsMixin
from config.admin_kit import json_pre
from conversations.models import Conversation
from judging.selectors import rounds_labels_confirmed


def round_started(round_: Round | None) -> bool:
    """Whether the round has started: its settings and everything that names it are frozen."""
    return round_ is not None and round_.pk is not None and round_.frozen_settings is not None


def round_has_failed_conversations(round_: Round) -> bool:
    return Conversation.objects.filter(match__round=round_, status=Conversation.Status.FAILED).exists()


# The buttons of a round's own page: each shown when the lifecycle allows its move from the round's
# status (the same tuples the lifecycle checks), each calling the service its bulk action calls.
ROUND_BUTTONS = (
    ObjectButton("start", "Start", run="start_round", shown=lambda r: r.status in lifecycle.START_FROM),
    ObjectButton("pause", "Pause", run="pause_round", shown=lambda r: r.status in lifecycle.PAUSE_FROM),
    ObjectButton("resume", "Resume", run="resume_round", shown=lambda r: r.status in lifecycle.RESUME_FROM),
    ObjectButton(
        "rerun",
        "Re-run failed conversations",
        run="rerun_round",
        shown=lambda r: r.status in Round.RERUN_STATUSES and round_has_failed_conversations(r),
    ),
    ObjectButton(
        "publish",
        "Publish",
        run="publish_round",
        shown=lambda r: r.status in lifecycle.PUBLISH_FROM,
        confirm="Publishing shows these standings to the teams. A later change (a re-judge, an annotation, a "
        "moderation) is recomputed and kept as a revision the teams can see.",
    ),
    ObjectButton(
        "cancel",
        "Cancel round",
        run="cancel_round",
        shown=lambda r: r.status in lifecycle.CANCEL_FROM,
        confirm="Cancel this round? Its unfinished conversations are cancelled and it never plays again; "
        "the turns already played are kept.",
    ),
)


@admin.register(Round)
class RoundAdmin(ObjectButtonsMixin, SimpleHistoryAdmin):
    # What an organizer looks for first comes first, and the row fits a 1280 px screen.
    list_display = [
        "__str__",
        "status",
        "progress_link",
        "progress",
        "round_kind",
        "started_at",
    ]
    list_filter = ["status", "practice", "competition"]
    actions = [
        "start_rounds",
        "pause_rounds",
        "resume_rounds",
        "cancel_rounds",
        "rerun_failed_conversations",
        "publish_rounds",
    ]
    search_fields = ["name", "slug", "competition__name", "competition__slug"]
    list_select_related = ["competition"]
    date_hierarchy = "created_at"
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MatchInline]
    fieldsets = [
        (None, {"fields": ["competition", "number", "name", "slug", "practice", "status", "progress_link"]}),
        ("Settings", {"fields": list(Round.SETTING_FIELDS)}),
        ("Frozen at start", {"fields": ["frozen_settings_pretty"]}),
        ("Standings (docs/scoring.md)", {"fields": ["standings_preview"]}),
        (
            "Timeline",
            {
                "fields": [
                    "scheduled_at",
                    "started_at",
                    "playing_finished_at",
                    "judging_finished_at",
                    "published_at",
                    "created_at",
                ]
            },
        ),
    ]
    LIFECYCLE_FIELDS = (
        "status",
        "started_at",
        "playing_finished_at",
        "judging_finished_at",
        "published_at",
        "created_at",
        "frozen_settings_pretty",
        "progress_link",
        "standings_preview",
    )

    # What a started round keeps as it was at its start: how it is named, what it counts for, when it
    # was to start and every setting (the competition's rounds list keeps them too, RoundInline).
    FROZEN_AT_START = ("competition", "number", "name", "slug", "practice", "scheduled_at", *Round.SETTING_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Round | None = None) -> tuple:
        if round_started(obj):
            # Started: what it runs with is frozen; editing the live fields would only mislead.
            return (*self.LIFECYCLE_FIELDS, *self.FROZEN_AT_START)
        return self.LIFECYCLE_FIELDS

    def get_prepopulated_fields(self, request: HttpRequest, obj: Round | None = None) -> dict:
        return {} if round_started(obj) else self.prepopulated_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Round]:
        # Practice matches are listed under Practice matches, with their teams.
        return (
            super()
            .get_queryset(request)
            .filter(kind=Round.Kind.ROUND)
            .annotate(
                match_count=Count("matches", distinct=True),
                conversation_total=Count("matches__conversations"),
                conversation_finished=Count(
                    "matches__conversations", filter=Q(matches__conversations__status__in=FINISHED)
                ),
            )
        )

    @admin.display(description="Matches", ordering="match_count")
    def match_count(self, round_: Round) -> int:
        return round_.match_count

    # Not named `kind`: Round.kind (a round or a team's practice match) is a field, and a field wins
    # over an admin method of the same name in list_display.
    @admin.display(description="Kind", ordering="practice")
    def round_kind(self, round_: Round) -> str:
        return "practice" if round_.practice else "tournament"

    @admin.display(description="Finished")
    def progress(self, round_: Round) -> str:
        return f"{round_.conversation_finished} / {round_.conversation_total}"

    @admin.display(description="Frozen settings")
    def frozen_settings_pretty(self, round_: Round) -> str:
        return json_pre(round_.frozen_settings)

    @admin.display(description="Live progress")
    def progress_link(self, round_: Round) -> str:
        if round_.pk is None or round_.started_at is None:
            return "-"
        return format_html('<a href="{}">Watch progress</a>', reverse("round-progress", args=[round_.pk]))

    @admin.display(description="Standings with their inputs")
    def standings_preview(self, round_: Round) -> str:
        if round_.pk is None or round_.status not in (Round.Status.SCORED, Round.Status.PUBLISHED):
            return "Computed when the round is scored."
        confirmed = rounds_labels_confirmed(round_ids=[round_.pk])[round_.pk]
        return standings_html(round_, labels_confirmed=confirmed)

    # --- lifecycle actions: thin, each calls one service per selected round ---------------------

    def _lifecycle_step(self, request: HttpRequest, round_: Round, step, done: str) -> bool:
        """One round's move through the lifecycle service `step`; its refusal becomes an error
        message. True when the round moved (the bulk actions and the round's buttons share it)."""
        try:
            result = step(round_id=round_.pk)
        except lifecycle.RoundTransitionError as error:
            self.message_user(request, str(error), messages.ERROR)
            return False
        # Recent actions list it too; the round's History gets its record from the lifecycle itself.
        self.log_change(request, round_, f"Round action: {done}")
        if isinstance(result, int) and not isinstance(result, bool):
            put_back = ngettext(
                "%(round)s: %(n)d failed conversation put back to play",
                "%(round)s: %(n)d failed conversations put back to play",
                result,
            )
            self.message_user(request, put_back % {"round": round_, "n": result})
        return True

    def _lifecycle(self, request: HttpRequest, queryset: QuerySet[Round], step, done: str) -> None:
        moved = sum(self._lifecycle_step(request, round_, step, done) for round_ in queryset)
        if moved:
            self.message_user(
                request,
                ngettext("%(n)d round %(done)s.", "%(n)d rounds %(done)s.", moved) % {"n": moved, "done": done},
                messages.SUCCESS,
            )

    # --- the buttons of a round's own page (ROUND_BUTTONS): the same services, one round ------------

    object_buttons = ROUND_BUTTONS

    def _round_button(self, request: HttpRequest, round_: Round, *, step, done: str) -> None:
        if self._lifecycle_step(request, round_, step, done) and done != "re-run":
            self.message_user(request, f"{round_} {done}.", messages.SUCCESS)

    start_round = partialmethod(_round_button, step=lifecycle.round_start, done="started")
    pause_round = partialmethod(_round_button, step=lifecycle.round_pause, done="paused")
    resume_round = partialmethod(_round_button, step=lifecycle.round_resume, done="resumed")
    rerun_round = partialmethod(_round_button, step=lifecycle.round_rerun_failed, done="re-run")
    publish_round = partialmethod(_round_button, step=lifecycle.round_publish, done="published")
    cancel_round = partialmethod(_round_button, step=lifecycle.round_cancel, done="cancelled")

    def object_button_confirm_context(self, request: HttpRequest, round_: Round, button: ObjectButton) -> dict:
        if button.name != "publish":
            return {}
        preview = publish_preview(round_)
        return {"confirm_include": "admin/competition/round/standings_table.html", "table": preview["table"]}

    @admin.action(
        description="Start selected rounds (freeze settings and bots, create matches)", permissions=["change"]
    )
    def start_rounds(self, request: HttpRequest, queryset: QuerySet[Round]) -> None:
        self._lifecycle(request, queryset, lifecycle.round_start, "started")

    @admin.action(description="Pause selected rounds", permissions=["change"])
    def pause_rounds(self, request: HttpRequest, queryset: QuerySet[Round]) -> None:
        self._lifecycle(request, queryset, lifecycle.round_pause, "paused")

    @admin.action(description="Resume selected rounds", permissions=["change"])
    def resume_rounds(self, request: HttpRequest, queryset: QuerySet[Round]) -> None:
        self._lifecycle(request, queryset, lifecycle.round_resume, "resumed")

    @admin.action(description="Cancel selected rounds (played turns are kept)", permissions=["change"])
    def cancel_rounds(self, request: HttpRequest, queryset: QuerySet[Round]) -> None:
        self._lifecycle(request, queryset, lifecycle.round_cancel, "cancelled")

    @admin.action(description="Re-run failed conversations of selected rounds", permissions=["change"])
    def rerun_failed_conversations(self, request: HttpRequest, queryset: QuerySet[Round]) -> None:
        self._lifecycle(request, queryset, lifecycle.round_rerun_failed, "re-run")

    @admin.action(description="Publish selected rounds' standings to the teams", permissions=["change"])
    def publish_rounds(self, request: HttpRequest, queryset: QuerySet[Round]) -> HttpResponse | None:
        """First a preview of the standings teams will see; publishing happens on its confirmation."""
        if request.POST.get("confirm") == "yes":
            self._lifecycle(request, queryset, lifecycle.round_publish, "published")
            return None
        previews = [
            publish_preview(round_)
            for round_ in queryset.select_related("competition").order_by("competition__name", "number")
        ]
        return TemplateResponse(
            request,
            "admin/competition/round/publish_preview.html",
            {
                **self.admin_site.each_context(request),
                "title": "Publish standings",
                "opts": self.model._meta,
                "previews": previews,
                "publishable": sum(1 for preview in previews if not preview["problem"]),
                "selected": [preview["round"].pk for preview in previews],
                "action": "publish_rounds",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


def publish_preview(round_: Round) -> dict[str, Any]:
    """What publishing `round_` would show the teams: its standings table (computed now when its
    scoring task has not run yet, so the preview is real), or why it cannot be published."""
    problem = ""
    if round_.status not in lifecycle.PUBLISH_FROM:
        problem = f"it is {round_.get_status_display().lower()}; only scored rounds are published"
    elif not round_.standings.exists():
        # (Imported here: scoring loads numerical libraries every admin process would pay for.)
        from competition.pipeline.scoring import round_score

        round_score(round_id=round_.pk, reason="publish preview")
    return {
        "round": round_,
        "status": round_.get_status_display(),
        "problem": problem,
        "table": standings_display(round_),
    }
