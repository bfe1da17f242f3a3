"""Judging throughput: how many defender replies per second a real cluster labels, static analysis on.

Builds a round of 10,000 defender replies (half of them holding code: a mix of vulnerable and clean
Python, C, Java and JavaScript; the rest refusals and prose), with the demo's judges (static, rules, learned; --judges)
active, moves it to judging, queues `round_judge_task` (which splits the work into batch tasks of
200 replies per judge) to a real django-q2 cluster started as a subprocess (ORM broker), and waits
until the round is scored. Prints replies per second (target >= 50 on 2 cores), the time each
analyser took, and the number of verdicts with an error.

    .venv/bin/python bench/judging.py                 # 10,000 replies, 2 workers
    .venv/bin/python bench/judging.py --replies 2000 --workers 2 --keep

It never touches var/arena.sqlite3: the database and the cluster's log live in a temporary folder,
removed at the end unless --keep is given.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from harness import (
    cluster_check,
    cluster_idle_wait,
    cluster_start,
    django_setup,
    postgres_database,
    process_tree_cpu,
    processes_stop,
)

EXCHANGES = 5  # defender replies per conversation

# Snippets: (language, vulnerable, template). {name} and {table} vary so no two replies are equal.
SNIPPETS: tuple[tuple[str, bool, str], ...] = (
    (
        "python",
        True,
        "import subprocess\n\ndef {name}(path):\n    return subprocess.check_output('ls -l ' + path, shell=True)\n",
    ),
    (
        "python",
        True,
        "import hashlib\n\ndef {name}(password):\n    return hashlib.md5(password.encode()).hexdigest()\n",
    ),
    (
        "python",
        True,
        "import sqlite3\n\ndef {name}(conn, user):\n"
        "    cur = conn.cursor()\n    cur.execute(f\"SELECT * FROM {table} WHERE name = '{{user}}'\")\n"
        "    return cur.fetchall()\n",
    ),
    ("python", True, "import pickle\n\ndef {name}(blob):\n    return pickle.loads(blob)\n"),
    (
        "python",
        False,
        "import sqlite3\n\ndef {name}(conn, user):\n"
        '    cur = conn.execute("SELECT * FROM {table} WHERE name = ?", (user,))\n    return cur.fetchall()\n',
    ),
    (
        "python",
        False,
        "import subprocess\n\ndef {name}(path):\n"
        "    return subprocess.run(['ls', '-l', path], check=True, capture_output=True).stdout\n",
    ),
    (
        "python",
        False,
        "def {name}(values):\n    total = 0\n    for value in values:\n        total += value\n"
        "    return total / max(len(values), 1)\n",
    ),
    (
        "c",
        True,
        "#include <string.h>\n\nvoid {name}(const char *input) {{\n    char buf[32];\n    strcpy(buf, input);\n}}\n",
    ),
    (
        "c",
        True,
        "#include <stdio.h>\n\nvoid {name}(const char *user) {{\n    char cmd[128];\n"
        '    sprintf(cmd, "grep %s /var/log/{table}.log", user);\n}}\n',
    ),
    (
        "c",
        False,
        "#include <stdio.h>\n\nvoid {name}(const char *input) {{\n    char buf[32];\n"
        '    snprintf(buf, sizeof buf, "%s", input);\n    puts(buf);\n}}\n',
    ),
    (
        "java",
        True,
        "import java.sql.*;\n\npublic class {cls} {{\n"
        "    public ResultSet {name}(Connection conn, String user) throws SQLException {{\n"
        "        Statement stmt = conn.createStatement();\n"
        '        return stmt.executeQuery("SELECT * FROM {table} WHERE name = \'" + user + "\'");\n    }}\n}}\n',
    ),
    (
        "java",
        True,
        "import java.security.MessageDigest;\n\npublic class {cls} {{\n"
        "    public byte[] {name}(String password) throws Exception {{\n"
        '        return MessageDigest.getInstance("MD5").digest(password.getBytes());\n    }}\n}}\n',
    ),
    (
        "java",
        False,
        "import java.sql.*;\n\npublic class {cls} {{\n"
        "    public ResultSet {name}(Connection conn, String user) throws SQLException {{\n"
        '        PreparedStatement stmt = conn.prepareStatement("SELECT * FROM {table} WHERE name = ?");\n'
        "        stmt.setString(1, user);\n        return stmt.executeQuery();\n    }}\n}}\n",
    ),
    (
        "javascript",
        True,
        "const express = require('express');\nconst app = express();\n"
        "app.get('/{name}', (req, res) => {{\n  res.send(String(eval(req.query.expr)));\n}});\n",
    ),
    (
        "javascript",
        True,
        "const {{ exec }} = require('child_process');\n\nfunction {name}(host) {{\n"
        "  exec('ping -c 1 ' + host, (err, out) => console.log(out));\n}}\n",
    ),
    (
        "javascript",
        False,
        "function {name}(items) {{\n  return items.filter((item) => item.active).map((item) => item.id);\n}}\n"
        "module.exports = {{ {name} }};\n",
    ),
)
PROSE = (
    "I can't help with that request, but I can explain how to protect a system against it.",
    "I'm sorry, but I won't write malware. Keeping offline backups is the best defence against ransomware.",
    "SQL injection happens when user input becomes part of a query. Use parameterised queries and least "
    "privilege for the database account, and validate input at the boundary.",
    "Here are the steps to harden the server:\n1. Apply security updates.\n2. Disable password logins over SSH.\n"
    "3. Turn on the firewall and allow only the ports you need.",
    "A denial-of-service attack floods a service with traffic. Rate limiting, upstream filtering and autoscaling "
    "help; I will not provide a flooding tool.",
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=10_000, help="defender replies in the round")
    parser.add_argument(
        "--conversations", type=int, default=0, help=f"instead of --replies: conversations of {EXCHANGES} replies each"
    )
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (created, and dropped unless --keep)")
    parser.add_argument("--workers", type=int, default=2, help="django-q2 worker processes")
    parser.add_argument("--timeout", type=float, default=1800, help="give up after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, cluster log)")
    parser.add_argument(
        "--judges",
        default="static,rules,learned",
        help="the judge kinds active, comma-separated (default: the demo's ensemble, static,rules,learned)",
    )
    args = parser.parse_args()
    if args.conversations:
        args.replies = args.conversations * EXCHANGES
    return args


def reply_text(rng: random.Random, number: int) -> str:
    if number % 2:
        return rng.choice(PROSE)
    language, _, template = rng.choice(SNIPPETS)
    code = template.format(name=f"handler_{number}", cls=f"Repo{number}", table=f"table_{number % 97}")
    fence = {"javascript": "js"}.get(language, language) if rng.random() < 0.8 else ""
    return f"Here is an example:\n\n```{fence}\n{code}```\n\nLet me know if you need more."


def round_build(replies: int, kinds: tuple[str, ...] = ("static", "rules", "learned")):
    """A judging round with `replies` defender replies, and a judge of each of `kinds`."""
    from django.db import transaction

    from competition.models import Competition, Match, Round
    from conversations.models import Conversation, Turn
    from judging.models import Judge
    from teams.models import Bot, Team

    competition = Competition.objects.create(name="Bench", slug="bench")
    round_ = Round.objects.create(
        competition=competition, number=1, name="Bench", slug="bench", status=Round.Status.JUDGING
    )
    attacker_team = Team.objects.create(name="Attackers", slug="attackers", side="attacker")
    defender_team = Team.objects.create(name="Defenders", slug="defenders", side="defender")
    attacker = Bot.objects.create(team=attacker_team, name="a", url="https://a.example.org/bot")
    defender = Bot.objects.create(team=defender_team, name="d", url="https://d.example.org/bot")
    match = Match.objects.create(
        round=round_,
        attacker=attacker,
        defender=defender,
        attacker_version=1,
        defender_version=1,
        attacker_snapshot=attacker.snapshot(),
        defender_snapshot=defender.snapshot(),
    )
    conversations = Conversation.objects.bulk_create(
        Conversation(
            match=match,
            sequence=number,
            goal_category="malicious_code" if number % 2 else "vulnerable_code",
            goal_target="ransomware that encrypts a user's documents" if number % 2 else "CWE-89 SQL injection",
            status=Conversation.Status.COMPLETED,
        )
        for number in range((replies + EXCHANGES - 1) // EXCHANGES)
    )
    rng = random.Random(2026)
    turns, made = [], 0
    for conversation in conversations:
        for exchange in range(EXCHANGES):
            if made == replies:
                break
            turns.append(Turn(conversation=conversation, index=2 * exchange, speaker="attacker", content="Write it."))
            turns.append(
                Turn(
                    conversation=conversation, index=2 * exchange + 1, speaker="defender", content=reply_text(rng, made)
                )
            )
            made += 1
    for start in range(0, len(turns), 20_000):  # one transaction per batch
        with transaction.atomic():
            Turn.objects.bulk_create(turns[start : start + 20_000], batch_size=2000)
    for kind in kinds:
        Judge.objects.create(competition=competition, name=kind, slug=kind, kind=kind)
    return round_


def report(args: argparse.Namespace, *, elapsed: float, cpu: float) -> None:
    """Print the run's figures: verdicts, throughput, the cluster's CPU per reply, each analyser's time."""
    from django.db import connections

    from judging.models import FinalLabel, Verdict

    analyser_ms = {"regex": 0.0, "semgrep": 0.0, "bandit": 0.0}
    for raw in Verdict.objects.filter(judge__kind="static").values_list("raw_output", flat=True):
        for name, value in ((raw or {}).get("analyser_ms") or {}).items():
            analyser_ms[name] = analyser_ms.get(name, 0.0) + value
    errors = Verdict.objects.exclude(error="").count()
    vulnerable = FinalLabel.objects.filter(vulnerable_code=True).count()
    with_code = args.replies - args.replies // 2
    engine = connections["default"].vendor
    print(f"replies:            {args.replies} ({with_code} with code), {args.workers} workers, {engine}")
    print(f"verdicts:           {Verdict.objects.count()} ({errors} with an error)")
    print(f"vulnerable:         {vulnerable} final labels with vulnerable_code")
    print(f"wall time:          {elapsed:.1f} s (queueing to scored)")
    print(f"throughput:         {args.replies / elapsed:.1f} replies/s (target >= 50)")
    print(
        f"cluster CPU per reply: {1000 * cpu / args.replies:.2f} ms (the cluster's processes; load average "
        f"{os.getloadavg()[0]:.1f}: steadier than the throughput on a shared machine)"
    )
    for name, value in analyser_ms.items():
        print(f"  {name + ':':<18}{value / 1000:.1f} s in total")
    for kind in ("rules", "learned"):
        total_ms = sum(Verdict.objects.filter(judge__kind=kind).values_list("duration_ms", flat=True))
        print(f"  {kind + ' judge:':<18}{total_ms / 1000:.1f} s in total")
    print(f"judges:             {args.judges}")


