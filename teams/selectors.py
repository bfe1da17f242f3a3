"""Reads about bots."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from teams.models import Bot, BotCall, BotHealthCheck, Membership


def bot_health_history(*, bot: Bot, limit: int = 50) -> QuerySet[BotHealthCheck]:
    """The bot's latest health checks, newest first, at most ``limit``."""
    return BotHealthCheck.objects.filter(bot=bot).order_by("-checked_at", "-pk")[:limit]


def bot_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Bot]:
    """The bots ``user`` may see: those of the teams they belong to; every bot for organizers (who hold
    the view permission on bots; annotators do not); none when anonymous."""
    if not user.is_authenticated:
        return Bot.objects.none()
    bots = Bot.objects.select_related("team").order_by("team__name", "name")
    if user.has_perm("teams.view_bot"):
        return bots
    return bots.filter(team__memberships__user=user).distinct()


def bot_operable_by(*, user: AbstractBaseUser | AnonymousUser, bot: Bot) -> bool:
    """Whether ``user`` may check and test ``bot``: organizers (change permission on bots) and owners of its team."""
    if not user.is_authenticated:
        return False
    if user.has_perm("teams.change_bot"):
        return True
    return Membership.objects.filter(user=user, team_id=bot.team_id, role=Membership.Role.OWNER).exists()


def bot_call_latest(*, bot: Bot, kind: str) -> BotCall | None:
    """The newest call of ``kind`` made or queued for ``bot`` (any status), or None."""
    return BotCall.objects.filter(bot=bot, kind=kind).select_related("health_check").first()
