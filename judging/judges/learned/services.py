"""Writes for the learned judge that the admin starts: queueing training runs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from config.queue import task_enqueue
from judging.judges.learned.tasks import learned_judge_train_task
from judging.models import Judge


def learned_judges_train(*, judges: Iterable[Judge], user: Any = None) -> list[Judge]:
    """Queue a training run (learned_judge_train_task) for each learned judge among `judges`, once
    the request's transaction commits; returns the judges queued (others are left alone)."""
    queued = [judge for judge in judges if judge.kind == Judge.Kind.LEARNED]
    for judge in queued:
        task_enqueue(learned_judge_train_task, judge.pk, getattr(user, "pk", None), task_name=f"train-judge-{judge.pk}")
    return queued
