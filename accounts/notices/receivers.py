"""Signal receivers: each event becomes one background task (tasks take primary keys)."""

from __future__ import annotations

from django.db.models.signals import post_save

from accounts.notices.tasks import notices_task
from competition import signals
from config.queue import task_enqueue
from teams.models import BotHealthCheck


def _round_started(sender, round_id: int, **kwargs) -> None:
    task_enqueue(notices_task, "round_started", round_id)


def _round_published(sender, round_id: int, **kwargs) -> None:
    task_enqueue(notices_task, "round_published", round_id)


def _standings_revised(sender, round_id: int, **kwargs) -> None:
    task_enqueue(notices_task, "standings_revised", round_id)


def _entry_decided(sender, entry_id: int, **kwargs) -> None:
    task_enqueue(notices_task, "entry_decided", entry_id)


def _health_check_saved(sender, instance: BotHealthCheck, created: bool, **kwargs) -> None:
    if created and not instance.ok:
        task_enqueue(notices_task, "bot_unhealthy", instance.pk)


def connect() -> None:
    signals.round_started.connect(_round_started, dispatch_uid="accounts.round_started")
    signals.round_published.connect(_round_published, dispatch_uid="accounts.round_published")
    signals.standings_revised.connect(_standings_revised, dispatch_uid="accounts.standings_revised")
    signals.entry_decided.connect(_entry_decided, dispatch_uid="accounts.entry_decided")
    post_save.connect(_health_check_saved, sender=BotHealthCheck, dispatch_uid="accounts.health_check_saved")
