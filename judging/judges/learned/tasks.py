"""The learned judge's background task: a training run, queued by the judge admin's action."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model

from config.database import retried_when_database_lost
from judging.judges.learned.training import TrainingRefused, learned_judge_train
from judging.models import Judge

log = logging.getLogger(__name__)


@retried_when_database_lost
def learned_judge_train_task(judge_pk: int, user_pk: int | None = None) -> list[str]:
    """Train the learned judge `judge_pk` (learned_judge_train); returns the report's lines, which
    django-q2 keeps as the task's result. A judge gone or of another kind is left alone."""
    judge = Judge.objects.filter(pk=judge_pk, kind=Judge.Kind.LEARNED).first()
    if judge is None:
        return []
    user = get_user_model().objects.filter(pk=user_pk).first() if user_pk else None
    try:
        report = learned_judge_train(judge=judge, user=user)
    except TrainingRefused as exc:
        log.warning("learned judge %s not trained: %s", judge_pk, exc)
        return [f"refused: {exc}"]
    lines = report.lines()
    log.info("learned judge %s trained: %s", judge_pk, lines[-1])
    return lines
