"""The one way the project enqueues background work, and the schedules of its periodic tasks.

A task is named by its function, never by a string: `task_enqueue(tasks.round_judge_task, pk)`. The
import then shows the arrow to the task's module (tests/test_architecture.py checks it against the
stack, docs/architecture.md), and the dotted path django-q2 stores is derived from the function, so
it cannot drift from it.

A task enqueued inside a transaction that later rolls back would run against rows that never
existed (or re-read old state); `transaction.on_commit` sends it only once the writes it depends on
are visible. Outside a transaction Django runs the callback at once.

Periodic tasks are declared next to their task (`SCHEDULES` of the app's tasks module, as
`TaskSchedule` rows) and written to django-q2's Schedule table after every `migrate`
(`schedules_keep`, a post_migrate handler like the organizers' permissions in competition/apps.py):
the code is the source of the schedules, not data migrations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_migrate
from django_q.tasks import async_task


def task_path(task: Callable) -> str:
    """The dotted path django-q2 stores and imports for `task` (e.g. "judging.tasks.round_judge_task").

    Precondition: `task` is a module-level function (decorators must keep `__module__` and
    `__qualname__`, as functools.wraps does); a nested function or a method has no importable path.
    """
    path = f"{task.__module__}.{task.__qualname__}"
    if "<" in task.__qualname__ or "." in task.__qualname__:
        raise ValueError(f"{path} is not a module-level function: django-q2 could not import it")
    return path


def task_enqueue(task: Callable, *args, **kwargs) -> None:
    """Send `task` (the task function itself) with these arguments to the django-q2 broker on commit.

    Keyword arguments are passed through to `async_task`, so django-q2's own options (`group`,
    `task_name`, `q_options`) work too. Tasks take primary keys, never model instances.
    """
    path = task_path(task)
    transaction.on_commit(lambda: async_task(path, *args, **kwargs))


@dataclass(frozen=True)
class TaskSchedule:
    """A periodic task: django-q2 runs `task` (no arguments) every `minutes` minutes, forever.

    `name` is the Schedule row's key: a task that moves to another module keeps its row (its path is
    updated), so renaming a schedule's name leaves the old row behind; rename with care.
    """

    name: str
    task: Callable
    minutes: int

    @property
    def func(self) -> str:
        return task_path(self.task)


def schedules_upsert(schedules: Iterable[TaskSchedule], *, using: str = "default", schedule_model=None) -> None:
    """Make django-q2's Schedule table hold each schedule once, as declared: a row found by name or by
    task path is updated (its next run kept), rows repeating it are deleted, a missing one is created.
    Idempotent. `schedule_model` is the Schedule model to write (a migration state's, by default the
    installed one)."""
    if schedule_model is None:
        from django_q.models import Schedule as schedule_model
    for schedule in schedules:
        declared = {
            "name": schedule.name,
            "func": schedule.func,
            "schedule_type": "I",  # django_q.models.Schedule.MINUTES
            "minutes": schedule.minutes,
            "repeats": -1,
        }
        rows = list(
            schedule_model.objects.using(using).filter(Q(name=schedule.name) | Q(func=schedule.func)).order_by("pk")
        )
        if not rows:
            schedule_model.objects.using(using).create(**declared)
            continue
        kept, *repeated = rows
        schedule_model.objects.using(using).filter(pk=kept.pk).update(**declared)
        schedule_model.objects.using(using).filter(pk__in=[row.pk for row in repeated]).delete()


def schedules_keep(app_config: AppConfig, schedules: Iterable[TaskSchedule]) -> None:
    """Write `schedules` (schedules_upsert) after every `migrate` of `app_config`'s app, which is when
    a new install or an upgrade gets them. Call it from the app's `AppConfig.ready`."""
    schedules = tuple(schedules)

    def upsert(sender, using, apps=global_apps, **kwargs) -> None:
        try:
            schedule_model = apps.get_model("django_q", "Schedule")
        except LookupError:  # django_q is not migrated in this database (yet)
            return
        schedules_upsert(schedules, using=using, schedule_model=schedule_model)

    names = ",".join(schedule.name for schedule in schedules)
    post_migrate.connect(upsert, sender=app_config, weak=False, dispatch_uid=f"schedules_keep:{names}")
