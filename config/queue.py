"""The one way the project enqueues background work: a django-q2 task sent after the transaction commits.

A task enqueued inside a transaction that later rolls back would run against rows that never
existed (or re-read old state); `transaction.on_commit` sends it only once the writes it depends on
are visible. Outside a transaction Django runs the callback at once.
"""

from __future__ import annotations

from django.db import transaction
from django_q.tasks import async_task


def task_enqueue(func: str, *args, **kwargs) -> None:
    """Send `func` (a dotted path to a task) with these arguments to the django-q2 broker on commit.

    Keyword arguments are passed through to `async_task`, so django-q2's own options (`group`,
    `task_name`, `q_options`) work too. Tasks take primary keys, never model instances.
    """
    transaction.on_commit(lambda: async_task(func, *args, **kwargs))
