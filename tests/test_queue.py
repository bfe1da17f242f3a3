"""config/queue.py: a task is enqueued by its function, on commit; schedules come from the code and
are written after `migrate`, one row each, whatever an older install left."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.utils import timezone
from django_q.models import Schedule

from competition import tasks as competition_tasks
from config.queue import TaskSchedule, schedules_upsert, task_enqueue, task_path

CALLS: list[tuple] = []


def recorded_task(*args) -> None:
    CALLS.append(args)


def test_it_names_a_task_by_its_module_and_function():
    assert task_path(competition_tasks.rounds_reap_task) == "competition.tasks.rounds_reap_task"
    assert task_path(recorded_task) == "tests.test_queue.recorded_task"


def test_it_refuses_a_function_django_q_could_not_import():
    def nested_task() -> None:
        pass

    with pytest.raises(ValueError, match="not a module-level function"):
        task_path(nested_task)


def test_it_sends_the_task_once_the_transaction_commits(db, django_capture_on_commit_callbacks):
    CALLS.clear()
    with django_capture_on_commit_callbacks() as callbacks:
        task_enqueue(recorded_task, 7, "why")
        assert CALLS == []  # nothing is sent before the commit

    for callback in callbacks:
        callback()  # the test settings run django-q2 synchronously: the task runs here
    assert CALLS == [(7, "why")]


REAPER = TaskSchedule(name="Round reaper", task=competition_tasks.rounds_reap_task, minutes=1)


def test_it_makes_an_older_installs_rows_what_the_code_declares(db):
    Schedule.objects.all().delete()
    next_run = timezone.now() + timedelta(seconds=40)
    old = Schedule.objects.create(
        name="Round reaper",
        func="competition.old_tasks.rounds_reap_task",
        schedule_type="I",
        minutes=5,
        next_run=next_run,
    )
    Schedule.objects.create(name="reaper again", func=REAPER.func, schedule_type="I", minutes=1)

    schedules_upsert([REAPER])
    schedules_upsert([REAPER])

    rows = list(Schedule.objects.values_list("pk", "name", "func", "schedule_type", "minutes", "repeats", "next_run"))
    assert rows == [(old.pk, "Round reaper", REAPER.func, Schedule.MINUTES, 1, -1, next_run)]


def test_it_writes_every_schedule_again_after_migrate(db):
    # An upgrade: the export sweep's row as judging's migration 0012 wrote it, before the task moved
    # to judging.datasets; the other rows missing.
    Schedule.objects.all().delete()
    Schedule.objects.create(
        name="Export job sweep", func="judging.tasks.export_jobs_reap_task", schedule_type="I", minutes=1, repeats=-1
    )

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert sorted(Schedule.objects.values_list("name", "func", "minutes")) == [
        ("Bot health checks", "teams.tasks.bots_health_check_all", 10),
        ("Export job sweep", "judging.datasets.tasks.export_jobs_reap_task", 1),
        ("Round reaper", "competition.tasks.rounds_reap_task", 1),
    ]
