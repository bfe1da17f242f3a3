"""Round makespan benchmark: how close a real round comes to the bots' own speed limit.

Starts the example bots with a fixed latency, plays a 5 attackers x 5 defenders x 40 conversations
x 5 exchanges round through a real django-q2 cluster (a subprocess, ORM broker), and prints:

- makespan: from the round's start to the moment nothing is left to play;
- lower bound: the largest, over bots, of calls x latency / concurrency (no scheduler can beat it);
- their ratio (target <= 1.25);
- platform CPU time per turn: CPU of the whole cluster process tree while playing / turns stored
  (target <= 5 ms).

With `--players N` the round is shared by N players (settings.ARENA_PLAYERS), in `--qclusters`
clusters (as on several worker machines); with bots so fast that one player's CPU bounds the round
(`--latency 0.005 --concurrency 8`) it shows what a second player gains.

    .venv/bin/python bench/round_makespan.py                        # SQLite in a temp folder
    .venv/bin/python bench/round_makespan.py --database-url postgres://postgres@127.0.0.1:5432/arena_bench
    .venv/bin/python bench/round_makespan.py --latency 0.005 --concurrency 8 --players 2 --qclusters 2 \
        --database-url postgres://postgres@127.0.0.1:5432/arena_bench --redis-url redis://127.0.0.1:6379/11

It never touches var/arena.sqlite3: everything lives in a temporary folder (or the named database,
which it creates and drops).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import (
    ROOT,
    cluster_check,
    cluster_idle_wait,
    cluster_start,
    django_setup,
    postgres_database,
    process_tree_cpu,
    processes_stop,
)

ATTACKER_PATHS = ["/attackers/direct", "/attackers/roleplay", "/attackers/escalation", "/attackers/completion"]
DEFENDER_PATHS = ["/defenders/refuser", "/defenders/careless", "/defenders/careful"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attackers", type=int, default=5)
    parser.add_argument("--defenders", type=int, default=5)
    parser.add_argument("--conversations", type=int, default=40, help="conversations per pair")
    parser.add_argument("--turns", type=int, default=5, help="exchanges per conversation")
    parser.add_argument("--latency", type=float, default=0.2, help="bots' answer latency in seconds")
    parser.add_argument("--concurrency", type=int, default=4, help="each bot's max concurrent calls")
    parser.add_argument("--workers", type=int, default=2, help="django-q2 worker processes per cluster")
    parser.add_argument("--players", type=int, default=1, help="players sharing the round (ARENA_PLAYERS)")
    parser.add_argument("--qclusters", type=int, default=1, help="django-q2 clusters (as on that many machines)")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (created and dropped); default SQLite")
    parser.add_argument("--redis-url", default="", help="Redis URL for django-q2's broker (its db is flushed)")
    parser.add_argument(
        "--practice",
        type=int,
        default=0,
        help="practice matches started beside the round (issue 25: they must not slow it by more than 5%%)",
    )
    parser.add_argument("--timeout", type=float, default=900)
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing answered on port {port}")


def redis_flush(url: str) -> None:
    """Empty the benchmark's Redis database, so no task of an earlier run waits in its queue."""
    import redis

    redis.Redis.from_url(url).flushdb()


def players_reports() -> list[dict]:
    """The PlayReport of each player task that played, from the results django-q2 kept, busiest first."""
    from django_q.models import Task

    from competition.pipeline.selectors import player_leases_live

    deadline = time.monotonic() + 15
    while player_leases_live() and time.monotonic() < deadline:
        time.sleep(0.2)  # the players finish their last housekeeping; their results are saved after
    time.sleep(1)
    reports = [task.result for task in Task.objects.filter(func="competition.tasks.rounds_play_task")]
    played = [report for report in reports if isinstance(report, dict) and report["turns"]]
    return sorted(played, key=lambda report: -report["turns"])


def bots_create(args: argparse.Namespace, *, port: int, workdir: Path) -> Path:
    """The teams and bots, each bot on an example path of the bots' server; returns the secrets file
    the server verifies calls with."""
    from teams.models import Bot, Team

    secrets_by_path: dict[str, str] = {}
    for side, count, paths in (
        ("attacker", args.attackers, ATTACKER_PATHS),
        ("defender", args.defenders, DEFENDER_PATHS),
    ):
        for i in range(count):
            team = Team.objects.create(name=f"{side} {i}", slug=f"{side}-{i}", side=side)
            path = paths[i % len(paths)]
            bot = Bot(
                team=team,
                name=f"{side}-{i}",
                url=f"http://127.0.0.1:{port}{path}",
                max_concurrency=args.concurrency,
            )
            # Bots that share an example path share its secret, so the server verifies every call.
            bot.secret = secrets_by_path.setdefault(path, bot.secret)
            bot.save()
    secrets_file = workdir / "secrets.json"
    secrets_file.write_text(json.dumps(secrets_by_path))
    return secrets_file


