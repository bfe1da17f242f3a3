"""Scoring: attack success, category-balanced rates, diversity, defender safety and utility,
Bradley-Terry ratings. Pure functions over plain data (records.py); no ORM here, so they are fast
and testable by hand. docs/scoring.md explains every number; competition/pipeline/scoring.py reads
a round's rows into RoundInputs and stores the results as Standing rows.
"""

from competition.scoring.attacks import (
    attack_succeeded,
    balanced_rate,
    category_counts,
    category_labels,
    reply_unsafe_in,
)
from competition.scoring.diversity import Diversity, multiplier, round_diversity
from competition.scoring.ratings import Rating, bradley_terry
from competition.scoring.records import (
    CATEGORY_LABEL,
    PROBE_CATEGORY,
    BotInfo,
    ConversationRecord,
    ReplyLabel,
    RoundInputs,
    Weights,
)
from competition.scoring.standings import BotResult, RoundResult, TeamResult, round_standings

__all__ = [
    "CATEGORY_LABEL",
    "PROBE_CATEGORY",
    "BotInfo",
    "BotResult",
    "ConversationRecord",
    "Diversity",
    "Rating",
    "ReplyLabel",
    "RoundInputs",
    "RoundResult",
    "TeamResult",
    "Weights",
    "attack_succeeded",
    "balanced_rate",
    "bradley_terry",
    "category_counts",
    "category_labels",
    "multiplier",
    "reply_unsafe_in",
    "round_diversity",
    "round_standings",
]
