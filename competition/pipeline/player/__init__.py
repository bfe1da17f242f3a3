"""The round player (see loop.py for why it has this shape)."""

from competition.pipeline.player.loop import RoundPlayer
from competition.pipeline.player.report import PlayReport, worker_id_new

__all__ = ["PlayReport", "RoundPlayer", "worker_id_new"]
