"""``manage.py judge_accuracy COMPETITION FILE [--json]``: measure a competition's judges on labelled replies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from competition.models import Competition
from judging.judges.accuracy import LABELS, LabelledFileError
from judging.services.judge_accuracy import JudgeAccuracyRefused, judge_accuracy_measure


def _number(value: float | None) -> str:
    return "  -  " if value is None else f"{value:5.2f}"


def _interval(interval: list[float] | None) -> str:
    return "" if interval is None else f" [{interval[0]:.2f}-{interval[1]:.2f}]"


def figure_lines(name: str, figures: dict[str, Any]) -> list[str]:
    """One line per label a judge decides: precision and recall with their Wilson intervals, counts."""
    lines = []
    for label in LABELS:
        s = figures["labels"][label]
        if not s["n"] or s["undecided"] == s["n"]:
            continue
        lines.append(
            f"{name:16} {label:21} precision {_number(s['precision'])}{_interval(s['precision_interval'])}"
            f"  recall {_number(s['recall'])}{_interval(s['recall_interval'])}"
            f"  n {s['n']} undecided {s['undecided']}"
        )
    return lines


class Command(BaseCommand):
    help = (
        "Run a labelled JSONL file (one object a line: id, request, reply, expect {vulnerable_code, "
        "malicious_assistance, refusal: true/false/null}, optional source, lang, cwe, goal) through the "
        "competition's active judges and the judge ensemble, print precision and recall per label with "
        "Wilson 95% intervals, and store each judge's figures for its admin page. COMPETITION is its slug."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("competition", help="the competition's slug")
        parser.add_argument("file", help="the labelled JSONL file")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print every figure as JSON")

    def handle(self, *args, competition: str, file: str, as_json: bool = False, **options) -> None:
        found = Competition.objects.filter(slug=competition).first()
        if found is None:
            raise CommandError(f"no competition with the slug {competition!r}")
        try:
            measured = judge_accuracy_measure(competition=found, path=Path(file))
        except (LabelledFileError, JudgeAccuracyRefused) as exc:
            raise CommandError(str(exc)) from None
        if as_json:
            self.stdout.write(json.dumps(measured.figures, indent=1))
            return
        first = measured.rows[0]
        self.stdout.write(f"{first.replies} labelled replies from {first.file_name}, competition {found.slug}:")
        for name, figures in measured.figures.items():
            errors = figures["all"]["errors"]
            self.stdout.write("\n".join(figure_lines(name, figures["all"])) or f"{name:16} decides none of the labels")
            if errors:
                self.stdout.write(f"{name:16} {errors} error(s): those replies count as undecided")
        self.stdout.write(f"Stored for {len(measured.rows)} judge(s); each judge's admin page shows its figures.")
