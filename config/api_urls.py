"""The REST API under /api/: a router over each app's api.py, the OpenAPI schema and its docs."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from competition.api import CompetitionViewSet, RoundViewSet
from competition.entries.api import EntryViewSet
from competition.practice.api import PracticeMatchViewSet
from config.api_errors import api_not_found
from judging.reading.api import ConversationViewSet
from teams.api import BotViewSet

router = DefaultRouter()
router.register("competitions", CompetitionViewSet, basename="competition")
router.register("rounds", RoundViewSet, basename="round")
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("bots", BotViewSet, basename="bot")
router.register("entries", EntryViewSet, basename="entry")
router.register("practice-matches", PracticeMatchViewSet, basename="practice-match")

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script from a URL of its own: the Content-Security-Policy forbids inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # The site's own ReDoc page: no Google Fonts, no inline script, no worker (templates/api/redoc.html).
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"), name="redoc"),
    *router.urls,
    # Any rest of the path, newlines included ("." alone stops at one and the site's 404 page answered).
    re_path(r"^[\s\S]*$", api_not_found, name="not-found"),
]
