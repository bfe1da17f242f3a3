"""The team's practice pages: start a practice match, list the team's practice matches with their
outcomes, and one match's conversations with links to their judged transcripts. Another team's
practice match is a 404, never a 403."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from competition.practice import services
from competition.practice.selectors import practice_matches_visible_to, practice_offers, practice_result

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
