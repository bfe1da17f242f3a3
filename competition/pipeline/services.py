"""Writes on what competition owns outside a round's lifecycle (competition/pipeline/lifecycle/):
the players' leases and the bots' call slots they lease."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from functools import reduce
from operator import or_

from django.db.models import Q
from django.utils import timezone

from competition.pipeline.models import BotSlot, PlayerLease


def player_lease_acquire(*, name: str, holder: str, seconds: int) -> bool:
    """Take the named lease if it is free, expired or already this holder's; True when held now."""
    PlayerLease.objects.get_or_create(name=name)
    now = timezone.now()
    return bool(
        PlayerLease.objects.filter(name=name)
        .filter(Q(holder="") | Q(expires_at__lt=now) | Q(holder=holder))
        .update(holder=holder, expires_at=now + timedelta(seconds=seconds), acquired_at=now)
    )


def player_lease_take(*, names: list[str], holder: str, seconds: int) -> str | None:
    """Take the first of the named leases that is free or expired: its name, or None when a live
    player holds every one."""
    for name in names:
        if player_lease_acquire(name=name, holder=holder, seconds=seconds):
            return name
    return None


def player_lease_renew(*, name: str, holder: str, seconds: int) -> bool:
    """Extend the lease if this holder still has it; False means another player took it over."""
    return bool(
        PlayerLease.objects.filter(name=name, holder=holder).update(
            expires_at=timezone.now() + timedelta(seconds=seconds)
        )
    )


def player_lease_release(*, name: str, holder: str) -> None:
    PlayerLease.objects.filter(name=name, holder=holder).update(holder="", expires_at=None)


def _slots_q(slots: dict[int, list[int]]) -> Q:
    return reduce(or_, (Q(bot_id=bot_id, index__in=indexes) for bot_id, indexes in slots.items()))


def bot_slots_take(*, slots: dict[int, list[int]], holder: str, seconds: int) -> set[tuple[int, int]]:
    """Lease the given slots ({bot id: [slot index, ...]}) that are free, expired or already this
    holder's, all in one statement. Returns the (bot id, index) pairs of those slots held now."""
    slots = {bot_id: indexes for bot_id, indexes in slots.items() if indexes}
    if not slots:
        return set()
    wanted = _slots_q(slots)
    rows = [BotSlot(bot_id=bot_id, index=index) for bot_id, indexes in slots.items() for index in indexes]
    BotSlot.objects.bulk_create(rows, ignore_conflicts=True)  # a slot's row is made once, by whoever comes first
    now = timezone.now()
    BotSlot.objects.filter(wanted).filter(Q(holder="") | Q(holder=holder) | Q(expires_at__lt=now)).update(
        holder=holder, expires_at=now + timedelta(seconds=seconds)
    )
    return set(BotSlot.objects.filter(wanted, holder=holder).order_by().values_list("bot_id", "index"))


def bot_slots_renew(*, holder: str, seconds: int) -> set[tuple[int, int]]:
    """Extend every slot lease of this holder; return the (bot id, index) pairs it still holds (one
    past its expiry may have been taken by another player)."""
    mine = BotSlot.objects.filter(holder=holder)
    mine.update(expires_at=timezone.now() + timedelta(seconds=seconds))
    return set(mine.order_by().values_list("bot_id", "index"))


def bot_slots_release(*, holder: str, slots: Iterable[tuple[int, int]] | None = None) -> None:
    """Give back the holder's slots: the (bot id, index) pairs given, or all of them."""
    mine = BotSlot.objects.filter(holder=holder)
    if slots is not None:
        by_bot: dict[int, list[int]] = {}
        for bot_id, index in slots:
            by_bot.setdefault(bot_id, []).append(index)
        if not by_bot:
            return
        mine = mine.filter(_slots_q(by_bot))
    mine.update(holder="", expires_at=None)