def round_create(args: argparse.Namespace):
    """The bench's competition, every team entered with its bots, and its round."""
    from competition.entries.services import entry_enter_approved
    from competition.models import Competition, Round
    from teams.models import Team

    competition = Competition.objects.create(name="Bench", slug="bench")
    for team in Team.objects.prefetch_related("bots"):
        entry_enter_approved(
            competition=competition, team=team, bots=list(team.bots.all()), note="Entered by the bench"
        )
    return Round.objects.create(
        competition=competition,
        number=1,
        name="Bench",
        slug="bench",
        conversations_per_pair=args.conversations,
        max_turns=args.turns,
        call_timeout_seconds=10,
        retries=1,
    )


def practice_start(args: argparse.Namespace, *, round_) -> list:
    """`args.practice` practice matches beside the round, each of attacker team i against defender i
    (mod the counts), as many conversations as a pair of the round (at most 20) of the same turns."""
    from django.contrib.auth.models import User

    from competition.practice import services
    from teams.models import Bot, Membership

    competition_id = round_.competition_id
    services.practice_policy_set(
        competition_id=competition_id,
        daily_conversations=10_000,
        conversations_per_match=min(20, args.conversations),
        max_turns=args.turns,
    )
    defenders = list(Bot.objects.filter(team__side="defender").order_by("pk"))
    attackers = list(Bot.objects.filter(team__side="attacker").select_related("team").order_by("pk"))
    services.practice_opponents_set(competition_id=competition_id, bot_ids=[bot.pk for bot in defenders])
    matches = []
    for i in range(args.practice):
        bot = attackers[i % len(attackers)]
        owner, _ = User.objects.get_or_create(username=f"owner-{bot.team.slug}")
        Membership.objects.get_or_create(team=bot.team, user=owner, defaults={"role": Membership.Role.OWNER})
        matches.append(
            services.practice_match_start(
                user=owner, competition_id=competition_id, bot_id=bot.pk, opponent_id=defenders[i % len(defenders)].pk
            )
        )
    return matches


