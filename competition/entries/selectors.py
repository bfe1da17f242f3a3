"""Reads about entries: who plays in a competition, and what a team's people may see of its entries."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from competition.entries.models import Entry, EntryBot
from teams.models import Bot, Membership


def bots_entered(*, competition_id: int, side: str) -> QuerySet[Bot]:
    """The bots a round of the competition pairs on ``side``: active bots of active teams, entered
    into an approved entry of that competition; ordered by primary key (the pairing's positions)."""
    return (
        Bot.objects.filter(
            active=True,
            team__active=True,
            team__side=side,
            entry_bots__entry__competition_id=competition_id,
            entry_bots__entry__status=Entry.Status.APPROVED,
        )
        .select_related("team")
        .distinct()
        .order_by("pk")
    )


def entries_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Entry]:
    """The entries of the teams ``user`` belongs to (every entry for organizers, who hold the view
    permission on entries); none when anonymous."""
    if not user.is_authenticated:
        return Entry.objects.none()
    entries = Entry.objects.select_related("competition", "team").order_by("competition__name", "team__name")
    if user.has_perm("competition.view_entry"):
        return entries
    return entries.filter(team__memberships__user=user).distinct()


def entries_of_bot(*, bot: Bot) -> list[tuple[Entry, bool]]:
    """The bot's team's approved entries, each with whether the bot is entered in it."""
    entries = list(
        Entry.objects.filter(team_id=bot.team_id, status=Entry.Status.APPROVED)
        .select_related("competition")
        .order_by("competition__name")
    )
    entered = set(EntryBot.objects.filter(bot=bot).values_list("entry_id", flat=True))
    return [(entry, entry.pk in entered) for entry in entries]


def entry_operable_by(*, user: AbstractBaseUser | AnonymousUser, entry: Entry) -> bool:
    """Whether ``user`` may enter bots into ``entry`` or withdraw it: organizers (change permission on
    entries) and owners of its team."""
    if not user.is_authenticated:
        return False
    if user.has_perm("competition.change_entry"):
        return True
    return Membership.objects.filter(user=user, team_id=entry.team_id, role=Membership.Role.OWNER).exists()
