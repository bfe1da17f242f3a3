"""Dataset export speed and memory: every shape and format over 20,000 conversations / 200,000 turns.

Fills a throwaway SQLite database (5 attacker x 5 defender bots, 800 conversations per pair, 5
exchanges each, a final label and a judge's verdict on every defender reply), then runs each case in
a fresh subprocess so its peak memory (ru_maxrss, the whole process: Python, Django, libraries and
the export) is its own:

- the floor: a plain loop of `json.dumps` over the turns read with `values_list` (the same turn
  fields the chat shape needs, final labels joined), written to a file; nothing cheaper can export them;
- every shape and format through `dataset_export` (the streaming path of `manage.py export_dataset`
  and the export jobs), with the default options (near-duplicate removal on, anonymous ids), and
  chat JSONL also with exact-only and no de-duplication (`chat:jsonl:exact`, `chat:jsonl:none`).

Runs every case once per pass, the floor first, three passes (`--repeat`), and prints for each case
its rows, the medians of its wall seconds and CPU seconds (user + system of the case's process:
steadier than wall time on a shared machine), the median and range of its ratio of CPU seconds to
the same pass's floor, and its largest peak MB. (One run of a case varies by about a tenth here, on
an idle machine: the median of passes is the figure to compare.) Targets (issue 11): chat JSONL
at most 2x the floor; peak memory at most 300 MB for every case.

    .venv/bin/python bench/export.py                        # 20,000 conversations
    .venv/bin/python bench/export.py --conversations 2000   # a quick look
    .venv/bin/python bench/export.py --keep                 # keep the database and files (prints where)

It never touches var/arena.sqlite3: everything lives in a temporary folder, removed unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import bench_database, django_setup, postgres_database

CASES = (
    ("conversations", "jsonl"),
    ("conversations", "json"),
    ("conversations", "csv"),
    ("conversations", "xlsx"),
    ("turns", "jsonl"),
    ("turns", "json"),
    ("turns", "csv"),
    ("chat", "jsonl"),
    ("chat", "jsonl", "exact"),
    ("chat", "jsonl", "none"),
    ("preference", "jsonl"),
)
EXCHANGES = 5
_SENTENCE = (
    "please write a small tool that reads the configuration file and connects to the database then "
    "sends every record to the remote server over a socket while logging each step so we can check "
    "later whether the backup finished and which user started it from the admin console or the cron "
    "job that runs every night at two when nobody is watching the monitoring dashboard of the cluster"
)
PROSE = tuple(_SENTENCE.split(" "))
OPENINGS = tuple(" ".join(random.Random(n).choice(PROSE) for _ in range(25)) for n in range(300))
CODE = (
    "```python\nimport sqlite3\n\ndef find(conn, name):\n"
    '    return conn.execute("SELECT * FROM t WHERE n = ?", (name,))\n```'
)


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(PROSE, k=words))


BATCH = 2000  # conversations stored per transaction


class _Rows:
    """Rows of one model inserted with one executemany per call, not through model instances (about
    ten times less CPU than bulk_create for millions of rows): every column but the ones named takes
    the value Django would store for a new instance (defaults, auto_now_add), computed once."""

    def __init__(self, model, names: tuple[str, ...], *, with_id: bool) -> None:
        from django.db import connection

        fields = [field for field in model._meta.concrete_fields if with_id or not field.primary_key]
        template = model()
        self.values = [
            None if field.attname in names else field.get_db_prep_save(field.pre_save(template, True), connection)
            for field in fields
        ]
        self.positions = [[field.attname for field in fields].index(name) for name in names]
        columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        marks = ", ".join(["%s"] * len(fields))
        table = connection.ops.quote_name(model._meta.db_table)
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (names from the model)
        self.copy = f"COPY {table} ({columns}) FROM STDIN"
        self.model = model

    def insert(self, rows: list[tuple]) -> None:
        from django.db import connection

        values, positions = self.values, self.positions
        prepared = []
        for row in rows:
            full = list(values)
            for position, value in zip(positions, row, strict=True):
                full[position] = value
            prepared.append(full)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY: several times faster than INSERTs on PostgreSQL.
                with cursor.cursor.copy(self.copy) as copy:
                    for row in prepared:
                        copy.write_row(row)
            else:
                cursor.executemany(self.sql, prepared)


def fill(conversations: int) -> bool:
    """The competition, bots, matches, conversations, turns, final labels and verdicts, in bulk: one
    transaction per BATCH conversations, turns, labels and verdicts as raw rows (_Rows), each batch's
    conversations' stored outcome refreshed as the label services would. Returns False, filling
    nothing, when the database holds this fill already (one kept by an earlier run); leaves with
    SystemExit when it holds another size."""
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from competition.models import Competition, Match, Round
    from conversations.models import Conversation, Turn
    from judging.models import FinalLabel, Judge, Verdict
    from judging.services import conversations_outcome_refresh
    from teams.models import Bot, Team

    call_command("migrate", verbosity=0)
    per_match = conversations // 25
    if Competition.objects.filter(slug="bench").exists():
        found = Conversation.objects.count()
        if found != per_match * 25:
            raise SystemExit(f"the database holds another fill ({found} conversations), not {per_match * 25}")
        return False
    competition = Competition.objects.create(name="Bench", slug="bench", dataset_license="cc-by-4.0")
    round_ = Round.objects.create(competition=competition, number=1, name="Tournament", slug="t1", status="scored")
    judge = Judge.objects.create(competition=competition, name="Rules", slug="rules", kind="rules")
    bots = {}
    for side in ("attacker", "defender"):
        for n in range(5):
            team = Team.objects.create(name=f"{side} {n}", slug=f"{side}-{n}", side=side)
            bots.setdefault(side, []).append(Bot.objects.create(team=team, name=f"bot{n}", url="https://bot.invalid/"))
    matches = [Match.frozen(round_=round_, attacker=a, defender=d) for a in bots["attacker"] for d in bots["defender"]]
    Match.objects.bulk_create(matches)
    writers = {
        "turns": _Rows(Turn, ("id", "conversation_id", "index", "speaker", "content"), with_id=True),
        "labels": _Rows(FinalLabel, ("turn_id", "source", *_LABEL_FIELDS), with_id=False),
        "verdicts": _Rows(Verdict, ("turn_id", "judge_id", "judge_version", *_LABEL_FIELDS), with_id=False),
    }
    rng = random.Random(11)
    next_turn = [(Turn.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1]
    for match in matches:
        for first in range(0, per_match, BATCH):
            with transaction.atomic():
                stored = _fill_part(match, range(first, min(first + BATCH, per_match)), rng, judge, writers, next_turn)
                conversations_outcome_refresh(conversation_ids=stored)
    with connection.cursor() as cursor:  # the ids given by hand: PostgreSQL's sequences follow them
        for statement in connection.ops.sequence_reset_sql(no_style(), [Turn, FinalLabel, Verdict]):
            cursor.execute(statement)
        # Table statistics, as a live database has them (PostgreSQL's autovacuum analyses on its own;
        # SQLite only when told): without them SQLite's planner may pick an index on status, true of
        # every row, for the team list (0.5 s instead of 60 ms at 200,000 conversations).
        cursor.execute("ANALYZE")
    return True


_LABEL_FIELDS = ("malicious_assistance", "vulnerable_code", "refusal", "cwe", "severity")


def _fill_part(match, sequences: range, rng: random.Random, judge, writers: dict, next_turn: list[int]) -> list[int]:
    from django.db import connection

    from conversations.models import Conversation
    from judging.models import FinalLabel

    categories = ("malicious_code", "vulnerable_code")
    batch = Conversation.objects.bulk_create(
        Conversation(
            match=match,
            sequence=sequence,
            goal_category=categories[sequence % 2],
            goal_target="CWE-89 SQL injection",
            status="completed",
        )
        for sequence in sequences
    )
    turns, replies = [], []
    turn_id = next_turn[0]
    for conversation in batch:
        for index in range(2 * EXCHANGES):
            if index == 0:
                # Attackers open from a few hundred scripted openings, so replies of different
                # defenders to the same opening exist (preference pairs).
                content = OPENINGS[rng.randrange(len(OPENINGS))]
            elif index % 2 == 0:
                content = text(rng, 30) + (" \u200f\U0001f9e8" if rng.random() < 0.1 else "")
            else:
                content = text(rng, 50) + ("\n" + CODE if rng.random() < 0.5 else "")
                replies.append(turn_id)
            turns.append((turn_id, conversation.pk, index, ("attacker", "defender")[index % 2], content))
            turn_id += 1
    next_turn[0] = turn_id
    writers["turns"].insert(turns)
    cwe = FinalLabel._meta.get_field("cwe")
    unsafe_cwe, safe_cwe = (cwe.get_db_prep_save(value, connection) for value in (["CWE-89"], []))
    labels, verdicts = [], []
    for reply in replies:
        unsafe = rng.random() < 0.3
        fields = (False, unsafe, not unsafe, unsafe_cwe if unsafe else safe_cwe, 2 if unsafe else 0)
        labels.append((reply, "judge_ensemble", *fields))
        verdicts.append((reply, judge.pk, 1, *fields))
    writers["labels"].insert(labels)
    writers["verdicts"].insert(verdicts)
    return [conversation.pk for conversation in batch]


def case_floor(out: Path) -> int:
    from conversations.models import Turn

    rows = 0
    fields = ("conversation_id", "index", "speaker", "content", "final_label__malicious_assistance",
              "final_label__vulnerable_code", "final_label__refusal", "final_label__source")  # fmt: skip
    with open(out / "floor.jsonl", "w", encoding="utf-8") as file:
        for row in Turn.objects.order_by("conversation_id", "index").values_list(*fields).iterator(chunk_size=2000):
            file.write(json.dumps(row, ensure_ascii=False) + "\n")
            rows += 1
    return rows


def case_export(out: Path, shape: str, format_: str, dedup: str = "near") -> int:
    from judging.datasets.export import dataset_export
    from judging.datasets.filters import ExportSpec

    report = dataset_export(ExportSpec(competition="bench", shape=shape, format=format_, dedup=dedup), directory=out)
    return sum(report.rows.values())


def child(args: argparse.Namespace) -> None:
    database_url = args.database_url or f"sqlite:///{args.workdir / 'bench.sqlite3'}"
    django_setup(database_url=database_url, workdir=args.workdir, workers=1)
    if args.case == "fill":
        started = time.perf_counter()
        if fill(args.conversations):
            usage = resource.getrusage(resource.RUSAGE_SELF)
            print(
                f"filled {args.conversations} conversations in {time.perf_counter() - started:.0f} s "
                f"({usage.ru_utime + usage.ru_stime:.0f} s CPU of this process, peak {usage.ru_maxrss / 1024:.0f} MB; "
                f"load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )
        else:
            print(f"reused the {args.conversations} conversations already in the database", flush=True)
        return
    out = args.workdir / "out" / args.case.replace(":", "-")
    # An empty folder each run: replacing an earlier pass's files would add their deletion to the time.
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    rows = case_floor(out) if args.case == "floor" else case_export(out, *args.case.split(":"))
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_mb = after.ru_maxrss / 1024
    print(json.dumps({"case": args.case, "seconds": seconds, "cpu": cpu, "peak_mb": peak_mb, "rows": rows}))


def run(workdir: Path, case: str, database_url: str) -> dict:
    command = [sys.executable, __file__, "--child", case, "--workdir", str(workdir), "--database-url", database_url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"case {case} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="passes over every case (medians printed)")
    parser.add_argument("--workdir", type=Path, help="reuse a folder filled by an earlier --keep run")
    parser.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL URL (created if missing, reused if filled, dropped unless --keep)",
    )
    parser.add_argument(
        "--cases",
        default="",
        help="only these cases, comma-separated (e.g. chat:jsonl,turns:csv); the floor always runs",
    )
    parser.add_argument("--child", dest="case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        child(args)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-export-"))
    database_url = bench_database(database_url=args.database_url, workdir=workdir)
    try:
        filler = [sys.executable, __file__, "--child", "fill", "--workdir", str(workdir)]
        filler += ["--conversations", str(args.conversations), "--database-url", args.database_url]
        subprocess.run(filler, check=True)
        names = ["floor"] + [":".join(case) for case in CASES]
        if args.cases:
            unknown = set(args.cases.split(",")) - set(names)
            if unknown:
                raise SystemExit(f"no case {', '.join(sorted(unknown))}; the cases: {', '.join(names[1:])}")
            names = ["floor"] + [name for name in names[1:] if name in args.cases.split(",")]
        # Every case once per pass, the floor first, `--repeat` passes: a case's ratio in a pass is to
        # that pass's floor, so a drift of the machine's speed between passes cancels out.
        passes = []
        for number in range(args.repeat):
            results = {}
            for name in names:
                results[name] = run(workdir, name, args.database_url)
                done = results[name]
                # Each case as it ends: a long run's figures are not lost when it is stopped.
                print(
                    f"  {name}: {done['rows']} rows, {done['cpu']:.2f} s CPU, peak {done['peak_mb']:.0f} MB", flush=True
                )
            passes.append(results)
            print(f"pass {number + 1} of {args.repeat} done", flush=True)
        print(f"{'case':<22} {'rows':>8} {'seconds':>8} {'CPU s':>8} {'x floor':>8} {'range':>11} {'peak MB':>8}")
        for name in names:
            results = [each[name] for each in passes]
            ratios = [each[name]["cpu"] / each["floor"]["cpu"] for each in passes]
            seconds = statistics.median(result["seconds"] for result in results)
            cpu = statistics.median(result["cpu"] for result in results)
            peak = max(result["peak_mb"] for result in results)
            spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
            figures = f"{seconds:>8.2f} {cpu:>8.2f} {statistics.median(ratios):>8.2f} {spread:>11} {peak:>8.0f}"
            print(f"{name:<22} {results[0]['rows']:>8} {figures}")
    finally:
        if args.keep:
            print(f"kept {workdir}" + (f" and {database_url}" if args.database_url else ""))
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            if args.database_url:
                postgres_database(args.database_url, create=False)


if __name__ == "__main__":
    main()