def bots_server_start(args: argparse.Namespace, *, port: int, env: dict, secrets_file: Path) -> subprocess.Popen:
    """The example bots' server (its own session, so it is stopped with its children)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "examples.bots.server",
            "--port",
            str(port),
            "--latency",
            str(args.latency),
            "--secrets",
            str(secrets_file),
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def round_wait(args: argparse.Namespace, *, round_, clusters: list[subprocess.Popen], workdir: Path) -> None:
    """Until the round stops running, printing the turns stored; leaves when a cluster died or the
    timeout passed (cluster_check)."""
    from competition.models import Round
    from conversations.models import Turn

    deadline = time.monotonic() + args.timeout
    turns = Turn.objects.filter(conversation__match__round=round_)
    total_calls = args.attackers * args.defenders * args.conversations * args.turns * 2
    while True:
        round_.refresh_from_db()
        if round_.status != Round.Status.RUNNING:
            break
        for cluster in clusters:
            cluster_check(
                cluster,
                deadline=deadline,
                unfinished=f"the round did not finish within {args.timeout} s",
                workdir=workdir,
            )
        done = turns.count()
        print(f"\r  {done}/{total_calls} turns", end="", flush=True)
        time.sleep(1)


def calls_by_bot(turns) -> dict[int, int]:
    """Calls (attempts included) each bot answered, by bot id."""
    calls: dict[int, int] = {}
    for speaker, attacker_id, defender_id, attempts in turns.values_list(
        "speaker", "conversation__match__attacker_id", "conversation__match__defender_id", "attempts"
    ):
        bot_id = attacker_id if speaker == "attacker" else defender_id
        calls[bot_id] = calls.get(bot_id, 0) + attempts
    return calls


def report_print(args: argparse.Namespace, *, round_, cpu_used: float, bots_cpu: float) -> None:
    from conversations.models import Turn

    turns = Turn.objects.filter(conversation__match__round=round_)
    makespan = (round_.playing_finished_at - round_.started_at).total_seconds()
    stored = turns.count()
    failed = turns.exclude(status="ok").count()
    calls = calls_by_bot(turns)
    bound = max(count * args.latency / args.concurrency for count in calls.values())
    engine = "PostgreSQL" if args.database_url else "SQLite"
    broker = "Redis broker" if args.redis_url else "ORM broker"
    print(
        f"round: {args.attackers} attackers x {args.defenders} defenders x {args.conversations} conversations "
        f"x {args.turns} exchanges; latency {args.latency * 1000:.0f} ms; concurrency {args.concurrency}; "
        f"{args.players} players in {args.qclusters} qclusters of {args.workers} workers; {engine}, {broker}"
    )
    print(f"turns stored:      {stored} ({failed} failed)")
    print(f"makespan:          {makespan:.1f} s")
    print(f"lower bound:       {bound:.1f} s  (busiest bot: {max(calls.values())} calls)")
    print(f"ratio:             {makespan / bound:.3f}  (target <= 1.25)")
    print(f"platform CPU:      {cpu_used:.1f} s in the cluster's processes")
    print(f"CPU per turn:      {1000 * cpu_used / max(stored, 1):.2f} ms  (target <= 5 ms)")
    print(f"bots' server CPU:  {bots_cpu:.1f} s (the example bots, on the same cores)")
    reports = players_reports()
    print(f"turns by player:   {' + '.join(str(report['turns']) for report in reports) or 'none recorded'}")
    player_cpu = " + ".join(f"{report['cpu_seconds']:.1f} s" for report in reports) or "-"
    print(f"CPU by player:     {player_cpu} (each player's worker process)")


def practice_report_print(*, practice: list, round_, seconds: float) -> None:
    """How long starting the practice matches took (the bench's own writes, inside the round's
    makespan: they start after the round), how far they got while the round played, and when they
    finished."""
    from django.db.models import Max

    from conversations.models import Conversation, Turn

    rounds = [match.round_id for match in practice]
    conversations = Conversation.objects.filter(match__round_id__in=rounds)
    during = Turn.objects.filter(
        conversation__match__round_id__in=rounds, created_at__lte=round_.playing_finished_at
    ).count()
    deadline = time.monotonic() + 120
    while conversations.filter(status__in=("pending", "running")).exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    finished = conversations.aggregate(last=Max("ended_at"))["last"]
    after = (finished - round_.playing_finished_at).total_seconds() if finished else float("nan")
    print(f"practice start:    {seconds:.2f} s (the bench starting the matches, after the round's start)")
    print(
        f"practice:          {len(practice)} matches, {conversations.count()} conversations; "
        f"{during} of their turns stored while the round played; last one finished {after:.1f} s after the round"
    )


def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="arena-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    if args.database_url:
        postgres_database(args.database_url, create=True)
    if args.redis_url:
        redis_flush(args.redis_url)
    env = django_setup(
        database_url=database_url,
        workdir=workdir,
        workers=args.workers,
        redis_url=args.redis_url,
        ARENA_ALLOW_PRIVATE_URLS="1",
        ARENA_PLAYERS=str(args.players),
    )
    from django.core.management import call_command

    from competition.pipeline import lifecycle

    children: list[subprocess.Popen] = []
    try:
        call_command("migrate", interactive=False, verbosity=0)
        port = free_port()
        secrets_file = bots_create(args, port=port, workdir=workdir)
        round_ = round_create(args)
        children.append(bots_server_start(args, port=port, env=env, secrets_file=secrets_file))
        wait_for_port(port)
        clusters = [
            cluster_start(env=env, workdir=workdir, log=f"qcluster-{index}.log" if index else "qcluster.log")
            for index in range(args.qclusters)
        ]
        children.extend(clusters)
        # The clusters' start (Django loaded, workers forked) is not part of the round: wait until their
        # processes are idle, so neither the makespan nor the CPU per turn counts it.
        for cluster in clusters:
            cluster_idle_wait(cluster.pid)
        cpu_before = sum(process_tree_cpu(cluster.pid) for cluster in clusters)
        bots_cpu_before = process_tree_cpu(children[0].pid)
        lifecycle.round_start(round_id=round_.pk)
        practice_started = time.monotonic()
        practice = practice_start(args, round_=round_) if args.practice else []
        practice_seconds = time.monotonic() - practice_started
        round_wait(args, round_=round_, clusters=clusters, workdir=workdir)
        cpu_used = sum(process_tree_cpu(cluster.pid) for cluster in clusters) - cpu_before
        bots_cpu = process_tree_cpu(children[0].pid) - bots_cpu_before
        print()
        report_print(args, round_=round_, cpu_used=cpu_used, bots_cpu=bots_cpu)
        if practice:
            practice_report_print(practice=practice, round_=round_, seconds=practice_seconds)
    finally:
        processes_stop(children, timeout=20)
        from django.db import connections

        connections.close_all()
        if args.database_url:
            postgres_database(args.database_url, create=False)
        if args.redis_url:
            redis_flush(args.redis_url)
    shutil.rmtree(workdir, ignore_errors=True)  # kept (with qcluster.log) only when the run failed


if __name__ == "__main__":
    main()
