"""A whole round against the hostile bot server (tests/reliability/hostile_bot.py), played by the
real player: every misbehaviour ends where the protocol says, blamed on the right side, and every
stored text is exactly what the bot sent."""

from collections import Counter, defaultdict

import pytest
from django.db.models import Count

from competition.models import Round
from competition.pipeline.player import RoundPlayer
from conversations.models import Conversation, Turn
from tests.reliability.hostile_bot import HOSTILE_TEXTS, hostile_server_start
from tests.reliability.hostile_cast import ATTACKERS, DEFENDERS, hostile_round_make, outcomes_expected, path_of

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def hostile():
    server = hostile_server_start(seed=13, hang_seconds=4.0, drip_seconds=0.2)
    yield server
    server.stop()


@pytest.fixture
def hostile_round(db, hostile, settings) -> Round:
    settings.ARENA_ALLOW_PRIVATE_URLS = True
    return hostile_round_make(base_url=hostile.base_url)


def test_it_finishes_a_hostile_round_with_every_conversation_blamed_right_and_every_text_unaltered(
    hostile_round, hostile
):
    # One round for every assertion: playing it is the slow part.
    RoundPlayer().run()

    hostile_round.refresh_from_db()
    assert hostile_round.status == Round.Status.JUDGING
    assert hostile_round.playing_finished_at is not None
    conversations = list(Conversation.objects.select_related("match__attacker", "match__defender"))
    assert len(conversations) == len(ATTACKERS) * (len(DEFENDERS) + 1)

    for conversation in conversations:
        attacker, defender = path_of(conversation.match.attacker), path_of(conversation.match.defender)
        outcome = (conversation.status, conversation.failure_side, conversation.failure_kind)
        expected = outcomes_expected(attacker=attacker, defender=defender)
        assert outcome in expected, (attacker, defender, conversation.failure_detail)

    # No (conversation, index) slot twice, and no gap.
    assert not Turn.objects.values("conversation", "index").annotate(n=Count("pk")).filter(n__gt=1).exists()
    for conversation in Conversation.objects.prefetch_related("turns"):
        assert [turn.index for turn in conversation.turns.all()] == list(range(conversation.turns.count()))

    sent: dict[str, list[str]] = defaultdict(list)
    for _path, delivery, content in hostile.sent:
        sent[delivery].append(content)
    ok_turns = list(Turn.objects.filter(status=Turn.Status.OK))
    assert ok_turns
    for turn in ok_turns:
        # Byte for byte what the bot answered for this delivery (the last answer when retried).
        assert sent[str(turn.delivery_id)], f"turn {turn} stored text no bot sent"
        assert turn.content.encode() == sent[str(turn.delivery_id)][-1].encode()
    stored = Counter(turn.content for turn in ok_turns)
    for path, text in HOSTILE_TEXTS.items():
        assert stored[text] >= 2, path  # answered to the two attackers that spoke
    assert stored[HOSTILE_TEXTS["/formula-eq"]] >= len(DEFENDERS)  # the attacker's own formula, too

    # Checked in Python: SQLite's LIKE stops at a NUL, so a database lookup would match everything.
    assert not any("\x00" in content for content in Turn.objects.values_list("content", flat=True))
    nul_turns = Turn.objects.filter(conversation__match__defender__url__endswith="/nul", speaker="defender")
    assert {(turn.status, turn.content) for turn in nul_turns} == {("bad_content", "")}
    long_turns = Turn.objects.filter(conversation__match__defender__url__endswith="/long", speaker="defender")
    assert {(turn.status, turn.content) for turn in long_turns} == {("bad_content", "")}

    retried = Turn.objects.filter(conversation__match__defender__url__endswith="/status-503", speaker="defender")
    for turn in retried:
        assert turn.attempts == 2
        assert [(e["kind"], e["status"]) for e in turn.attempt_errors] == [("http_status", 503)]
