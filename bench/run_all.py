"""Run every benchmark in bench/ through its own command line and write docs/performance.md.

    .venv/bin/python bench/run_all.py            # the benchmarks' own default sizes
    .venv/bin/python bench/run_all.py --small    # small sizes: minutes, for a quick look
    .venv/bin/python bench/run_all.py --only judging --only round_makespan

Each benchmark is a script in bench/ listed in BENCHMARKS below, with the arguments of its small
size. A listed script that is not there (yet) is skipped with a printed note. A benchmark's figures
are read from what it prints: every line of the form ``name: value (target ...)`` is a figure with
its target, and a benchmark may name further lines (``name: value``) to report without a target.
The table in docs/performance.md says what ran, at which size, each figure and its target, on which
machine and when; a benchmark that failed is listed with its exit status and last line of output.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUTPUT = ROOT / "docs" / "performance.md"
# "throughput:   554.2 replies/s (target >= 50)" and "ratio:  1.080  (target <= 1.25)".
TARGET_LINE = re.compile(r"^\s*(?P<name>[^:\n]{1,60}):\s+(?P<value>.+?)\s+\(target (?P<target>[^)]+)\)\s*$")


@dataclass(frozen=True)
class Benchmark:
    """One script in bench/: what it measures, and the arguments and size of each run."""

    script: str
    what: str
    size: str
    small_size: str
    small_args: tuple[str, ...] = ()
    # Names of lines without a target that are figures as well ("makespan" for "makespan: 53.9 s").
    extra_figures: tuple[str, ...] = ()
    timeout_seconds: float = 3600


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        script="round_makespan.py",
        what="round makespan and platform CPU per turn (real qcluster, example bots at 200 ms)",
        size="5 x 5 bots, 40 conversations per pair, 5 exchanges, SQLite",
        small_size="2 x 2 bots, 4 conversations per pair, 3 exchanges, SQLite",
        small_args=("--attackers", "2", "--defenders", "2", "--conversations", "4", "--turns", "3"),
        extra_figures=("makespan", "lower bound", "turns stored"),
    ),
    Benchmark(
        script="judging.py",
        what="judging throughput (static and rules judges, real qcluster)",
        size="10,000 defender replies, 2 workers, SQLite",
        small_size="500 defender replies, 2 workers, SQLite",
        small_args=("--replies", "500"),
        extra_figures=("wall time", "verdicts"),
    ),
    Benchmark(
        script="judge_accuracy.py",
        what="judge accuracy on the judging dev file (public replies) and bench/judge_cases/",
        size="every case",
        small_size="every case",
    ),
    Benchmark(
        script="learned_judge.py",
        what="the learned judge alone on the judging dev file (its seed model; precision, recall, Brier score)",
        size="every case",
        small_size="every case",
    ),
    Benchmark(
        script="scoring.py",
        what="scores, standings and ratings of a large round",
        size="the script's default",
        small_size="the script's default",
    ),
    Benchmark(
        script="pages.py",
        what="server time and queries of the leaderboards, the team dashboard, the conversation list and a transcript",
        size="20,000 conversations / 200,000 turns, SQLite",
        small_size="2,000 conversations / 20,000 turns, SQLite",
        small_args=("--conversations", "2000"),
    ),
    Benchmark(
        script="export.py",
        what="dataset export of a large round",
        size="the script's default",
        small_size="the script's default",
    ),
)


@dataclass
class Figure:
    name: str
    value: str
    target: str = ""


@dataclass
class Outcome:
    benchmark: Benchmark
    size: str
    seconds: float
    returncode: int | None
    figures: list[Figure] = field(default_factory=list)
    note: str = ""


def figures_read(output: str, extra: tuple[str, ...] = ()) -> list[Figure]:
    """The figures in a benchmark's printed output: lines with a target, and the named extra lines."""
    figures = []
    for line in output.splitlines():
        match = TARGET_LINE.match(line)
        if match:
            figures.append(Figure(match["name"].strip(), match["value"].strip(), match["target"].strip()))
            continue
        name, colon, value = line.partition(":")
        if colon and name.strip() in extra and value.strip():
            figures.append(Figure(name.strip(), value.strip()))
    return figures


