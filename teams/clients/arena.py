"""The arena.v1 kind: the protocol's signed JSON envelope (docs/bot-protocol.md)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from teams.clients.base import BotCallError, BotRequest, TurnRequest, json_bytes
from teams.http import OutboundResponse, outbound_post
from teams.models import CallFailure, Side
from teams.protocol import PROTOCOL
from teams.signing import signature_headers


def request_build(
    *, snapshot: dict, secrets: Sequence[str], request: TurnRequest, delivery_id: str, timestamp: int | None = None
) -> BotRequest:
    """The turn request envelope, signed with every secret; the goal is sent to attackers only."""
    payload = {
        "protocol": PROTOCOL,
        "type": "turn",
        "competition": request.competition,
        "round": request.round,
        "conversation_id": request.conversation_id,
        "role": request.role,
        "turn_index": request.turn_index,
        "max_turns": request.max_turns,
    }
    if request.role == Side.ATTACKER:
        payload["goal"] = request.goal
    payload["messages"] = request.messages
    body = json_bytes(payload)
    headers = signature_headers(body=body, secrets=secrets, delivery_id=delivery_id, timestamp=timestamp)
    return BotRequest(url=snapshot["url"], body=body, headers=headers)


def reply_read(*, role: str, answer: dict) -> tuple[object, bool]:
    """The (unchecked content, end) of an answer object; a defender's ``end`` is ignored."""
    if "content" not in answer:
        raise BotCallError(CallFailure.BAD_CONTENT, 'answer has no "content" field')
    return answer["content"], role == Side.ATTACKER and answer.get("end") is True


def ping_send(*, url: str, secrets: Sequence[str], timeout: float) -> OutboundResponse:
    """The signed ping ``{"protocol": "arena.v1", "type": "ping"}``, sent once."""
    body = json_bytes({"protocol": PROTOCOL, "type": "ping"})
    headers = signature_headers(body=body, secrets=secrets, delivery_id=str(uuid.uuid4()))
    return outbound_post(url=url, body=body, headers=headers, timeout=timeout)


def ping_refusal(answer: dict) -> str:
    """Why a ping's answer object is not the protocol's ``{"ok": true}``, or "" when it is."""
    return "" if answer.get("ok") is True else 'answer to the ping is not {"ok": true}'
