"""What bot-protocol.md fixes once for every module that speaks it: its name and the chat roles.

Nothing here imports a model, so teams.models (and everything above it) can use these names.
"""

from __future__ import annotations

PROTOCOL = "arena.v1"

# The messages of a turn request are in chat form: the attacker speaks as the "user", the defender
# as the "assistant" (docs/bot-protocol.md, "Request"). Keys are Side values.
CHAT_ROLES: dict[str, str] = {"attacker": "user", "defender": "assistant"}


def chat_role(side: str) -> str:
    """The chat role ("user" / "assistant") of a side ("attacker" / "defender"); KeyError for anything else."""
    return CHAT_ROLES[str(side)]