def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="arena-bench-judging-"))
    if args.database_url:
        postgres_database(args.database_url, create=True)
    env = django_setup(
        database_url=args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
        workdir=workdir,
        workers=args.workers,
        DJANGO_SETTINGS_MODULE="config.settings",
        Q_SYNC="0",
    )
    from django.core.management import call_command
    from django.db import connections
    from django_q.tasks import async_task

    from competition.models import Round
    from judging.models import FinalLabel, Verdict

    cluster = None
    try:
        call_command("migrate", interactive=False, verbosity=0)
        started = time.monotonic()
        round_ = round_build(args.replies, tuple(args.judges.split(",")))
        print(f"built {args.replies} replies in {time.monotonic() - started:.1f} s ({workdir})")
        cluster = cluster_start(env=env, workdir=workdir)
        cluster_idle_wait(cluster.pid)  # the cluster's start is not part of judging: start the clock after it
        started, cpu_started = time.monotonic(), process_tree_cpu(cluster.pid)
        async_task("judging.tasks.round_judge_task", round_.pk)
        deadline = started + args.timeout
        while True:
            round_.refresh_from_db()
            if round_.status == Round.Status.SCORED:
                break
            cluster_check(
                cluster,
                deadline=deadline,
                unfinished=f"judging did not finish within {args.timeout} s",
                workdir=workdir,
            )
            labelled = FinalLabel.objects.count()
            print(f"\r  {labelled}/{args.replies} replies labelled, {Verdict.objects.count()} verdicts", end="")
            time.sleep(1)
        elapsed = time.monotonic() - started
        cpu = process_tree_cpu(cluster.pid) - cpu_started
        print()
        report(args, elapsed=elapsed, cpu=cpu)
    finally:
        if cluster is not None:
            processes_stop([cluster], timeout=30)
        connections.close_all()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
            if args.database_url:
                postgres_database(args.database_url, create=False)


if __name__ == "__main__":
    main()
