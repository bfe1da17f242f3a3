"""The arena's admin site: the default Django admin, with a home page titled for whoever opens it."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

# The permission only organizers hold among staff (competition/migrations/0002_groups.py).
ORGANIZER_PERMISSION = "competition.change_round"
ANNOTATOR_PERMISSION = "judging.add_annotation"


class ArenaAdminSite(admin.AdminSite):
    site_header = "Adversarial Arena"
    site_title = "Adversarial Arena admin"
    index_title = "Arena administration"

    def index_title_for(self, request: HttpRequest) -> str:
        """What the home page is for, for this person: organizers run competitions, annotators label."""
        user = request.user
        if user.has_perm(ORGANIZER_PERMISSION):
            return "Organize competitions"
        if user.has_perm(ANNOTATOR_PERMISSION):
            return "Annotate defender replies"
        return self.index_title

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return super().index(request, {"title": self.index_title_for(request), **(extra_context or {})})
