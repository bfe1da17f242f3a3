"""Riding out a database that went away for a moment (a PostgreSQL restart or failover).

A worker keeps one connection for the whole of a task (django-q2 closes old connections only
between tasks), so a restart cuts it mid-task: the next query raises OperationalError or
InterfaceError. Without help the task dies and its work waits for the reaper (docs/rounds.md).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

# A restart or failover takes seconds; a longer outage fails the task and leaves the work to the
# reaper, which looks again every minute.
DATABASE_WAIT_SECONDS = 60
CONNECTION_LOST = (OperationalError, InterfaceError)

P = ParamSpec("P")
R = TypeVar("R")


def database_wait(*, seconds: float = DATABASE_WAIT_SECONDS) -> None:
    """Drop this thread's connection and reconnect until the database answers, for at most
    `seconds`; raises the last connection error after that."""
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(DatabaseError):
            connection.close()
        try:
            connection.ensure_connection()
            return
        except CONNECTION_LOST:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def retried_when_database_lost(task: Callable[P, R]) -> Callable[P, R]:
    """Run `task` once more, on a fresh connection once the database answers again, when it lost
    its connection midway. Only for tasks that are safe to run twice (they re-read their rows and
    skip what is already done), since the first run may have written part of its work."""

    @functools.wraps(task)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return task(*args, **kwargs)
        except CONNECTION_LOST as error:
            logger.warning("%s lost the database (%s); running it again once it answers", task.__name__, error)
            database_wait()
            return task(*args, **kwargs)

    return run
