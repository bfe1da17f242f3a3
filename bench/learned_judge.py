"""The learned judge alone on a labelled JSONL file (read only: nothing is trained on it).

Runs the learned judge's model (the shipped seed model, or a model file given with --model) over
every reply of the file and prints, per label and per source: precision and recall at the judge's
threshold with Wilson 95% intervals, the counts, the Brier score of the probabilities, and the
replies per second; then the model's own cross-validated figures (stored in the model file). The
file is one JSON object a line with `id`, `request`, `reply`, `source` and `expect` (the three
labels; null = not scored), like the judging dev file.

    .venv/bin/python bench/learned_judge.py                                   # the shared judging-dev/cases.jsonl
    .venv/bin/python bench/learned_judge.py --file other.jsonl --model my_model.json.gz --threshold 0.6

It imports no Django: the model is plain data (judging/judges/learned/model.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The shared folder beside the checkout (CI puts a copy there), or beside a folder of worktrees.
DEV_CANDIDATES = tuple(base / "shared" / "judging-dev" / "cases.jsonl" for base in (ROOT.parent, ROOT.parent.parent))
DEV_FILE = next((path for path in DEV_CANDIDATES if path.is_file()), DEV_CANDIDATES[0])
LEARNED = ROOT / "judging" / "judges" / "learned"


def _module_from_file(name: str, path: Path):
    # One module alone, without the judging package (which needs Django set up): both modules it loads
    # import only the standard library and numpy at their top.
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _model_module():
    return _module_from_file("learned_model", LEARNED / "model.py")


# The Wilson interval of the judges' measurement (judging/judges/accuracy.py), not a copy of it.
wilson = _module_from_file("judge_accuracy_figures", ROOT / "judging" / "judges" / "accuracy.py").wilson_interval


def figure(successes: int, trials: int) -> str:
    interval = wilson(successes, trials)
    if interval is None:
        return "  n/a              "
    return f"{successes / trials:.2f} [{interval[0]:.2f}, {interval[1]:.2f}] ({successes}/{trials})"


def label_report(label: str, cases: list[dict], predictions: list[dict], args: argparse.Namespace) -> None:
    """One label's figures: as a classifier at --threshold (overall and per source) and as the judge votes."""
    groups: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    missed: list[str] = []
    for case, probabilities in zip(cases, predictions, strict=True):
        expected = case["expect"].get(label)
        probability = probabilities[label]
        if expected is None or probability is None:
            continue
        predicted = probability >= args.threshold
        for group in ("all", case.get("source", "?")):
            counts = groups[group]
            counts["tp" if predicted and expected else "fp" if predicted else "fn" if expected else "tn"] += 1
            counts["brier"] += (probability - expected) ** 2
            counts["n"] += 1
        if predicted != expected:
            missed.append(f"{case['id']} (p={probability:.2f})")
    print(f"{label}:")
    for group in ["all", *sorted(name for name in groups if name != "all")]:
        counts = groups[group]
        tp, fp, fn = int(counts["tp"]), int(counts["fp"]), int(counts["fn"])
        print(
            f"  {group:22} precision {figure(tp, tp + fp):28} recall {figure(tp, tp + fn):28} "
            f"Brier {counts['brier'] / counts['n']:.3f}  n {int(counts['n'])}"
        )
    votes = defaultdict(int)
    for case, probabilities in zip(cases, predictions, strict=True):
        expected, probability = case["expect"].get(label), probabilities[label]
        if expected is None or probability is None:
            continue
        vote = True if probability >= args.true_from else False if probability < args.false_below else None
        if vote is None:
            votes["none"] += 1
            votes["none_true"] += int(bool(expected))  # a true label left undecided is not found
        else:
            votes["tp" if vote and expected else "fp" if vote else "fn" if expected else "tn"] += 1
    tp, fp, fn = votes["tp"], votes["fp"], votes["fn"]
    print(
        f"  judge's vote (True from {args.true_from:g}, False below {args.false_below:g}): precision "
        f"{figure(tp, tp + fp)}  recall {figure(tp, tp + fn + votes['none_true'])}  no vote {votes['none']}"
    )
    if args.misses:
        print("  misses: " + ", ".join(missed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEV_FILE)
    parser.add_argument("--model", type=Path, default=LEARNED / "seed_model.json.gz")
    parser.add_argument("--threshold", type=float, default=0.5, help="P/R of the model as a classifier at this")
    parser.add_argument("--true-from", type=float, default=0.75, help="the judge's vote: True from here")
    parser.add_argument("--false-below", type=float, default=0.25, help="the judge's vote: False below here")
    parser.add_argument("--misses", action="store_true", help="list the ids of each label's misses")
    args = parser.parse_args()
    model_module = _model_module()
    model = model_module.model_load(args.model.read_bytes())
    cases = [json.loads(line) for line in args.file.read_text().splitlines() if line.strip()]
    records = [
        model_module.Record(id=case["id"], request=case.get("request", ""), reply=case["reply"], labels={})
        for case in cases
    ]
    model.predict(records[:1])  # build the vectorizers once, outside the timing
    started = time.perf_counter()
    predictions = model.predict(records)
    seconds = time.perf_counter() - started
    print(f"{len(cases)} replies from {args.file}, model {model_module.model_digest(args.model.read_bytes())[:12]}")
    print(f"{len(cases) / seconds:.0f} replies/s (one batch, this machine)\n")
    for label in model_module.LABELS:
        label_report(label, cases, predictions, args)
    cross = (model.figures or {}).get("cross_validation") or {}
    if cross:
        print(
            f"\nthe model's own cross-validated figures ({model.figures.get('folds')} fixed folds, its training data):"
        )
        for label, row in cross.items():
            tp, fp, fn = row["tp"], row["fp"], row["fn"]
            print(
                f"  {label:22} precision {figure(tp, tp + fp):28} recall {figure(tp, tp + fn):28} Brier {row['brier']}"
            )


if __name__ == "__main__":
    main()
