"""Reads that build the competition pages."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from competition.models import Competition, Round


def competition_list_public() -> QuerySet[Competition]:
    """Every competition with its number of rounds and of published rounds, newest first."""
    return Competition.objects.annotate(
        round_count=Count("rounds", filter=~Q(rounds__status=Round.Status.CANCELLED)),
        published_count=Count("rounds", filter=Q(rounds__status=Round.Status.PUBLISHED)),
    ).order_by("-created_at")
