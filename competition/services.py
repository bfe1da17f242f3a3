"""Writes on what competition owns outside a round's lifecycle (competition/pipeline/lifecycle.py):
the lease of the one round player."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from competition.models import PlayerLease


def player_lease_acquire(*, name: str, holder: str, seconds: int) -> bool:
    """Take the named lease if it is free, expired or already this holder's; True when held now."""
    PlayerLease.objects.get_or_create(name=name)
    now = timezone.now()
    return bool(
        PlayerLease.objects.filter(name=name)
        .filter(Q(holder="") | Q(expires_at__lt=now) | Q(holder=holder))
        .update(holder=holder, expires_at=now + timedelta(seconds=seconds), acquired_at=now)
    )


def player_lease_renew(*, name: str, holder: str, seconds: int) -> bool:
    """Extend the lease if this holder still has it; False means another player took it over."""
    return bool(
        PlayerLease.objects.filter(name=name, holder=holder).update(
            expires_at=timezone.now() + timedelta(seconds=seconds)
        )
    )


def player_lease_release(*, name: str, holder: str) -> None:
    PlayerLease.objects.filter(name=name, holder=holder).update(holder="", expires_at=None)
