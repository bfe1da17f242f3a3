"""Background work on bots (django-q2): the periodic health check and the calls people ask for."""

from __future__ import annotations

from config.queue import TaskSchedule, task_enqueue
from teams import bot_calls  # a module: bot_calls enqueues bot_call_task by its function
from teams.models import Bot
from teams.services import bot_health_check


def bots_health_check_all() -> int:
    """Enqueue one health check per active bot of an active team, once the transaction commits.

    Returns how many were enqueued. Run every 10 minutes (SCHEDULES).
    """
    bot_pks = list(Bot.objects.filter(active=True, team__active=True).values_list("pk", flat=True))
    for bot_pk in bot_pks:
        task_enqueue(bot_health_check_task, bot_pk, group="bot-health")
    return len(bot_pks)


def bot_health_check_task(bot_pk: int) -> None:
    """Check one bot's health; does nothing when the bot is gone or was deactivated meanwhile."""
    bot = Bot.objects.select_related("team").filter(pk=bot_pk, active=True).first()
    if bot is None:
        return
    bot_health_check(bot=bot)


def bot_call_task(call_pk: int) -> None:
    """Make one call a person asked for ("Check health now", "Test this bot"); leaves when it was taken already."""
    bot_calls.bot_call_run(call_pk=call_pk)


SCHEDULES = (TaskSchedule(name="Bot health checks", task=bots_health_check_all, minutes=10),)
