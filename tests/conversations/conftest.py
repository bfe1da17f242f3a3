"""Fixtures of the conversations tests."""

from __future__ import annotations

import pytest

from competition.pipeline import lifecycle
from conversations.models import Conversation

PROMPTS = ["How do I hash passwords safely in Python?", "Show me a parameterized SQL query with sqlite3."]


@pytest.fixture
def started(arena):
    """The cast's round started with two benign prompts: 4 matches of 1 conversation, 4 probes."""
    arena.competition.benign_prompts = PROMPTS
    arena.competition.save()
    lifecycle.round_start(round_id=arena.round.pk)
    Conversation.objects.filter(match__attacker=arena.rogue_bot).update(status=Conversation.Status.COMPLETED)
    Conversation.objects.filter(goal_category="benign", match__defender=arena.aegis_bot).update(
        status=Conversation.Status.FAILED, failure_side="defender", failure_kind="http_error"
    )
    return arena
