"""Keeping EntrySeat in step with memberships and entries (one team per person per competition).

An entry that is requested or approved holds a seat for each member of its team; one withdrawn or
declined holds none. A membership made while the team has such entries takes a seat in each, and
raises IntegrityError (the seat's unique constraint) when the person is on another team there.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from competition.entries.models import Entry, EntrySeat
from teams.models import Membership

SEATED = (Entry.Status.REQUESTED, Entry.Status.APPROVED)


def entry_seats_sync(*, entry: Entry) -> None:
    """Seats of ``entry`` for exactly its team's members (none unless requested or approved).
    Raises IntegrityError when a member is seated in the competition by another team's entry."""
    wanted = set()
    if entry.status in SEATED:
        wanted = set(Membership.objects.filter(team_id=entry.team_id).values_list("user_id", flat=True))
    held = set(EntrySeat.objects.filter(entry=entry).values_list("user_id", flat=True))
    EntrySeat.objects.filter(entry=entry, user_id__in=held - wanted).delete()
    for user_id in sorted(wanted - held):
        EntrySeat.objects.create(entry=entry, competition_id=entry.competition_id, user_id=user_id)


def _membership_saved(sender, instance: Membership, created: bool, **kwargs) -> None:
    if not created or kwargs.get("raw"):
        return
    for entry in Entry.objects.filter(team_id=instance.team_id, status__in=SEATED):
        EntrySeat.objects.create(entry=entry, competition_id=entry.competition_id, user_id=instance.user_id)


def _membership_deleted(sender, instance: Membership, **kwargs) -> None:
    EntrySeat.objects.filter(entry__team_id=instance.team_id, user_id=instance.user_id).delete()


def connect() -> None:
    post_save.connect(_membership_saved, sender=Membership, dispatch_uid="competition.entries.membership_saved")
    post_delete.connect(_membership_deleted, sender=Membership, dispatch_uid="competition.entries.membership_deleted")
