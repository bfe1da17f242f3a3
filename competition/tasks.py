"""Background tasks of a round (django-q2). Thin: each calls one service and is safe to run twice,
so the reaper and scoring run again when their database connection is lost midway
(config/database.py); the player hands over instead (competition/pipeline/player/loop.py).

The players and the scoring the round lifecycle asks for (competition/pipeline/signals.py) are
queued here, and the reaper's schedule is declared here (SCHEDULES, written after `migrate`)."""

from __future__ import annotations

from dataclasses import asdict

from django.dispatch import receiver

from competition.pipeline import lifecycle, reaper, signals
from competition.pipeline.player import RoundPlayer
from config.database import retried_when_database_lost
from config.queue import TaskSchedule, task_enqueue


def rounds_play_task() -> dict:
    """Play the running rounds' conversations beside the other live players; a player that finds
    every player lease held leaves at once."""
    report = RoundPlayer().run()
    if report.handed_over and report.work_left:
        # This player stopped at its time limit (or lost its lease) with work left: a fresh one goes on.
        lifecycle.player_enqueue(count=1)
    return asdict(report)


@retried_when_database_lost
def rounds_reap_task() -> dict:
    """Scheduled every minute: resume dead workers' conversations and move rounds along."""
    return asdict(reaper.rounds_reap())


@retried_when_database_lost
def round_score_task(round_pk: int, reason: str = "labels complete") -> dict:
    """Compute (or recompute, idempotently) a scored or published round's standings."""
    from competition.pipeline.scoring import round_score

    return asdict(round_score(round_id=round_pk, reason=reason))


SCHEDULES = (TaskSchedule(name="Round reaper", task=rounds_reap_task, minutes=1),)


@receiver(signals.players_wanted, dispatch_uid="competition.tasks.players_enqueue")
def players_enqueue(sender, *, count: int, **kwargs) -> None:
    """Queue `count` round players once the transaction commits (lifecycle.player_enqueue asks)."""
    for _ in range(count):
        task_enqueue(rounds_play_task)


@receiver(signals.round_scoring_wanted, dispatch_uid="competition.tasks.round_score_enqueue")
def round_score_enqueue(sender, *, round_id: int, reason: str, **kwargs) -> None:
    """Queue the round's scoring once the transaction commits (lifecycle.round_score_enqueue asks)."""
    task_enqueue(round_score_task, round_id, reason)
