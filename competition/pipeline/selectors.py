"""Reads of the pipeline's state: which players are alive."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from competition.pipeline.models import ROUND_PLAYER_LEASE, PlayerLease


def player_leases_live() -> list[str]:
    """The names of the player leases a live player holds (its holder renews it), the primary's
    ("rounds") first, then "rounds:1", "rounds:2" ... in index order."""
    names = (
        PlayerLease.objects.filter(Q(name=ROUND_PLAYER_LEASE) | Q(name__startswith=f"{ROUND_PLAYER_LEASE}:"))
        .filter(expires_at__gte=timezone.now())
        .exclude(holder="")
        .values_list("name", flat=True)
    )
    return sorted(names, key=lambda name: int(name.partition(":")[2] or 0))
