"""Several players on one round: shared work, each bot's limit across them, a dead player's share
taken over. Two players run on two threads of this process, as two worker processes would, each
with its own database connection."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from competition.models import BotSlot, PlayerLease, Round
from competition.pipeline import lifecycle, reaper
from competition.pipeline.player import RoundPlayer
from competition.pipeline.player.slots import SlotShare
from competition.tasks import rounds_play_task
from conversations.models import Conversation, Turn
from tests import cast

PATHS = ("/bot/rogue", "/bot/crimson", "/bot/bastion", "/bot/aegis")


def leases_live(*holders: str) -> None:
    """Player leases held by live players, in position order ("rounds" first)."""
    for index, holder in enumerate(holders):
        PlayerLease.objects.update_or_create(
            name="rounds" if index == 0 else f"rounds:{index}",
            defaults={"holder": holder, "expires_at": timezone.now() + timedelta(minutes=1)},
        )


def started_without_playing(arena, **round_settings) -> Round:
    """Start the round; tasks run inline in tests, so every lease is held meanwhile by players that
    are not there, and freed afterwards."""
    for name, value in round_settings.items():
        setattr(arena.round, name, value)
    arena.round.save()
    leases_live("nobody-0", "nobody-1")
    round_ = lifecycle.round_start(round_id=arena.round.pk)
    PlayerLease.objects.all().delete()
    return round_


def play_together(*players: RoundPlayer) -> list:
    reports: list = [None] * len(players)

    def run(index: int) -> None:
        try:
            reports[index] = players[index].run()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(players))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(report is not None for report in reports), "a player did not finish"
    return reports


@pytest.fixture
def two_players(transactional_db, farm, settings):
    settings.ARENA_ALLOW_PRIVATE_URLS = True
    settings.ARENA_PLAYERS = 2
    arena = cast.build(bot_url=f"{farm.base_url}/bot")
    for path in PATHS:
        farm.behaviours[path].latency = 0.05
    return arena


def asked_slots(farm) -> Counter:
    return Counter((r["conversation_id"], r["turn_index"]) for path in PATHS for r in farm.requests[path])


def test_it_shares_a_round_between_two_players_with_no_turn_played_twice(two_players, farm):
    started_without_playing(two_players, conversations_per_pair=8, max_turns=3)
    # Both players are live from the start (as when their leases were taken a moment apart), so
    # each owns its half of every bot's slots at once and neither can play the round alone quickly.
    leases_live("player-a", "player-b")
    first, second = play_together(RoundPlayer(worker_id="player-a"), RoundPlayer(worker_id="player-b"))

    assert {first.lease, second.lease} == {"rounds", "rounds:1"}
    assert first.turns > 0 and second.turns > 0  # the round was shared
    assert first.turns + second.turns == 32 * 6
    assert set(Conversation.objects.values_list("status", flat=True)) == {"completed"}
    for conversation in Conversation.objects.all():
        assert list(conversation.turns.order_by("index").values_list("index", flat=True)) == list(range(6))
    asked = asked_slots(farm)
    assert len(asked) == 32 * 6 and set(asked.values()) == {1}  # every slot asked exactly once
    two_players.round.refresh_from_db()
    assert two_players.round.status == Round.Status.JUDGING
    assert not BotSlot.objects.exclude(holder="").exists()  # both gave their slots back
    assert not PlayerLease.objects.exclude(holder="").exists()


def test_it_keeps_each_bots_concurrency_limit_across_two_players(two_players, farm):
    # An odd limit: the first player owns slots 0 and 2, the second slot 1; never 3 calls each.
    for bot in (two_players.rogue_bot, two_players.bastion_bot):
        bot.max_concurrency = 3
        bot.save()
    for bot in (two_players.crimson_bot, two_players.aegis_bot):
        bot.max_concurrency = 1  # played by the first player only
        bot.save()
    started_without_playing(two_players, conversations_per_pair=8, max_turns=2)
    leases_live("player-a", "player-b")
    first, second = play_together(RoundPlayer(worker_id="player-a"), RoundPlayer(worker_id="player-b"))

    assert farm.peak["/bot/rogue"] <= 3 and farm.peak["/bot/bastion"] <= 3
    assert farm.peak["/bot/crimson"] == 1 and farm.peak["/bot/aegis"] == 1
    assert first.turns > 0 and second.turns > 0
    assert first.turns + second.turns == Turn.objects.count() == 32 * 4
    assert set(asked_slots(farm).values()) == {1}


def test_it_splits_a_bots_slots_by_position_and_never_hands_out_one_slot_twice(db, arena):
    bot = arena.rogue_bot
    first, second = SlotShare(holder="a", seconds=30), SlotShare(holder="b", seconds=30)
    for share, position in ((first, 0), (second, 1)):
        share.limits_set({bot.pk: 5})
        share.position_set(position=position, players=2)
    assert first.take({bot.pk}) is False and second.take({bot.pk}) is False
    assert first.held[bot.pk] == {0, 2, 4} and second.held[bot.pk] == {1, 3}
    assert first.usable(bot.pk) == 3 and second.usable(bot.pk) == 2
    assert first.usable(bot.pk, cap=2) == 1  # a round that froze a lower limit: only slots below it

    # The second player ends: the first now owns every slot, and takes the second's once given back.
    first.position_set(position=0, players=1)
    assert first.take({bot.pk}) is True  # slots 1 and 3 are still the second's
    assert first.usable(bot.pk) == 3
    second.release_all()
    assert first.take({bot.pk}) is False
    assert first.usable(bot.pk) == 5
    holders = Counter(BotSlot.objects.filter(bot=bot).values_list("holder", flat=True))
    assert holders == {"a": 5}


def test_it_gives_back_a_slot_that_is_no_longer_its_own_only_when_no_call_holds_it(db, arena):
    bot = arena.rogue_bot
    share = SlotShare(holder="a", seconds=30)
    share.limits_set({bot.pk: 2})
    share.take({bot.pk})
    share.busy[bot.pk] = 2  # two calls in flight
    share.position_set(position=0, players=2)  # a second player arrived: slot 1 is now its own
    assert share.usable(bot.pk) == 1 and not share.has_room(bot.pk)  # no new call on slot 1
    share.give_back()
    assert BotSlot.objects.get(bot=bot, index=1).holder == "a"  # its call is still in flight
    share.busy[bot.pk] = 1
    share.give_back()
    assert BotSlot.objects.get(bot=bot, index=1).holder == ""
    other = SlotShare(holder="b", seconds=30)
    other.limits_set({bot.pk: 2})
    other.position_set(position=1, players=2)
    assert other.take({bot.pk}) is False and other.held[bot.pk] == {1}


def test_it_takes_over_a_dead_players_lease_slots_and_conversations(two_players, farm):
    arena = two_players
    round_ = started_without_playing(arena, conversations_per_pair=2, max_turns=2)
    # A dead second player: its lease, its slots of every bot and a conversation mid-way, all expired.
    expired = timezone.now() - timedelta(seconds=1)
    PlayerLease.objects.create(name="rounds:1", holder="dead", expires_at=expired)
    bots = (arena.rogue_bot, arena.crimson_bot, arena.bastion_bot, arena.aegis_bot)
    BotSlot.objects.bulk_create(
        BotSlot(bot=bot, index=index, holder="dead", expires_at=expired) for bot in bots for index in (1, 3)
    )
    conversation = Conversation.objects.filter(match__round=round_).first()
    Turn.objects.create(conversation=conversation, index=0, speaker="attacker", content="before the death")
    Conversation.objects.filter(pk=conversation.pk).update(
        status="running", claimed_by="dead", claim_expires_at=expired
    )
    taken = {}

    def look(calls: int) -> None:
        if calls == 4:  # while the new player plays: whose are the dead player's slots now?
            taken.update(BotSlot.objects.filter(bot=arena.rogue_bot).values_list("index", "holder"))
            connection.close()

    farm.behaviours["/bot/rogue"].on_call = look

    # The reaper hands the conversation back and asks for two players (no live player holds a
    # lease); tasks run inline here, so the first plays the whole round as the only live player.
    report = reaper.rounds_reap()
    assert report.claims_expired == 1
    assert report.players_enqueued == 2

    assert set(Conversation.objects.values_list("status", flat=True)) == {"completed"}
    conversation.refresh_from_db()
    assert conversation.turns.get(index=0).content == "before the death"
    assert conversation.turns.count() == 4
    assert set(asked_slots(farm).values()) == {1}
    heir = taken[0]
    assert heir not in ("", "dead") and taken[1] == taken[3] == heir  # the dead player's slots went to the heir
    assert not BotSlot.objects.exclude(holder="").exists()


def test_it_leaves_without_playing_when_it_owns_no_slot_of_the_bots_left(live_arena, farm, settings):
    settings.ARENA_PLAYERS = 2
    for bot in (live_arena.rogue_bot, live_arena.crimson_bot, live_arena.bastion_bot, live_arena.aegis_bot):
        bot.max_concurrency = 1  # slot 0 only, which belongs to the first player
        bot.save()
    lifecycle.round_start(round_id=live_arena.round.pk)
    leases_live("someone")  # the first player is alive elsewhere
    report = RoundPlayer().run()
    assert report.acquired and report.lease == "rounds:1"
    assert report.turns == 0 and report.work_left and not report.handed_over
    assert not BotSlot.objects.filter(holder=report.worker_id).exists()


def test_it_does_not_ask_for_another_player_when_one_leaves_with_nothing_of_its_own(
    live_arena, farm, settings, django_capture_on_commit_callbacks
):
    settings.ARENA_PLAYERS = 2
    for bot in (live_arena.rogue_bot, live_arena.crimson_bot, live_arena.bastion_bot, live_arena.aegis_bot):
        bot.max_concurrency = 1
        bot.save()
    lifecycle.round_start(round_id=live_arena.round.pk)
    leases_live("someone")
    with django_capture_on_commit_callbacks() as queued:
        result = rounds_play_task()
    assert result["lease"] == "rounds:1" and result["turns"] == 0
    assert queued == []  # no player asked for: the live first player plays the rest


def test_it_asks_for_a_fresh_player_when_one_stops_at_its_time_limit(
    live_arena, farm, settings, django_capture_on_commit_callbacks
):
    settings.ARENA_PLAYER_MAX_SECONDS = 0.001  # past its time limit at once: it hands over
    lifecycle.round_start(round_id=live_arena.round.pk)
    with django_capture_on_commit_callbacks() as queued:
        result = rounds_play_task()
    assert result["handed_over"] and result["work_left"]
    assert len(queued) == 1


def test_it_asks_the_reaper_for_only_the_players_that_are_missing(
    live_arena, settings, django_capture_on_commit_callbacks
):
    settings.ARENA_PLAYERS = 3
    lifecycle.round_start(round_id=live_arena.round.pk)
    leases_live("alive", "also-alive")
    PlayerLease.objects.filter(name="rounds").update(expires_at=timezone.now() - timedelta(seconds=1))  # died
    with django_capture_on_commit_callbacks() as queued:
        report = reaper.rounds_reap()
    assert report.players_enqueued == len(queued) == 2  # "rounds" (dead) and "rounds:2" (never taken)

    leases_live("alive", "also-alive", "third")
    with django_capture_on_commit_callbacks() as queued:
        report = reaper.rounds_reap()
    assert report.players_enqueued == 0 and queued == []


def test_it_hands_slots_over_to_a_player_that_joins_mid_round(two_players, farm):
    for bot in (two_players.rogue_bot, two_players.crimson_bot, two_players.bastion_bot, two_players.aegis_bot):
        bot.max_concurrency = 2
        bot.save()
    for path in PATHS:
        farm.behaviours[path].latency = 0.1
    started_without_playing(two_players, conversations_per_pair=8, max_turns=3)
    playing = threading.Event()
    farm.behaviours["/bot/rogue"].on_call = lambda calls: calls == 3 and playing.set()
    reports: dict[str, object] = {}

    def run(name: str) -> None:
        try:
            reports[name] = RoundPlayer(worker_id=name).run()
        finally:
            connection.close()

    first = threading.Thread(target=run, args=("first",))
    first.start()  # alone, it owns and takes every slot of every bot
    assert playing.wait(timeout=60)
    second = threading.Thread(target=run, args=("second",))
    second.start()  # the first gives its odd slots back between calls, the second takes them
    first.join(timeout=120)
    second.join(timeout=120)

    assert reports["first"].lease == "rounds" and reports["second"].lease == "rounds:1"
    assert reports["second"].turns > 0
    assert reports["first"].turns + reports["second"].turns == 32 * 6
    assert all(farm.peak[path] <= 2 for path in PATHS)
    assert set(asked_slots(farm).values()) == {1}
    assert set(Conversation.objects.values_list("status", flat=True)) == {"completed"}
