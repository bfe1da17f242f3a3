"""The team's practice pages: start a practice match, list the team's practice matches with their
outcomes, and one match's conversations with links to their judged transcripts. Another team's
practice match is a 404, never a 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from competition.practice import services
from competition.practice.selectors import practice_matches_visible_to, practice_offers, practice_result
from teams.selectors import bot_list_for_user

LIST_SIZE = 50


def _number(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


@login_required
@require_http_methods(["GET", "POST"])
def practice_page(request: HttpRequest) -> HttpResponse:
    """/teams/practice/: start a practice match (owners), and the user's teams' practice matches."""
    if request.method == "POST":
        try:
            match = services.practice_match_start(
                user=request.user,
                competition_id=_number(request.POST.get("competition")),
                bot_id=_number(request.POST.get("bot")),
                opponent_id=_number(request.POST.get("opponent")),
            )
        except services.PracticeRefused as refused:
            messages.error(request, f"Practice match refused: {refused}")
        else:
            messages.success(request, "Practice match started: its conversations are being played.")
            return redirect("practice-match", match.pk)
    matches = practice_matches_visible_to(user=request.user)[:LIST_SIZE]
    return render(
        request,
        "competition/practice/practice.html",
        {
            "offers": practice_offers(user=request.user),
            "results": [practice_result(match=match) for match in matches],
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def practice_match_page(request: HttpRequest, pk: int) -> HttpResponse:
    """/teams/practice/<pk>/: one practice match's conversations, outcomes and transcripts."""
    match = get_object_or_404(practice_matches_visible_to(user=request.user), pk=pk)
    return render(request, "competition/practice/practice_match.html", {"result": practice_result(match=match)})


@login_required
@require_POST
def practice_opt_in_view(request: HttpRequest, competition_id: int, bot_id: int) -> HttpResponse:
    """POST /teams/practice/open/<competition>/<bot>/ with open=1 (or 0): an owner opens the team's
    bot to other teams' practice in the competition (or closes it); back to the bot's page. A bot
    the user may not see is a 404; a refusal (not an owner, not entered) is said there, nothing changed."""
    bot = get_object_or_404(bot_list_for_user(user=request.user), pk=bot_id)
    opened = request.POST.get("open") == "1"
    try:
        now_open = services.practice_opt_in_set(
            user=request.user, competition_id=competition_id, bot_id=bot.pk, opted_in=opened
        )
    except services.PracticeRefused as refused:
        messages.error(request, f"Not changed: {refused}.")
    else:
        if now_open:
            messages.success(request, f"{bot.name} is open to other teams' practice.")
        else:
            messages.success(request, f"{bot.name} is closed to other teams' practice.")
    return redirect(reverse("teams:bot-detail", args=[bot.pk]) + "#practice")
