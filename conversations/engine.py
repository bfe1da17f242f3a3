"""The rules of one conversation: whose turn it is, what they are sent, when it ends.

Pure logic over a `ConversationState`; no database and no network here, so the scheduler that
plays many conversations at once (competition/pipeline/player/) and the tests share one definition of
the game. The protocol is docs/bot-protocol.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from teams.clients import CallLimits, TurnRequest
from teams.models import Side
from teams.protocol import chat_role


@dataclass
class ConversationState:
    """What a player needs in memory to continue a conversation from its last stored turn."""

    conversation_id: int
    conversation_uuid: uuid.UUID
    round_id: int
    competition_slug: str
    round_slug: str
    goal: dict
    attacker: dict  # Match.attacker_snapshot
    defender: dict  # Match.defender_snapshot
    max_turns: int
    limits: CallLimits
    messages: list[dict] = field(default_factory=list)
    ended_by_attacker: bool = False

    @property
    def next_index(self) -> int:
        return len(self.messages)

    @property
    def finished(self) -> bool:
        """Complete: every exchange played, or the attacker's `end` has been answered."""
        index = self.next_index
        if index % 2 == 1:
            return False  # a defender reply is always owed for the last attacker message
        return index >= 2 * self.max_turns or self.ended_by_attacker

    @property
    def next_side(self) -> str:
        return Side.ATTACKER if self.next_index % 2 == 0 else Side.DEFENDER

    def next_bot(self) -> dict:
        return self.attacker if self.next_side == Side.ATTACKER else self.defender

    def next_request(self) -> TurnRequest:
        """The request for the next message. Precondition: not `finished`."""
        side = self.next_side
        return TurnRequest(
            competition=self.competition_slug,
            round=self.round_slug,
            conversation_id=str(self.conversation_uuid),
            role=side,
            turn_index=self.next_index,
            max_turns=self.max_turns,
            goal=self.goal if side == Side.ATTACKER else None,
            messages=list(self.messages),
        )

    def delivery_id(self) -> str:
        """Stable per message slot, so a resumed or retried slot reuses it and bots can de-duplicate."""
        return str(uuid.uuid5(self.conversation_uuid, f"turn-{self.next_index}"))

    def ends_conversation(self, *, end: bool) -> bool:
        """Whether the next message, sent with this `end` flag, ends the conversation: only an
        attacker ends one; a defender's `end` is ignored (bot-protocol.md)."""
        return end and self.next_side == Side.ATTACKER

    def apply(self, *, content: str, end: bool) -> None:
        """Record the next message (already validated by the client)."""
        ends = self.ends_conversation(end=end)
        self.messages.append({"role": chat_role(self.next_side), "content": content})
        if ends:
            self.ended_by_attacker = True


def state_build(*, conversation, turns) -> ConversationState:
    """A state from a conversation (with match, round and competition loaded) and its ok turns in order.

    Precondition: `turns` are the conversation's stored ok turns, indexes 0..n-1 without gaps.
    """
    match = conversation.match
    round_ = match.round
    settings = round_.settings_in_force
    state = ConversationState(
        conversation_id=conversation.pk,
        conversation_uuid=conversation.uuid,
        round_id=round_.pk,
        competition_slug=round_.competition.slug,
        round_slug=round_.slug,
        goal=conversation.goal,
        attacker=match.attacker_snapshot,
        defender=match.defender_snapshot,
        max_turns=settings["max_turns"],
        limits=CallLimits(
            timeout_seconds=settings["call_timeout_seconds"],
            retries=settings["retries"],
            message_limit=settings["message_limit"],
        ),
    )
    for turn in turns:
        if turn.index != state.next_index:
            raise ValueError(f"conversation {conversation.uuid} has a gap before turn {turn.index}")
        state.apply(content=turn.content, end=turn.ends_conversation)
    return state
