"""What every kind of bot client shares: the turn request, the limits, the reply and its failure.

Everything a bot answers is hostile text: it is checked against the protocol here and returned as
a plain string, never interpreted.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from teams.http import AttemptFailure, CallError
from teams.models import CallFailure

# Used where no round sets them: the health check and "test this bot".
DEFAULT_TIMEOUT_SECONDS = 45.0
DEFAULT_MESSAGE_LIMIT = 20_000
HEALTH_TIMEOUT_SECONDS = 10.0
RETRY_PAUSE_SECONDS = 0.25
RETRY_PAUSE_MAX_SECONDS = 2.0


@dataclass(frozen=True)
class TurnRequest:
    competition: str
    round: str
    conversation_id: str
    role: str
    turn_index: int
    max_turns: int
    goal: dict | None
    messages: list[dict]


@dataclass(frozen=True)
class CallLimits:
    timeout_seconds: float
    retries: int
    message_limit: int


@dataclass(frozen=True)
class BotReply:
    """A bot's usable message. ``latency_ms`` covers every attempt and pause; ``failed_attempts`` are the
    attempts before the answering one that failed and were retried (oldest first)."""

    content: str
    end: bool
    latency_ms: int
    attempts: int
    failed_attempts: tuple[AttemptFailure, ...] = ()


class BotCallError(CallError):
    """A bot gave no usable message, after ``attempts`` HTTP calls (see :class:`teams.http.CallError`)."""

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        latency_ms: int = 0,
        attempts: int = 0,
        permanent: bool = True,
        status: int | None = None,
    ) -> None:
        super().__init__(kind, detail, permanent=permanent, status=status, latency_ms=latency_ms)
        self.attempts = attempts


@dataclass(frozen=True)
class BotRequest:
    """Exactly what is sent to a bot for one attempt."""

    url: str
    body: bytes
    headers: dict[str, str]


def json_bytes(payload: dict) -> bytes:
    """``payload`` as compact UTF-8 JSON, the body every client sends."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_type(value: object) -> str:
    """The JSON name of ``value``'s type, for error messages a team can act on."""
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def answer_object(body: bytes) -> dict:
    """The JSON object a bot's body holds; raises BotCallError (bad_json) for anything else."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        raise BotCallError(CallFailure.BAD_JSON, "answer body is not JSON") from None
    if not isinstance(answer, dict):
        raise BotCallError(CallFailure.BAD_JSON, f"answer is JSON but a {json_type(answer)}, not an object")
    return answer


def content_check(content: object, *, message_limit: int) -> str:
    """``content`` when it is a message the platform can store; raises BotCallError (bad_content) otherwise."""
    if not isinstance(content, str):
        raise BotCallError(CallFailure.BAD_CONTENT, f'"content" is a {json_type(content)}, not a string')
    if not content:
        raise BotCallError(CallFailure.BAD_CONTENT, '"content" is empty')
    if len(content) > message_limit:
        raise BotCallError(
            CallFailure.BAD_CONTENT, f'"content" has {len(content):,} characters; the limit is {message_limit:,}'
        )
    # JSON can carry what the database cannot store: NUL characters and lone surrogates.
    if "\x00" in content:
        raise BotCallError(CallFailure.BAD_CONTENT, '"content" contains a NUL character (\\u0000)')
    try:
        content.encode("utf-8")
    except UnicodeEncodeError:
        raise BotCallError(CallFailure.BAD_CONTENT, '"content" contains an unpaired UTF-16 surrogate') from None
    return content


def call_time_limit(*, limits: CallLimits, snapshot: dict) -> float:
    """The per-call time limit: the round's, or the bot's own when that is shorter."""
    return min(limits.timeout_seconds, snapshot.get("timeout_seconds") or math.inf)
