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

It never touches var/arena.sqlite3: everything lives in a temporary folder, removed afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from harness import django_setup

REPEATS = 15
TARGET_MS = 150
TARGET_QUERIES = 15


def standings_publish() -> None:
    """A standing for every bot of the round (the numbers do not matter for speed), then publish it."""
    from competition.models import Round, Standing
    from teams.models import Bot

    round_ = Round.objects.get()
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


def measure(client, url: str) -> tuple[float, float, int]:
    """(median ms, worst ms, queries of the last request) over REPEATS requests after one warm-up."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200, url
    times = []
    for _ in range(REPEATS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append(1000 * (time.perf_counter() - started))
        assert response.status_code == 200, url
    return statistics.median(times), max(times), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    try:
        # DEBUG on, as when these figures were first taken: with it off the pages need collectstatic's
        # manifest, which a throwaway benchmark folder does not have.
        django_setup(database_url=f"sqlite:///{workdir / 'bench.sqlite3'}", workdir=workdir, workers=1, DEBUG="1")
        from export import fill

        started = time.perf_counter()
        fill(args.conversations)
        standings_publish()
        print(f"filled {args.conversations} conversations in {time.perf_counter() - started:.0f} s")

        from django.contrib.auth.models import User
        from django.test import Client
        from django.urls import reverse

        from conversations.models import Conversation, Turn
        from teams.models import Membership, Team

        member = User.objects.create_user("bench-member")
        team = Team.objects.get(slug="attacker-0")
        Membership.objects.create(user=member, team=team, role=Membership.Role.OWNER)
        conversation = Conversation.objects.filter(match__attacker__team=team).order_by("-pk").first()
        signed_in = Client()
        signed_in.force_login(member)
        pages = [
            ("round leaderboard", Client(), reverse("round-leaderboard", args=["bench", 1])),
            ("competition leaderboard", Client(), reverse("competition-leaderboard", args=["bench"])),
            ("team dashboard", signed_in, reverse("team-dashboard", args=[team.slug])),
            ("conversation list", signed_in, reverse("team-conversations")),
            ("transcript", signed_in, reverse("team-conversation", args=[conversation.uuid])),
        ]
        print(
            f"{Conversation.objects.count()} conversations, {Turn.objects.count()} turns; {REPEATS} requests per page"
        )
        results = [(name, *measure(client, url)) for name, client, url in pages]
        print(f"{'page':<24} {'median ms':>10} {'worst ms':>10} {'queries':>8}")
        for name, median, worst, queries in results:
            print(f"{name:<24} {median:>10.1f} {worst:>10.1f} {queries:>8}")
        # The lines bench/run_all.py reads into docs/performance.md.
        for name, median, _worst, queries in results:
            print(f"{name} median: {median:.1f} ms (target <= {TARGET_MS} ms)")
            print(f"{name} queries: {queries} (target <= {TARGET_QUERIES})")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
