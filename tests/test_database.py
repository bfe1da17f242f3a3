"""config/database.py: a task that lost its database connection midway runs again once it answers."""

import pytest
from django.db import IntegrityError, OperationalError, connection

from competition.models import Competition
from config.database import retried_when_database_lost


def test_it_runs_a_task_again_on_a_fresh_connection_when_it_lost_the_database(transactional_db):
    calls = []

    @retried_when_database_lost
    def task(extra: int) -> int:
        calls.append(connection.connection)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return Competition.objects.count() + extra

    Competition.objects.count()  # a connection is open when the task starts
    assert task(2) == 2
    assert len(calls) == 2
    assert calls[1] is not calls[0]  # reconnected, not the broken connection again


def test_it_lets_any_other_error_through_without_running_again(transactional_db):
    calls = []

    @retried_when_database_lost
    def task() -> None:
        calls.append(1)
        raise IntegrityError("duplicate key value violates unique constraint")

    with pytest.raises(IntegrityError):
        task()
    assert calls == [1]
