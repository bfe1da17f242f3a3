"""The teams' entry pages: their entries, a new team's request, an owner's request for an existing
team, and entering a bot into an entry. Another team's entry is a 404, never a 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from competition.entries import services
from competition.entries.forms import EntryRequestForm, TeamRequestForm
from competition.entries.models import Registration
from competition.entries.selectors import entries_for_user, entry_operable_by
from competition.models import Competition
from teams.models import Membership, Team
from teams.selectors import bot_list_for_user


def _owned_teams(user):
    return Team.objects.filter(memberships__user=user, memberships__role=Membership.Role.OWNER).order_by("name")


@login_required
@require_GET
def entry_list(request: HttpRequest) -> HttpResponse:
    """/teams/entries/: the entries of the user's teams, and the competitions open to requests."""
    open_competitions = Competition.objects.exclude(registration=Registration.CLOSED).order_by("name")
    return render(
        request,
        "competition/entries/entry_list.html",
        {
            "entries": entries_for_user(user=request.user).prefetch_related("bots"),
            "open_competitions": open_competitions,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_request_view(request: HttpRequest, slug: str) -> HttpResponse:
    """/competitions/<slug>/register/: ask to register a new team, or to enter a team one owns."""
    competition = get_object_or_404(Competition, slug=slug)
    owned = _owned_teams(request.user).exclude(entries__competition=competition)
    team_form = TeamRequestForm(request.POST if request.POST.get("form") == "new" else None, prefix="new")
    entry_form = EntryRequestForm(
        request.POST if request.POST.get("form") == "existing" else None, teams=owned, prefix="existing"
    )
    closed = competition.registration == Registration.CLOSED
    for form in (team_form, entry_form):
        if form.is_bound and not closed and form.is_valid():
            try:
                if form is team_form:
                    entry = services.team_request(competition=competition, user=request.user, **form.cleaned_data)
                else:
                    entry = services.entry_request_by_owner(
                        competition=competition, team=form.cleaned_data["team"], user=request.user
                    )
            except services.EntryError as error:
                form.add_error(None, str(error))
                break
            messages.success(request, f"{entry.team.name}: entry {entry.get_status_display().lower()}.")
            return redirect("entry-list")
    bound = team_form.is_bound or entry_form.is_bound
    return render(
        request,
        "competition/entries/team_request.html",
        {
            "competition": competition,
            "team_form": team_form,
            "entry_form": entry_form,
            "owned": owned,
            "closed": closed,
        },
        status=400 if bound else 200,
    )


def _entry_and_bot(request: HttpRequest, entry_id: int, bot_id: int):
    entry = get_object_or_404(entries_for_user(user=request.user), pk=entry_id)
    bot = get_object_or_404(bot_list_for_user(user=request.user), pk=bot_id, team_id=entry.team_id)
    if not entry_operable_by(user=request.user, entry=entry):
        raise PermissionDenied("Only the team's owners and organizers enter bots.")
    return entry, bot


@login_required
@require_POST
def entry_bot_enter_view(request: HttpRequest, entry_id: int, bot_id: int) -> HttpResponse:
    entry, bot = _entry_and_bot(request, entry_id, bot_id)
    try:
        services.entry_bot_enter(entry=entry, bot=bot)
    except services.EntryError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{bot.name} is entered in {entry.competition.name}.")
    return redirect("teams:bot-detail", bot_id=bot.pk)


@login_required
@require_POST
def entry_bot_leave_view(request: HttpRequest, entry_id: int, bot_id: int) -> HttpResponse:
    entry, bot = _entry_and_bot(request, entry_id, bot_id)
    services.entry_bot_leave(entry=entry, bot=bot)
    messages.success(request, f"{bot.name} is out of {entry.competition.name}'s next rounds.")
    return redirect("teams:bot-detail", bot_id=bot.pk)
