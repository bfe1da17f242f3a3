"""Background tasks of a round (django-q2). Thin: each calls one service and is safe to run twice,
so the reaper and scoring run again when their database connection is lost midway
(config/database.py); the player hands over instead (competition/pipeline/player/loop.py)."""

from __future__ import annotations

from dataclasses import asdict

from competition.pipeline import lifecycle, reaper
from competition.pipeline.player import RoundPlayer
from config.database import retried_when_database_lost


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
