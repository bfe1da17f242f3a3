"""Measuring a competition's judges on a labelled reply file before a round (`manage.py judge_accuracy`).

The organizer's labelled JSONL (format in judging/judges/accuracy.py and docs/judges.md) runs through the
competition's active judges as a round would (their runners, batches of 200, an LLM judge's calls
through the outbound HTTP seam included) and the platform's judge-ensemble step; nothing about the
replies is stored, only the figures: one JudgeAccuracy row per judge, with the final label's figures
beside it, so each judge's admin page shows its last measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from competition.models import Competition
from judging.judges.accuracy import FINAL, ensemble_figures, ensemble_run, labelled_replies_read
from judging.models import Judge, JudgeAccuracy


class JudgeAccuracyRefused(ValueError):
    """The measurement cannot run: the competition has no active judge."""


@dataclass(frozen=True)
class AccuracyMeasured:
    """What judge_accuracy_measure stored and every figure it computed (ensemble_figures' shape)."""

    rows: list[JudgeAccuracy]
    figures: dict[str, dict[str, Any]]


def judge_accuracy_measure(*, competition: Competition, path: Path) -> AccuracyMeasured:
    """Run the labelled replies at `path` through the competition's active judges and store each
    judge's figures (JudgeAccuracy) with the final label's.

    Raises judging.judges.accuracy.LabelledFileError when the file is missing or malformed (nothing is
    run), JudgeAccuracyRefused when the competition has no active judge. A judge that errors on a
    reply counts that reply as undecided (its `errors` figure says how many).
    """
    replies = labelled_replies_read(path)
    judges = list(Judge.objects.filter(competition=competition, active=True).order_by("slug"))
    if not judges:
        raise JudgeAccuracyRefused(f"competition {competition.slug} has no active judge to measure")
    run = ensemble_run(judges, replies)
    figures = ensemble_figures(replies, run)
    with transaction.atomic():
        rows = [
            JudgeAccuracy.objects.create(
                judge=judge,
                judge_version=judge.version,
                file_name=Path(path).name[:255],
                replies=len(replies),
                figures=figures[judge.slug],
                ensemble=figures[FINAL],
            )
            for judge in judges
        ]
    return AccuracyMeasured(rows=rows, figures=figures)
