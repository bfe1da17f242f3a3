"""Calls to a bot that a person asks for ("Check health now", "Test this bot"), made off the web request.

A web request only records a queued ``BotCall`` and enqueues ``teams.tasks.bot_call_task``; the task
claims the call with a conditional update, makes it through the services that already do it
(``bot_health_check``, ``bot_test_exchange``, both over the one HTTP seam ``teams/http/``) and stores
the result. A bot that never answers so holds a background worker for at most its time limit and
never a web worker. At most one call per bot is queued or running at a time.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.queue import task_enqueue
from teams import tasks as teams_tasks  # a module: the task calls bot_call_run back
from teams.models import Bot, BotCall
from teams.services import bot_health_check, bot_test_exchange

# A queued call no worker took within this is given up (the queue may be busy with rounds), and so
# is a running one whose worker died: the call's own limit (45 s at most) plus the connect timeout
# is far below it. An expired call frees the bot for the next request.
QUEUED_EXPIRY = timedelta(minutes=10)
RUNNING_EXPIRY = timedelta(minutes=2)
# Finished calls kept per bot (the newest); older ones are deleted when a new call is asked for.
KEEP_FINISHED = 20


class BotCallBusy(Exception):
    """Another call to the same bot is queued or running; ``call`` is that one."""

    def __init__(self, call: BotCall) -> None:
        super().__init__(f"A {call.get_kind_display().lower()} of this bot is already under way.")
        self.call = call


def _expire_stale(*, bot: Bot) -> None:
    now = timezone.now()
    BotCall.objects.filter(bot=bot, status=BotCall.Status.QUEUED, requested_at__lt=now - QUEUED_EXPIRY).update(
        status=BotCall.Status.EXPIRED, finished_at=now
    )
    BotCall.objects.filter(bot=bot, status=BotCall.Status.RUNNING, started_at__lt=now - RUNNING_EXPIRY).update(
        status=BotCall.Status.EXPIRED, finished_at=now
    )


def _prune(*, bot: Bot) -> None:
    keep = BotCall.objects.filter(bot=bot).order_by("-requested_at", "-pk").values_list("pk", flat=True)[:KEEP_FINISHED]
    BotCall.objects.filter(bot=bot).exclude(status__in=BotCall.IN_FLIGHT).exclude(pk__in=list(keep)).delete()


def bot_call_request(*, bot: Bot, kind: str, user) -> BotCall:
    """Queue a call of ``kind`` (``BotCall.Kind``) to ``bot`` asked for by ``user``; the task runs on commit.

    Raises ``BotCallBusy`` when a call to this bot is already queued or running (calls older than
    the expiry times are given up first). Never contacts the bot.
    """
    _expire_stale(bot=bot)
    try:
        with transaction.atomic():
            call = BotCall.objects.create(bot=bot, kind=kind, requested_by=user if user.is_authenticated else None)
    except IntegrityError:
        busy = BotCall.objects.filter(bot=bot, status__in=BotCall.IN_FLIGHT).first()
        if busy is None:  # finished between the insert and this read: the caller may simply retry
            raise
        raise BotCallBusy(busy) from None
    _prune(bot=bot)
    task_enqueue(teams_tasks.bot_call_task, call.pk, group="bot-call")
    return call


def bot_call_run(*, call_pk: int) -> None:
    """Make the queued call ``call_pk`` and store its result; does nothing when it was taken or given up.

    The claim is a conditional update (queued -> running), so a task delivered twice calls the bot
    once. The result is stored only if the call is still running (an expired call stays expired).
    """
    claimed = BotCall.objects.filter(pk=call_pk, status=BotCall.Status.QUEUED).update(
        status=BotCall.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return
    call = BotCall.objects.select_related("bot__team").get(pk=call_pk)
    result: dict = {}
    if call.kind == BotCall.Kind.HEALTH_CHECK:
        result["health_check"] = bot_health_check(bot=call.bot)
    else:
        result["report"] = asdict(bot_test_exchange(bot=call.bot))
    BotCall.objects.filter(pk=call_pk, status=BotCall.Status.RUNNING).update(
        status=BotCall.Status.DONE, finished_at=timezone.now(), **result
    )
