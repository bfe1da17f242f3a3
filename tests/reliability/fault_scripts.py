"""What test_fault_round.py runs in processes of their own, against the throwaway PostgreSQL named
by DATABASE_URL (settings: config.settings, so tasks go to the real broker, never inline):

- ``python -m tests.reliability.fault_scripts setup BASE_URL``: the hostile round with its judges,
  started (its player task queued on the broker); prints the round's id.
- ``python -m tests.reliability.fault_scripts clock SECONDS``: queues the reaper's task every
  SECONDS, standing in for its every-minute schedule (django-q2 schedules have a minute's
  granularity and the sentinel looks at them every 30 s: too slow for a test). It rides out the
  database's restart like any client: a failed send is tried again at the next tick.
"""

from __future__ import annotations

import sys
import time

import django


def setup(base_url: str) -> None:
    from tests.reliability.hostile_cast import hostile_round_make

    round_ = hostile_round_make(
        base_url=base_url,
        judges=True,
        max_turns=4,
        # One call at a time to the slow /ok bots: the round lasts long enough to be hurt mid-round.
        ok_max_concurrency=1,
    )
    print(round_.pk)


def clock(seconds: float) -> None:
    from django.db import close_old_connections
    from django_q.tasks import async_task

    while True:
        try:
            close_old_connections()
            async_task("competition.tasks.rounds_reap_task")
        except Exception as error:  # the database is restarting: try again at the next tick
            print(f"clock: {error!r}", file=sys.stderr, flush=True)
            from django.db import connection

            connection.close()
        time.sleep(seconds)


if __name__ == "__main__":
    django.setup()
    command, argument = sys.argv[1], sys.argv[2]
    if command == "setup":
        setup(argument)
    elif command == "clock":
        clock(float(argument))
    else:
        raise SystemExit(f"unknown command {command!r}")
