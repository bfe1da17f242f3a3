"""The organizers' admin for entries: who takes part in which competition, with which bots.

Pending requests are the Entries list filtered by status "requested" (the default link on the admin
index is to every entry); approve, decline (with the reason the requester is sent) and withdraw are
bulk actions that call competition.entries.services. The Teams admin gains the team's entries
(competitions) and a removal of teams made by mistake, which is refused once a team has played.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from simple_history.admin import SimpleHistoryAdmin

from competition.entries import services
from competition.entries.models import Entry, EntryBot, EntrySeat
from competition.entries.seats import SEATED
from teams.admin import MembershipAdmin, MembershipInline, TeamAdmin
from teams.models import Membership, Team


class EntryBotInlineForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        bot, entry = cleaned.get("bot"), getattr(self, "parent_entry", None)
        if bot is not None and entry is not None and bot.team_id != entry.team_id:
            raise forms.ValidationError({"bot": f"{bot} is not a bot of {entry.team}"})
        return cleaned


class EntryBotInline(admin.TabularInline):
    model = EntryBot
    form = EntryBotInlineForm
    extra = 0
    autocomplete_fields = ["bot"]
    readonly_fields = ["entered_at"]

    def get_formset(self, request: HttpRequest, obj: Entry | None = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.parent_entry = obj  # checked against each bot's team in EntryBotInlineForm.clean
        return formset


class DeclineForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        required=False,
        help_text="Sent to whoever asked for the entry",
    )


@admin.register(Entry)
class EntryAdmin(SimpleHistoryAdmin):
    # Fits a 1280 px screen beside the filters; who asked and when are on the entry's own page.
    list_display = ["team", "competition", "status", "team_side", "bot_count", "requested_by"]
    list_filter = ["status", "competition", "team__side"]
    search_fields = ["team__name", "team__slug", "competition__name", "requested_by__username"]
    list_select_related = ["team", "competition", "requested_by"]
    autocomplete_fields = ["team", "requested_by"]
    readonly_fields = ["created_at", "decided_at"]
    inlines = [EntryBotInline]
    actions = ["approve_entries", "decline_entries", "withdraw_entries"]

    def get_inlines(self, request: HttpRequest, obj: Entry | None) -> list:
        # Bots are entered once the entry exists, so each can be checked against its team.
        return self.inlines if obj is not None else []

    @admin.display(description="Side", ordering="team__side")
    def team_side(self, entry: Entry) -> str:
        return entry.team.get_side_display()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        return super().get_queryset(request).annotate(bot_count=Count("entry_bots"))

    @admin.display(description="Bots", ordering="bot_count")
    def bot_count(self, entry: Entry) -> int:
        return entry.bot_count

    def _each(self, request: HttpRequest, queryset: QuerySet[Entry], write: Any, done: str) -> None:
        moved = 0
        for entry in queryset.select_related("team", "competition"):
            try:
                write(entry=entry)
            except services.EntryError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                moved += 1
        if moved:
            self.message_user(request, f"{moved} entr{'y' if moved == 1 else 'ies'} {done}.", messages.SUCCESS)

    @admin.action(description="Approve selected entries", permissions=["change"])
    def approve_entries(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        self._each(request, queryset, services.entry_approve, "approved")

    @admin.action(description="Withdraw selected entries from the next rounds", permissions=["change"])
    def withdraw_entries(self, request: HttpRequest, queryset: QuerySet[Entry]) -> None:
        self._each(request, queryset, services.entry_withdraw, "withdrawn")

    @admin.action(description="Decline selected entries (with a reason)…", permissions=["change"])
    def decline_entries(self, request: HttpRequest, queryset: QuerySet[Entry]) -> HttpResponse | None:
        """First a page asking for the reason; declining happens on its confirmation."""
        form = DeclineForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                lambda entry: services.entry_decline(entry=entry, reason=reason),
                "declined",
            )
            return None
        return TemplateResponse(
            request,
            "admin/competition/entry/decline.html",
            {
                **self.admin_site.each_context(request),
                "title": "Decline entries",
                "opts": self.model._meta,
                "form": form,
                "entries": list(queryset.select_related("team", "competition")),
                "action": "decline_entries",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


class EntryInline(admin.TabularInline):
    """A team's entries: the competitions it takes part in (edited on each entry's own page)."""

    model = Entry
    fk_name = "team"
    extra = 0
    show_change_link = True
    fields = ["competition", "status", "created_at"]
    readonly_fields = ["competition", "status", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def seat_clash(*, team_id: int | None, user_id: int | None) -> str:
    """Why ``user`` cannot join ``team`` (on another team of a competition the team is in), or ""."""
    if team_id is None or user_id is None:
        return ""
    competitions = Entry.objects.filter(team_id=team_id, status__in=SEATED).values("competition_id")
    clash = (
        EntrySeat.objects.filter(user_id=user_id, competition_id__in=competitions)
        .exclude(entry__team_id=team_id)
        .select_related("entry__team", "competition")
        .first()
    )
    if clash is None:
        return ""
    return f"{clash.user} is on {clash.entry.team} in {clash.competition}; a person plays for one team per competition"


class SeatCheckedMembershipForm(forms.ModelForm):
    """A membership form that says, instead of failing on the seat's constraint, when the person is
    on another team of a competition the team takes part in."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        team = (
            cleaned.get("team") or getattr(self.instance, "team", None)
            if self.instance.team_id
            else cleaned.get("team")
        )
        user = cleaned.get("user")
        problem = seat_clash(team_id=getattr(team, "pk", None), user_id=getattr(user, "pk", None))
        if problem and not self.instance.pk:
            raise forms.ValidationError(problem)
        return cleaned


class SeatCheckedMembershipInline(MembershipInline):
    form = SeatCheckedMembershipForm


admin.site.unregister(Membership)


@admin.register(Membership)
class SeatCheckedMembershipAdmin(MembershipAdmin, SimpleHistoryAdmin):
    form = SeatCheckedMembershipForm


admin.site.unregister(Team)


@admin.register(Team)
class TeamWithEntriesAdmin(TeamAdmin, SimpleHistoryAdmin):
    """The Teams admin (teams/admin.py) with each team's competitions and the removal of a team made
    by mistake (refused once it has played)."""

    inlines = [
        *(SeatCheckedMembershipInline if inline is MembershipInline else inline for inline in TeamAdmin.inlines),
        EntryInline,
    ]
    list_display = [*TeamAdmin.list_display, "competitions"]
    actions = ["remove_teams"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).prefetch_related("entries__competition")

    def get_inlines(self, request: HttpRequest, obj: Team | None) -> list:
        # A new team has no entries yet; they are made on the entries' own pages.
        return self.inlines if obj is not None else self.inlines[:-1]

    @admin.display(description="Competitions")
    def competitions(self, team: Team) -> str:
        names = [
            f"{entry.competition.name}" + ("" if entry.status == Entry.Status.APPROVED else f" ({entry.status})")
            for entry in team.entries.all()
        ]
        return ", ".join(sorted(names)) or "none"

    @admin.action(description="Remove selected teams (only teams that have played nothing)", permissions=["delete"])
    def remove_teams(self, request: HttpRequest, queryset: QuerySet[Team]) -> None:
        removed = 0
        for team in queryset:
            try:
                services.team_remove(team=team)
            except services.EntryError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                removed += 1
        if removed:
            self.message_user(request, f"{removed} team(s) removed.", messages.SUCCESS)
