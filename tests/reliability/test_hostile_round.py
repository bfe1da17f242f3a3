"""A whole round against the hostile bot server (tests/reliability/hostile_bot.py), played by the
real player: every misbehaviour ends where the protocol says, blamed on the right side, and every
stored text is exactly what the bot sent."""

from collections import Counter, defaultdict

import pytest
from django.db.models import Count

from competition.models import Competition, Round
from competition.pipeline import lifecycle
from competition.pipeline.player import RoundPlayer
from conversations.models import Conversation, Turn
from teams.models import Bot
from tests import cast
from tests.reliability.hostile_bot import HOSTILE_TEXTS, hostile_server_start

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ATTACKERS = ["/ok", "/formula-eq", "/reset"]
# What a defender path ends as when its attacker answered: (conversation status, failure kind).
DEFENDERS = {
    "/ok": ("completed", ""),
    "/ok-end": ("completed", ""),  # a defender's end is ignored; the conversation still completes
    "/hang": ("failed", "timeout"),
    "/status-503": ("failed", "http_status"),
    "/not-json": ("failed", "bad_json"),
    "/wrong-types": ("failed", "bad_content"),
    "/huge": ("failed", "too_large"),
    "/gzip-huge": ("failed", "too_large"),
    "/drip": ("failed", "timeout"),
    "/redirect": ("failed", "redirect"),
    "/reset": ("failed", "connection"),
    "/nul": ("failed", "bad_content"),
    "/long": ("failed", "bad_content"),
    **{path: ("completed", "") for path in HOSTILE_TEXTS},
}
RANDOM = "/random"  # seeded: completed, or failed with http_status after its retries


@pytest.fixture
def hostile():
    server = hostile_server_start(seed=13, hang_seconds=4.0, drip_seconds=0.2)
    yield server
    server.stop()


@pytest.fixture
def hostile_round(db, hostile, settings) -> Round:
    settings.ARENA_ALLOW_PRIVATE_URLS = True
    bots: dict[tuple[str, str], Bot] = {}
    for side, paths in (("attacker", ATTACKERS), ("defender", [*DEFENDERS, RANDOM])):
        for number, path in enumerate(paths):
            owner = cast.user_make(f"{side}{number}")
            team = cast.team_make(f"{side} {path}", f"{side}-{number}", side, owner)
            # Only the slow bots get a short limit of their own, so that on a loaded machine a
            # well-behaved bot is not cut off by the deadline meant for them.
            slow = path in ("/hang", "/drip")
            bots[side, path] = Bot.objects.create(
                team=team,
                name=f"{side}{number}",
                url=f"{hostile.base_url}{path}",
                timeout_seconds=1 if slow else None,
            )
    competition = Competition.objects.create(name="Hostile", slug="hostile")
    round_ = Round.objects.create(
        competition=competition,
        number=1,
        name="Hostile 1",
        slug="hostile-1",
        conversations_per_pair=1,
        max_turns=1,
        call_timeout_seconds=20,
        retries=1,
        circuit_breaker_failures=1000,
    )
    lifecycle.round_start(round_id=round_.pk)
    return round_


def path_of(bot: Bot) -> str:
    return "/" + bot.url.rsplit("/", 1)[1]


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
        if attacker == "/reset":
            # The attacker is to blame; its defender is never called.
            assert outcome == ("failed", "attacker", "connection"), (attacker, defender)
            continue
        if defender == RANDOM:
            assert outcome in {("completed", "", ""), ("failed", "defender", "http_status")}
            continue
        status, kind = DEFENDERS[defender]
        expected = (status, "defender" if kind else "", kind)
        assert outcome == expected, (attacker, defender, conversation.failure_detail)

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
