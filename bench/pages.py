"""Page speed with data: the pages teams come back for, over 20,000 conversations / 200,000 turns.

Fills a throwaway SQLite database the way bench/export.py does (5 attacker x 5 defender bots, 5
exchanges per conversation, a final label and a verdict on every defender reply), publishes the round
with a standing for every bot, then asks each page through Django's test client as a member of an
attacker team (the public leaderboards as an anonymous visitor) and prints, per page, the median
and worst server time over the repeats and the number of queries. Targets (issue 9): median at most
150 ms and at most 15 queries per page (tests/competition/test_selectors.py asserts the query bound on
small data).

    .venv/bin/python bench/pages.py                         # 20,000 conversations
    .venv/bin/python bench/pages.py --conversations 2000    # a quick look
    .venv/bin/python bench/pages.py --conversations 200000 --keep            # keep the filled database
    .venv/bin/python bench/pages.py --conversations 200000 --workdir DIR     # reuse it (same size)
    .venv/bin/python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/arena_bench_perf

It never touches var/arena.sqlite3: everything lives in a temporary folder (or the PostgreSQL
database named), removed afterwards unless --keep. bench/export.py fills the same way, so one kept
database serves both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import bench_database, bench_database_drop, django_setup

REPEATS = 15
TARGET_MS = 150
TARGET_QUERIES = 15


def standings_publish() -> None:
    """A standing for every bot of the round (the numbers do not matter for speed), then publish it."""
    from competition.models import Round, Standing
    from teams.models import Bot

    round_ = Round.objects.get()
    if Standing.objects.filter(round=round_).exists():
        return  # a kept database, published by an earlier run
    rows = []
    for rank, bot in enumerate(Bot.objects.select_related("team").order_by("pk"), start=1):
        rows.append(
            Standing(
                round=round_,
                team=bot.team,
                bot=bot,
                side=bot.team.side,
                rank=rank,
                score=0.5,
                rating=1000 + rank,
                rating_lower=950 + rank,
                rating_upper=1050 + rank,
                inputs={
                    "categories": {
                        "vulnerable_code": {
                            "conversations": 400,
                            "successes": 100,
                            "counted_successes": 90,
                            "rate": 0.225,
                        }
                    }
                },
            )
        )
    Standing.objects.bulk_create(rows)
    Round.objects.filter(pk=round_.pk).update(status=Round.Status.PUBLISHED)


def measure(client, url: str) -> tuple[float, float, float, int]:
    """(median ms, worst ms, median CPU ms of this process, queries of the last request) over REPEATS
    requests after one warm-up. The CPU time moves less than the wall time on a shared machine; on
    SQLite it includes the database's work, on PostgreSQL not (the server's process does it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200, url
    times, cpu = [], []
    for _ in range(REPEATS):
        with CaptureQueriesContext(connection) as queries:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append(1000 * (time.perf_counter() - started))
            cpu.append(1000 * (time.process_time() - started_cpu))
        assert response.status_code == 200, url
    return statistics.median(times), max(times), statistics.median(cpu), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="keep the filled database (prints where)")
    parser.add_argument("--workdir", type=Path, help="reuse a folder filled by an earlier --keep run")
    parser.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL URL (created if missing, reused if filled, dropped unless --keep)",
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-pages-"))
    database_url = bench_database(database_url=args.database_url, workdir=workdir)
    try:
        # Filled by bench/export.py's filler in a child process with DEBUG off (with it on, Django keeps
        # every INSERT's text). Reuses a database an earlier --keep run filled.
        filler = [
            sys.executable,
            str(Path(__file__).parent / "export.py"),
            "--child",
            "fill",
            "--workdir",
            str(workdir),
        ]
        filler += ["--conversations", str(args.conversations), "--database-url", args.database_url]
        subprocess.run(filler, check=True)
        # DEBUG on, as when these figures were first taken: with it off the pages need collectstatic's
        # manifest, which a throwaway benchmark folder does not have.
        django_setup(database_url=database_url, workdir=workdir, workers=1, DEBUG="1")
        from django.core.management import call_command

        call_command("createcachetable")  # the database cache the leaderboards use (not a migration)
        standings_publish()

        from django.contrib.auth.models import User
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        from conversations.models import Conversation, Turn
        from teams.models import Membership, Team

        member, created = User.objects.get_or_create(username="bench-member")
        team = Team.objects.get(slug="attacker-0")
        if created:
            Membership.objects.create(user=member, team=team, role=Membership.Role.OWNER)
        conversation = Conversation.objects.filter(match__attacker__team=team).order_by("-pk").first()
        signed_in = Client()
        signed_in.force_login(member)
        pages = [
            ("round leaderboard", Client(), reverse("round-leaderboard", args=["bench", 1])),
            ("competition leaderboard", Client(), reverse("competition-leaderboard", args=["bench"])),
            ("team dashboard", signed_in, reverse("team-dashboard", args=[team.slug])),
            ("conversation list", signed_in, reverse("team-conversations")),
            (
                "conversation list by outcome",
                signed_in,
                reverse("team-conversations") + "?outcome=attack_succeeded&page=3",
            ),
            ("transcript", signed_in, reverse("team-conversation", args=[conversation.uuid])),
        ]
        engine = connection.vendor
        print(
            f"{Conversation.objects.count()} conversations, {Turn.objects.count()} turns, {engine}; "
            f"{REPEATS} requests per page; load average {os.getloadavg()[0]:.1f}"
        )
        results = [(name, *measure(client, url)) for name, client, url in pages]
        print(f"{'page':<30} {'median ms':>10} {'worst ms':>10} {'CPU ms':>8} {'queries':>8}")
        for name, median, worst, cpu, queries in results:
            print(f"{name:<30} {median:>10.1f} {worst:>10.1f} {cpu:>8.1f} {queries:>8}")
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
        # The lines bench/run_all.py reads into docs/performance.md.
        for name, median, _worst, _cpu, queries in results:
            print(f"{name} median: {median:.1f} ms (target <= {TARGET_MS} ms)")
            print(f"{name} queries: {queries} (target <= {TARGET_QUERIES})")
    finally:
        if args.keep:
            print(f"kept {workdir}" + (f" and {database_url}" if args.database_url else ""))
        else:
            bench_database_drop(args.database_url)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
