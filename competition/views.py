"""The public competition pages (competitions, rounds, leaderboards, how scoring works) and a
team's dashboard for its members."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from competition import selectors
from competition.models import Competition, Round
from competition.practice.selectors import practice_matches_visible_to, practice_result
from config.docs import doc_html
from teams.models import Team

PRACTICE_ON_DASHBOARD = 10


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "competition/home.html", {"competitions": selectors.competition_list_public()})


@require_GET
def competition_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A competition and its rounds; published rounds link to their leaderselectors."""
    competition = get_object_or_404(Competition, slug=slug)
    rounds = competition.rounds.filter(kind=Round.Kind.ROUND).exclude(status="cancelled").order_by("number")
    return render(request, "competition/competition_detail.html", {"competition": competition, "rounds": rounds})


@require_GET
def round_leaderboard(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """A published round's leaderboard; rounds not yet published are a 404."""
    round_ = selectors.round_published(competition_slug=slug, number=number)
    if round_ is None:
        raise Http404("No published round with that number.")
    return render(request, "competition/round_leaderboard.html", {"board": selectors.round_board(round_=round_)})


@require_GET
def competition_leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    """The leaderboard over a competition's published tournament rounds."""
    competition = get_object_or_404(Competition, slug=slug)
    return render(
        request,
        "competition/competition_leaderboard.html",
        {"board": selectors.competition_board(competition=competition)},
    )


@require_GET
def standings_index(request: HttpRequest) -> HttpResponse:
    """/standings/: the newest competition's leaderboard (the competitions list when there is none)."""
    competition = Competition.objects.order_by("-created_at").first()
    if competition is None:
        return redirect("home")
    return redirect("competition-leaderboard", slug=competition.slug)


@require_GET
def scoring_explained(request: HttpRequest) -> HttpResponse:
    """How scoring works: docs/scoring.md, the same text the repository holds."""
    # The page is written for teams; the file's last part, for organizers and developers, names code.
    body = doc_html("scoring.md", until="## For organizers and developers")
    return render(request, "competition/scoring.html", {"body": body})


@login_required
@require_GET
def my_teams(request: HttpRequest) -> HttpResponse:
    """/teams/: the teams the user belongs to (organizers: every team), each linking to its dashboard."""
    teams = Team.objects.all() if request.user.has_perm("teams.view_team") else request.user.teams.all()
    return render(request, "competition/my_teams.html", {"teams": teams.order_by("name")})


@login_required
@require_GET
def team_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """A team's dashboard, for its members and organizers; any other team's is a 404."""
    teams = Team.objects.all() if request.user.has_perm("teams.view_team") else request.user.teams.all()
    team = get_object_or_404(teams, slug=slug)
    practice = [
        practice_result(match=match)
        for match in practice_matches_visible_to(user=request.user).filter(team=team)[:PRACTICE_ON_DASHBOARD]
    ]
    return render(
        request,
        "competition/team_dashboard.html",
        {"dashboard": selectors.team_dashboard(team=team), "practice": practice},
    )
