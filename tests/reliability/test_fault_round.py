"""A hostile round (hostile_cast.py) through real qclusters on a PostgreSQL of the test's own, hurt
twice mid-round: the qcluster playing it is killed with SIGKILL (its whole process group) and a
new one started; then PostgreSQL restarts (``pg_ctl restart -m fast``: every connection is cut).

The round must still finish and be judged to scored, every conversation ending as its bots'
behaviour says and blamed on the right side, no turn stored twice, no stored text altered, no
conversation left running, no claim or lease left behind, every reply judged by every judge.

It runs once, in the SQLite pass of the suite (``make test``): it never uses the suite's database
but builds a throwaway cluster with initdb (tests/reliability/pg_throwaway.py), so running it again
in the PostgreSQL pass of .ci/run would prove nothing new. Without server binaries it is skipped,
saying why. The reaper's every-minute schedule is stood in for by a clock process that queues the
reaper's task every two seconds (fault_scripts.py); claims and the player's lease live 6 seconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
import pytest
from django.db import InterfaceError, OperationalError, connection, connections
from django.db.models import Count
from django_q.models import Task

from competition.models import ROUND_PLAYER_LEASE, PlayerLease, Round
from conversations.models import Conversation, Turn
from judging.models import FinalLabel, Judge, Verdict
from judging.selectors import judgeable_turns
from tests.reliability.hostile_bot import HOSTILE_TEXTS, HostileServer, hostile_server_start
from tests.reliability.hostile_cast import ATTACKERS, DEFENDERS, outcomes_expected, path_of
from tests.reliability.pg_throwaway import (
    ThrowawayPostgres,
    throwaway_postgres_remove,
    throwaway_postgres_start,
    unavailable_reason,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ALIAS = "faults"  # the test's own connection to the throwaway cluster
MAX_TURNS = 4  # exchanges: an attacker's message and the defender's reply
# Generous: on an idle machine the whole test takes about a minute; deadlines only catch a hang.
PHASE_SECONDS = 120
FINISH_SECONDS = 240


@dataclass
class Faults:
    cluster: ThrowawayPostgres
    env: dict[str, str]
    logs: Path
    processes: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def start(self, name: str, *argv: str) -> subprocess.Popen:
        """A process of its own session (so its whole group can be killed), logging to a file."""
        log = (self.logs / f"{name}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, *argv],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((name, process))
        return process

    def log_tails(self) -> str:
        return "\n".join(
            f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-25:])
            for path in sorted(self.logs.glob("*.log"))
        )


def skip_reason() -> str | None:
    if connection.vendor == "postgresql":
        return (
            "the fault suite runs once, in the SQLite pass: it builds its own PostgreSQL whatever the "
            "suite's database, so this pass would repeat it"
        )
    return unavailable_reason()


@pytest.fixture
def faults(django_db_blocker, tmp_path):
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    cluster = throwaway_postgres_start()
    try:
        cluster.createdb("arena_faults")
        url = cluster.url("arena_faults")
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env |= {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": url,  # the ORM broker: the restart hits the broker too
            "ARENA_VAR_DIR": str(tmp_path),
            "ARENA_ALLOW_PRIVATE_URLS": "1",
            "ARENA_CLAIM_SECONDS": "6",
            "ARENA_PLAYER_LEASE_SECONDS": "6",
            "Q_WORKERS": "2",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
        connections.settings[ALIAS] = connections.configure_settings({"default": dj_database_url.parse(url)})["default"]
        logs = tmp_path / "logs"
        logs.mkdir()
        faults = Faults(cluster=cluster, env=env, logs=logs)
        with django_db_blocker.unblock():
            try:
                yield faults
            finally:
                for _name, process in reversed(faults.processes):
                    stop(process)
                with contextlib.suppress(Exception):
                    connections[ALIAS].close()
                del connections[ALIAS]
                connections.settings.pop(ALIAS)
    finally:
        throwaway_postgres_remove(cluster)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the main process only (a qcluster stops its own children), then the group."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def read(query: Callable[[], object]) -> object | None:
    """Run a read on the throwaway database; None while it is unreachable (restarting)."""
    try:
        return query()
    except (OperationalError, InterfaceError):
        with contextlib.suppress(Exception):
            connections[ALIAS].close()
        return None


def turns_stored() -> int:
    return Turn.objects.using(ALIAS).count()


def conversations_running() -> int:
    return Conversation.objects.using(ALIAS).filter(status=Conversation.Status.RUNNING).count()


def lease_released() -> bool:
    return not PlayerLease.objects.using(ALIAS).filter(name=ROUND_PLAYER_LEASE).exclude(holder="").exists()


def round_status(round_id: int) -> str:
    return Round.objects.using(ALIAS).get(pk=round_id).status


def diagnosis(faults: Faults, round_id: int) -> str:
    def state() -> str:
        statuses = Counter(Conversation.objects.using(ALIAS).values_list("status", flat=True))
        lease = PlayerLease.objects.using(ALIAS).filter(name=ROUND_PLAYER_LEASE).first()
        failed_tasks = [
            f"{task.func}: {str(task.result).splitlines()[0][:200]}"
            for task in Task.objects.using(ALIAS).filter(success=False)
        ]
        return (
            f"round {round_status(round_id)}, conversations {dict(statuses)}, turns {turns_stored()}, "
            f"lease {lease}, failed tasks {failed_tasks}"
        )

    return f"{read(state)}\n{faults.log_tails()}"


def wait_for(faults: Faults, round_id: int, what: str, condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not read(condition):
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}:\n{diagnosis(faults, round_id)}")
        time.sleep(0.25)


def test_it_finishes_a_hostile_round_through_a_killed_qcluster_and_a_restarted_postgresql(faults):
    hostile = hostile_server_start(seed=13, hang_seconds=4.0, drip_seconds=0.2, ok_delay_seconds=0.4)
    try:
        played(faults, hostile)
        sent: dict[str, set[str]] = defaultdict(set)
        for _path, delivery, content in hostile.sent:
            sent[delivery].add(content)
    finally:
        hostile.stop()

    conversations = list(Conversation.objects.using(ALIAS).select_related("match__attacker", "match__defender"))
    assert len(conversations) == len(ATTACKERS) * (len(DEFENDERS) + 1)
    turns_by_conversation: dict[int, list[Turn]] = defaultdict(list)
    for turn in Turn.objects.using(ALIAS).order_by("conversation", "index"):
        turns_by_conversation[turn.conversation_id].append(turn)

    for conversation in conversations:
        attacker, defender = path_of(conversation.match.attacker), path_of(conversation.match.defender)
        outcome = (conversation.status, conversation.failure_side, conversation.failure_kind)
        assert outcome in outcomes_expected(attacker=attacker, defender=defender), (
            attacker,
            defender,
            conversation.failure_detail,
        )
        # Nothing lost: every slot from 0 on, the good turns first, a failed conversation's failure last.
        turns = turns_by_conversation[conversation.pk]
        assert [turn.index for turn in turns] == list(range(len(turns)))
        assert all(turn.status == Turn.Status.OK for turn in turns[:-1])
        if conversation.status == Conversation.Status.COMPLETED:
            assert len(turns) == 2 * MAX_TURNS and turns[-1].status == Turn.Status.OK
        else:
            assert (turns[-1].speaker, turns[-1].status) == (conversation.failure_side, conversation.failure_kind)
        assert (conversation.claimed_by, conversation.claim_expires_at) == ("", None)

    # No turn twice: one row per (conversation, index), one per delivery id.
    all_turns = Turn.objects.using(ALIAS)
    assert not all_turns.values("conversation", "index").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert len(set(all_turns.values_list("delivery_id", flat=True))) == all_turns.count()

    # No stored text altered: byte for byte what the bot sent for that delivery.
    ok_turns = list(all_turns.filter(status=Turn.Status.OK))
    for turn in ok_turns:
        assert turn.content in sent[str(turn.delivery_id)], f"turn {turn.pk} stored text no bot sent for its slot"
    stored = Counter(turn.content for turn in ok_turns)
    for path, text in HOSTILE_TEXTS.items():
        assert stored[text] >= 2, path
    assert not any("\x00" in turn.content for turn in all_turns)
    for path in ("/nul", "/long"):
        replies = all_turns.filter(conversation__match__defender__url__endswith=path, speaker="defender")
        assert {(turn.status, turn.content) for turn in replies} == {("bad_content", "")}, path

    # A retried call keeps its earlier attempt's error.
    for turn in all_turns.filter(conversation__match__defender__url__endswith="/status-503", speaker="defender"):
        assert (turn.attempts, [(e["kind"], e["status"]) for e in turn.attempt_errors]) == (2, [("http_status", 503)])

    # No task of the round's work died of the lost connection (the player hands over, the others run again).
    failed = Task.objects.using(ALIAS).filter(success=False, func__startswith="competition.tasks.")
    failed = failed | Task.objects.using(ALIAS).filter(success=False, func__startswith="judging.tasks.")
    assert not failed.exists(), [(task.func, str(task.result)[:300]) for task in failed]

    # Judged: every reply by every judge, once, without an error, and a final label each.
    replies = judgeable_turns().using(ALIAS)
    judges = list(Judge.objects.using(ALIAS).filter(active=True))
    verdicts = Verdict.objects.using(ALIAS).filter(turn__in=replies)
    assert len(judges) == 2
    assert verdicts.count() == replies.count() * len(judges)
    assert not verdicts.exclude(error="").exists(), list(verdicts.exclude(error="").values_list("error", flat=True))
    assert FinalLabel.objects.using(ALIAS).filter(turn__in=replies).count() == replies.count()


def played(faults: Faults, hostile: HostileServer) -> int:
    """Play the round through the faults; return its id once it is scored."""
    setup = subprocess.run(
        [sys.executable, "-m", "tests.reliability.fault_scripts", "setup", hostile.base_url],
        cwd=ROOT,
        env=faults.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    round_id = int(setup.stdout.split()[-1])
    started = time.monotonic()
    faults.start("clock", "-m", "tests.reliability.fault_scripts", "clock", "2")
    first = faults.start("qcluster-first", "manage.py", "qcluster")

    wait_for(
        faults,
        round_id,
        "the first qcluster to play",
        lambda: turns_stored() >= 8 and conversations_running() > 0,
        PHASE_SECONDS,
    )
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    at_kill = read(turns_stored)
    killed = time.monotonic()
    faults.start("qcluster-second", "manage.py", "qcluster")

    wait_for(
        faults,
        round_id,
        "the second qcluster to take the round over",
        lambda: turns_stored() >= at_kill + 8,
        PHASE_SECONDS,
    )
    taken_over = time.monotonic()
    status_at_restart = read(lambda: round_status(round_id))
    faults.cluster.restart()
    restarted = time.monotonic()
    # Only a restart while the round plays proves anything: the round is made long enough for it.
    assert status_at_restart == Round.Status.RUNNING, f"the round was {status_at_restart} at the restart"

    wait_for(faults, round_id, "the round to be scored", lambda: round_status(round_id) == "scored", FINISH_SECONDS)
    finished = time.monotonic()
    # The last player let its lease go (released, not left to expire).
    wait_for(faults, round_id, "the player's lease to be released", lease_released, PHASE_SECONDS)
    print(
        f"fault round: kill after {killed - started:.1f} s ({at_kill} turns), taken over in "
        f"{taken_over - killed:.1f} s, PostgreSQL restarted at {restarted - started:.1f} s, "
        f"scored {finished - restarted:.1f} s later"
    )
    return round_id
