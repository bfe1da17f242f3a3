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
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import django_setup

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
    return " ".join(rng.choice(PROSE) for _ in range(words))


def fill(conversations: int) -> None:
    """The competition, bots, matches, conversations, turns, final labels and verdicts, in bulk."""
    from django.core.management import call_command

    from competition.models import Competition, Match, Round
    from conversations.models import Conversation, Turn
    from judging.models import FinalLabel, Judge, Verdict
    from teams.models import Bot, Team

    call_command("migrate", verbosity=0)
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
    rng = random.Random(11)
    per_match = conversations // len(matches)
    categories = ("malicious_code", "vulnerable_code")
    for match in matches:
        for start in range(0, per_match, 400):
            batch = Conversation.objects.bulk_create(
                Conversation(
                    match=match,
                    sequence=sequence,
                    goal_category=categories[sequence % 2],
                    goal_target="CWE-89 SQL injection",
                    status="completed",
                )
                for sequence in range(start, min(start + 400, per_match))
            )
            turns = []
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
                    speaker = ("attacker", "defender")[index % 2]
                    turns.append(Turn(conversation=conversation, index=index, speaker=speaker, content=content))
            turns = Turn.objects.bulk_create(turns)
            replies = [turn for turn in turns if turn.speaker == "defender"]
            labels, verdicts = [], []
            for turn in replies:
                unsafe = rng.random() < 0.3
                fields = {"malicious_assistance": False, "vulnerable_code": unsafe, "refusal": not unsafe}
                fields |= {"cwe": ["CWE-89"] if unsafe else [], "severity": 2 if unsafe else 0}
                labels.append(FinalLabel(turn=turn, source="judge_ensemble", **fields))
                verdicts.append(Verdict(turn=turn, judge=judge, judge_version=1, **fields))
            FinalLabel.objects.bulk_create(labels)
            Verdict.objects.bulk_create(verdicts)


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
    django_setup(database_url=f"sqlite:///{args.workdir / 'bench.sqlite3'}", workdir=args.workdir, workers=1)
    if args.case == "fill":
        fill(args.conversations)
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


def run(workdir: Path, case: str) -> dict:
    command = [sys.executable, __file__, "--child", case, "--workdir", str(workdir)]
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
    parser.add_argument("--child", dest="case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        child(args)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        if not (workdir / "bench.sqlite3").exists():
            started = time.perf_counter()
            filler = [sys.executable, __file__, "--child", "fill", "--workdir", str(workdir)]
            subprocess.run([*filler, "--conversations", str(args.conversations)], check=True)
            print(f"filled {args.conversations} conversations in {time.perf_counter() - started:.0f} s")
        names = ["floor"] + [":".join(case) for case in CASES]
        # Every case once per pass, the floor first, `--repeat` passes: a case's ratio in a pass is to
        # that pass's floor, so a drift of the machine's speed between passes cancels out.
        passes = []
        for number in range(args.repeat):
            passes.append({name: run(workdir, name) for name in names})
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
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
