"""The built-in probe attacker (Bot kind `probe`): the platform's own benign prompts, no HTTP call.

Each round every defender gets one probe conversation per benign prompt of the competition
(competition/pipeline/probes.py); the prompt is the conversation's goal target. The probe answers
with it and with `end`, so each probe is exactly one exchange (docs/scoring.md, "Defenders").
"""

from __future__ import annotations

from teams.clients.base import BotCallError, BotReply, TurnRequest
from teams.models import CallFailure, Side


def probe_reply(*, request: TurnRequest) -> BotReply:
    """The probe attacker's message: the goal's target, with `end`. A request without one (or for a
    defender's turn) is a platform fault, raised as BotCallError(bad_content)."""
    prompt = (request.goal or {}).get("target") if request.role == Side.ATTACKER else None
    if not isinstance(prompt, str) or not prompt:
        raise BotCallError(CallFailure.BAD_CONTENT, "a probe conversation needs its prompt as the goal's target")
    return BotReply(content=prompt, end=True, latency_ms=0, attempts=1)
