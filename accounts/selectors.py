"""Reads of the accounts' pages."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Invitation, Notice, NoticeKind, NoticePreference
from teams.models import Membership, Team


def notices_of(*, user) -> QuerySet[Notice]:
    """The person's own notices, newest first (nobody else's, organizers included)."""
    return Notice.objects.filter(user=user).order_by("-created_at", "-pk")


def kinds_by_email(*, user) -> set[str]:
    off = set(NoticePreference.objects.filter(user=user, email=False).values_list("kind", flat=True))
    return set(NoticeKind.values) - off


def team_of_member(*, user, slug: str) -> Team | None:
    """The team with ``slug`` when ``user`` is on it, else None (another team's page is a 404)."""
    return Team.objects.filter(slug=slug, memberships__user=user).first()


def team_members(*, team: Team) -> QuerySet[Membership]:
    return Membership.objects.filter(team=team).select_related("user").order_by("-role", "user__username")


def team_invitations_open(*, team: Team) -> QuerySet[Invitation]:
    return Invitation.objects.filter(team=team, accepted_at__isnull=True, revoked=False).order_by("-created_at")
