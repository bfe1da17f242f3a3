"""Reads about bots."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from teams.models import Bot, BotHealthCheck


def bot_health_history(*, bot: Bot, limit: int = 50) -> QuerySet[BotHealthCheck]:
    """The bot's latest health checks, newest first, at most ``limit``."""
    return BotHealthCheck.objects.filter(bot=bot).order_by("-checked_at", "-pk")[:limit]


def bot_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Bot]:
    """The bots ``user`` may see: those of the teams they belong to; every bot for staff; none when anonymous."""
    if not user.is_authenticated:
        return Bot.objects.none()
    bots = Bot.objects.select_related("team").order_by("team__name", "name")
    if user.is_staff:
        return bots
    return bots.filter(team__memberships__user=user).distinct()