def benchmark_run(benchmark: Benchmark, *, small: bool, bench_dir: Path = BENCH) -> Outcome:
    """Run one benchmark's script (its output passes through to this terminal as well)."""
    size = benchmark.small_size if small else benchmark.size
    script = bench_dir / benchmark.script
    if not script.exists():
        print(f"note: {script.relative_to(bench_dir.parent)} is not there; skipped", flush=True)
        return Outcome(benchmark, size, 0.0, None, note="not run: the script is not in this checkout")
    command = [sys.executable, str(script), *(benchmark.small_args if small else ())]
    print(f"== {benchmark.script} ({size}): {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    lines: list[str] = []
    try:
        with subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        ) as process:
            assert process.stdout is not None
            deadline = started + benchmark.timeout_seconds
            for line in process.stdout:
                print(line, end="", flush=True)
                lines.append(line)
                if time.monotonic() > deadline:
                    process.kill()
            returncode = process.wait()
    except OSError as exc:
        return Outcome(benchmark, size, time.monotonic() - started, None, note=f"could not start: {exc}")
    seconds = time.monotonic() - started
    output = "".join(lines)
    outcome = Outcome(benchmark, size, seconds, returncode, figures_read(output, benchmark.extra_figures))
    if returncode != 0:
        last = next((line.strip() for line in reversed(lines) if line.strip()), "no output")
        outcome.note = f"failed (exit {returncode}): {last[:200]}"
    elif not outcome.figures:
        outcome.note = "ran, but printed no figure in the `name: value (target ...)` form"
    return outcome


def machine_describe() -> str:
    """CPU model and count, memory, OS and Python: what the figures were measured on."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} x {model}{memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average {load:.1f} when the runs began"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def report_write(
    outcomes: list[Outcome], *, small: bool, path: Path = OUTPUT, command: str = "", machine: str = ""
) -> str:
    """docs/performance.md: one table row per figure (or per benchmark that gave none)."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = machine or machine_describe()
    rows = []
    for outcome in outcomes:
        what = f"{outcome.benchmark.what} (`bench/{outcome.benchmark.script}`)"
        if outcome.figures:
            for figure in outcome.figures:
                rows.append((what, outcome.size, figure.name, figure.value, figure.target or "-"))
        else:
            rows.append((what, outcome.size, "-", outcome.note or "-", "-"))
    lines = [
        "# Performance",
        "",
        "Written by `bench/run_all.py`; run it again to refresh this page (figures vary by a few percent",
        "between runs, and by much more when other work shares the machine). What each benchmark does and",
        "the figures measured on an idle machine are in bench/README.md.",
        "",
        f"- command: `{command or 'bench/run_all.py' + (' --small' if small else '')}`",
        "- sizes: " + ("small (`--small`)" if small else "each benchmark's own defaults"),
        f"- machine: {machine}",
        f"- date: {when}",
        "",
        *(
            [
                "Targets are for the default sizes. At small sizes fixed costs (starting a cluster, polling,",
                "migrating a fresh database) dominate, so a small run shows that every benchmark works, not",
                "whether a target is met.",
                "",
            ]
            if small
            else []
        ),
        "| what | size | figure | value | target |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {' | '.join(_cell(cell) for cell in row)} |" for row in rows),
        "",
    ]
    notes = [f"- `bench/{o.benchmark.script}`: {o.note}" for o in outcomes if o.note and o.figures]
    if notes:
        lines += ["Notes:", "", *notes, ""]
    text = "\n".join(lines)
    path.write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="small sizes (minutes instead of the full runs)")
    parser.add_argument("--only", action="append", default=[], help="a benchmark's script name, with or without .py")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the table")
    args = parser.parse_args()
    wanted = {name.removesuffix(".py") for name in args.only}
    unknown = wanted - {b.script.removesuffix(".py") for b in BENCHMARKS}
    if unknown:
        parser.error(f"no benchmark named {', '.join(sorted(unknown))}")
    chosen = [b for b in BENCHMARKS if not wanted or b.script.removesuffix(".py") in wanted]
    machine = machine_describe()
    outcomes = [benchmark_run(benchmark, small=args.small) for benchmark in chosen]
    command = "bench/run_all.py " + " ".join(sys.argv[1:])
    report_write(outcomes, small=args.small, path=args.output, command=command.strip(), machine=machine)
    print(f"wrote {args.output}")
    failed = [o for o in outcomes if o.returncode not in (0, None)]
    if failed:
        raise SystemExit(f"{len(failed)} benchmark(s) failed: " + ", ".join(o.benchmark.script for o in failed))


if __name__ == "__main__":
    main()
