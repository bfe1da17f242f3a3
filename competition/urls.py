from django.urls import path

import config.converters  # noqa: F401 - registers <id:...>
from competition import views
from competition.entries import views as entry_views
from competition.practice import views as practice_views

urlpatterns = [
    path("", views.home, name="home"),
    path("scoring/", views.scoring_explained, name="scoring"),
    path("standings/", views.standings_index, name="standings"),
    path("competitions/<slug:slug>/", views.competition_detail, name="competition"),
    path("competitions/<slug:slug>/leaderboard/", views.competition_leaderboard, name="competition-leaderboard"),
    path("competitions/<slug:slug>/rounds/<id:number>/", views.round_leaderboard, name="round-leaderboard"),
    path("teams/", views.my_teams, name="my-teams"),
    path("teams/<slug:slug>/dashboard/", views.team_dashboard, name="team-dashboard"),
    path("teams/entries/", entry_views.entry_list, name="entry-list"),
    path("teams/practice/", practice_views.practice_page, name="practice"),
    path("teams/practice/<int:pk>/", practice_views.practice_match_page, name="practice-match"),
    path(
        "teams/practice/open/<int:competition_id>/<int:bot_id>/",
        practice_views.practice_opt_in_view,
        name="practice-opt-in",
    ),
    path("competitions/<slug:slug>/register/", entry_views.team_request_view, name="team-request"),
    path(
        "teams/entries/<int:entry_id>/bots/<int:bot_id>/enter/",
        entry_views.entry_bot_enter_view,
        name="entry-bot-enter",
    ),
    path(
        "teams/entries/<int:entry_id>/bots/<int:bot_id>/leave/",
        entry_views.entry_bot_leave_view,
        name="entry-bot-leave",
    ),
]
