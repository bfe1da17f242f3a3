"""Reads that build the competition pages."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from competition.models import Competition, PlayerLease, Round


def competition_list_public() -> QuerySet[Competition]:
    """Every competition with its number of rounds and of published rounds, newest first."""
    return Competition.objects.annotate(
        round_count=Count("rounds", filter=~Q(rounds__status=Round.Status.CANCELLED)),
        published_count=Count("rounds", filter=Q(rounds__status=Round.Status.PUBLISHED)),
    ).order_by("-created_at")


def player_lease_free(*, name: str) -> bool:
    """Whether no live player holds the named lease (free, or its holder stopped renewing)."""
    return not PlayerLease.objects.filter(name=name, expires_at__gte=timezone.now()).exclude(holder="").exists()
