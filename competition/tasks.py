"""Background tasks of a round (django-q2). Thin: each calls one service and is safe to run twice,
so the reaper and scoring run again when their database connection is lost midway
(config/database.py); the player hands over instead (competition/pipeline/player/loop.py)."""

from __future__ import annotations

from dataclasses import asdict

from competition.pipeline import lifecycle, reaper
from competition.pipeline.player import RoundPlayer
from config.database import retried_when_database_lost


def rounds_play_task() -> dict:
    """Play every running round's conversations; a second player while one plays leaves at once."""
    report = RoundPlayer().run()
    if report.acquired and report.work_left:
        # This player stopped at its time limit (or lost its lease) with work left: hand over.
        lifecycle.player_enqueue()
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
