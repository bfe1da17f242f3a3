from django.urls import path

import config.converters  # noqa: F401 - registers <id:...>
from competition import views

urlpatterns = [
    path("", views.home, name="home"),
    path("scoring/", views.scoring_explained, name="scoring"),
    path("standings/", views.standings_index, name="standings"),
    path("competitions/<slug:slug>/", views.competition_detail, name="competition"),
    path("competitions/<slug:slug>/leaderboard/", views.competition_leaderboard, name="competition-leaderboard"),
    path("competitions/<slug:slug>/rounds/<id:number>/", views.round_leaderboard, name="round-leaderboard"),
    path("teams/", views.my_teams, name="my-teams"),
    path("teams/<slug:slug>/dashboard/", views.team_dashboard, name="team-dashboard"),
]
