"""bench/run_all.py: runs benchmark scripts through their command lines, reads their figures, skips a
missing script with a note, and writes the performance table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_all():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "bench" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up in sys.modules.
    sys.modules["run_all"] = module
    spec.loader.exec_module(module)
    return module


FAKE = """
import sys
print("warming up")
print("widgets:      120 made")
print("throughput:   41.5 widgets/s (target >= 40)")
print("ratio:        1.10  (target <= 1.25)")
print("small" if "--small-size" in sys.argv else "full")
"""


def test_it_reads_figures_with_targets_and_named_lines_without():
    module = run_all()
    figures = module.figures_read(
        "noise\nthroughput:   41.5 widgets/s (target >= 40)\nwidgets:  120 made\nother: 3\n", ("widgets",)
    )
    assert [(f.name, f.value, f.target) for f in figures] == [
        ("throughput", "41.5 widgets/s", ">= 40"),
        ("widgets", "120 made", ""),
    ]


def test_it_runs_each_listed_script_skips_a_missing_one_and_writes_the_table(tmp_path, capsys):
    module = run_all()
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "fake.py").write_text(FAKE)
    present = module.Benchmark(
        script="fake.py", what="fake widgets", size="1,000", small_size="10", small_args=("--small-size",),
        extra_figures=("widgets",),
    )  # fmt: skip
    missing = module.Benchmark(script="later.py", what="not written yet", size="big", small_size="small")
    failing = module.Benchmark(script="broken.py", what="a broken one", size="any", small_size="any")
    (bench / "broken.py").write_text("raise SystemExit('no database')\n")

    outcomes = [module.benchmark_run(b, small=True, bench_dir=bench) for b in (present, missing, failing)]
    printed = capsys.readouterr().out
    assert "note: bench/later.py is not there; skipped" in printed
    assert "small" in printed
    assert [o.returncode for o in outcomes] == [0, None, 1]
    assert [(f.name, f.target) for f in outcomes[0].figures] == [
        ("widgets", ""),
        ("throughput", ">= 40"),
        ("ratio", "<= 1.25"),
    ]

    table = module.report_write(outcomes, small=True, path=tmp_path / "performance.md")
    assert (tmp_path / "performance.md").read_text() == table
    assert "| fake widgets (`bench/fake.py`) | 10 | throughput | 41.5 widgets/s | >= 40 |" in table
    assert (
        "| not written yet (`bench/later.py`) | small | - | not run: the script is not in this checkout | - |" in table
    )
    assert "failed (exit 1): no database" in table
    assert "- machine: " in table and "- date: " in table


def test_it_lists_every_benchmark_script_in_bench_in_its_registry():
    module = run_all()
    listed = {benchmark.script for benchmark in module.BENCHMARKS}
    scripts = {path.name for path in (ROOT / "bench").glob("*.py") if path.name not in {"harness.py", "run_all.py"}}
    assert scripts <= listed
