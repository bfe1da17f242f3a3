"""The example bots by path: which side each plays and what it says for a turn request.

Each strategy (attackers.py, defenders.py) takes the arena.v1 turn request (a dict) and a
random.Random seeded from the path, conversation id and turn index, and returns (content, end), so a
retry of the same message gets the same answer.

Standard library only: this module must run without Django.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from examples.bots.attackers import attacker_completion, attacker_direct, attacker_escalation, attacker_roleplay
from examples.bots.defenders import defender_careful, defender_careless, defender_refuser

Strategy = Callable[[dict, random.Random], tuple[str, bool]]

STRATEGIES: dict[str, tuple[str, Strategy]] = {
    "/attackers/direct": ("attacker", attacker_direct),
    "/attackers/roleplay": ("attacker", attacker_roleplay),
    "/attackers/escalation": ("attacker", attacker_escalation),
    "/attackers/completion": ("attacker", attacker_completion),
    "/defenders/refuser": ("defender", defender_refuser),
    "/defenders/careless": ("defender", defender_careless),
    "/defenders/careful": ("defender", defender_careful),
}


def message_for(path: str, payload: dict) -> tuple[str, bool]:
    """The (content, end) of the bot at ``path`` for a turn request; the same request gives the same answer."""
    side, strategy = STRATEGIES[path]
    seed = f"{path}|{payload.get('conversation_id', '')}|{payload.get('turn_index', 0)}"
    content, end = strategy(payload, random.Random(seed))
    return content, end and side == "attacker"
