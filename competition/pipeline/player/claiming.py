"""Claiming and loading: which conversations the player takes next, claimed and read through the
conversations app's services and selectors, and where each one resumes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from conversations import selectors as conversation_selectors
from conversations import services as conversation_services
from conversations.engine import ConversationState, state_build
from conversations.models import Conversation, Turn

# Conversations held per bot, as a multiple of its concurrency limit: enough to keep its slots busy
# while the others wait for the other side (5x measured best: 3x left slots idle, ratio 1.21 ->
# 1.15 on PostgreSQL), and no more, so one bot's backlog cannot crowd out the others.
HELD_PER_SLOT = 5


def candidates_choose(
    *,
    candidates: list[tuple],
    claimed: Counter[int],
    room: int,
    slots: Callable[[int, int | None], int],
    practice_claimed: Counter[int] | None = None,
) -> list[int]:
    """Of `claim_candidates` rows, the ids to claim: at most `room`, none past a bot's share.

    `slots(bot id, the round's frozen limit)` is how many calls to the bot this player may make at
    once (slots.py:SlotShare.usable); a conversation whose bot it may not call at all is left to
    the other players. `claimed` counts the rounds' conversations this player holds per bot,
    `practice_claimed` the practice matches'.

    A row may carry a sixth element, whether it is a practice match's (claim_candidates puts those
    last): a practice conversation is chosen only when neither of its bots has a round's
    conversation among the candidates, so a round's calls go first within a bot's limit. A bot's
    share (HELD_PER_SLOT per slot) bounds its rounds' conversations alone, and its practice ones
    with them: practice held by the player never keeps a round's conversation from being claimed."""
    chosen: list[int] = []
    rounds = Counter(claimed)
    practice = Counter(practice_claimed or {})
    round_bots = {bot for row in candidates if not row[5:6] or not row[5] for bot in row[1:3]}
    for pk, attacker_id, defender_id, attacker_limit, defender_limit, *kind in candidates:
        is_practice = bool(kind and kind[0])
        if is_practice and (attacker_id in round_bots or defender_id in round_bots):
            continue
        held = rounds + practice if is_practice else rounds
        if held[attacker_id] >= HELD_PER_SLOT * slots(attacker_id, attacker_limit) or held[
            defender_id
        ] >= HELD_PER_SLOT * slots(defender_id, defender_limit):
            continue
        counter = practice if is_practice else rounds
        counter[attacker_id] += 1
        counter[defender_id] += 1
        chosen.append(pk)
        if len(chosen) >= room:
            break
    return chosen


def conversations_claim_load(
    *, worker_id: str, seconds: int, conversation_ids: list[int]
) -> list[tuple[Conversation, list[Turn]]]:
    """Claim the chosen conversations and read them with their turns; [] when none was won (other
    players claimed them first)."""
    won = conversation_services.conversations_claim(
        conversation_ids=conversation_ids, worker_id=worker_id, seconds=seconds
    )
    if not won:
        return []
    return conversation_selectors.conversations_with_turns(conversation_ids=won)


@dataclass(frozen=True)
class Resumed:
    """Where a claimed conversation stands: a failed turn a dead worker stored (the conversation is
    to fail with it), or the state to play on from (finished: every exchange already played)."""

    failed_turn: Turn | None = None
    state: ConversationState | None = None


def resume_point(*, conversation: Conversation, turns: list[Turn]) -> Resumed:
    failed = [turn for turn in turns if not turn.ok]
    if failed:
        # The worker died between storing a failed turn and failing the conversation.
        return Resumed(failed_turn=failed[0])
    return Resumed(state=state_build(conversation=conversation, turns=turns))
