"""Practice matches on demand (issue 25): started by an owner, played and judged without organizers,
read by its team alone, capped per day, refused with a reason, played after rounds' calls."""

from __future__ import annotations

import pytest
from django.urls import reverse

from competition.models import PracticeMatch, Round, Standing
from competition.pipeline import lifecycle
from competition.pipeline.player import RoundPlayer
from competition.practice import services
from competition.practice.services import PracticeRefused
from conversations.models import Conversation, Turn
from conversations.selectors import claim_candidates
from judging.models import FinalLabel, Judge
from teams.models import BotHealthCheck

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice(live_arena):
    """Practice open in the cast's competition: bastion is the reference defender, 2 conversations of
    2 exchanges per match, 4 conversations a day; a rules judge labels."""
    arena = live_arena
    services.practice_policy_set(
        competition_id=arena.competition.pk, daily_conversations=4, conversations_per_match=2, max_turns=2
    )
    services.practice_opponents_set(competition_id=arena.competition.pk, bot_ids=[arena.bastion_bot.pk])
    Judge.objects.create(competition=arena.competition, name="Rules", slug="rules", kind=Judge.Kind.RULES)
    return arena


def start(arena, user=None, bot=None, opponent=None) -> PracticeMatch:
    return services.practice_match_start(
        user=user or arena.alice,
        competition_id=arena.competition.pk,
        bot_id=(bot or arena.rogue_bot).pk,
        opponent_id=(opponent or arena.bastion_bot).pk,
    )


def played_refused(arena, farm, django_capture_on_commit_callbacks) -> PracticeMatch:
    """A practice match of rogue against bastion, which refuses every attack, played and judged."""
    farm.behaviours["/bot/bastion"].content = "I can't help with that request."
    match = start(arena)
    with django_capture_on_commit_callbacks(execute=True):
        RoundPlayer().run()
    return match


def test_it_plays_and_judges_a_practice_match_and_its_team_reads_the_transcript(
    practice, farm, client, django_capture_on_commit_callbacks
):
    match = played_refused(practice, farm, django_capture_on_commit_callbacks)
    match.round.refresh_from_db()
    assert match.round.kind == Round.Kind.PRACTICE_MATCH
    assert match.round.status == Round.Status.SCORED
    conversations = Conversation.objects.filter(match__round=match.round)
    assert conversations.count() == 2
    assert set(conversations.values_list("status", flat=True)) == {"completed"}
    assert Turn.objects.filter(conversation__in=conversations).count() == 2 * 4
    replies = Turn.objects.filter(conversation__in=conversations, speaker="defender")
    assert FinalLabel.objects.filter(turn__in=replies).count() == 4
    assert not Standing.objects.filter(round=match.round).exists()
    client.force_login(practice.alice)
    page = client.get(reverse("team-conversation", args=[conversations.first().uuid]))
    assert page.status_code == 200
    assert "help with that request" in page.content.decode()


def test_it_lists_a_judged_practice_match_on_the_team_dashboard_with_what_beat_its_bot(
    practice, farm, client, django_capture_on_commit_callbacks
):
    match = played_refused(practice, farm, django_capture_on_commit_callbacks)
    conversations = list(Conversation.objects.filter(match__round=match.round).order_by("sequence"))
    client.force_login(practice.mallory)  # any member of the team, not only owners
    page = client.get(reverse("team-dashboard", args=["red-rogues"])).content.decode()
    practice_card = page[page.index('id="practice"') :]
    # Both attacks of the team's attacker were defended (the judges' labels): both went against it.
    assert "Defended, Defended" in practice_card
    assert "2 of 2: " in practice_card
    for conversation in conversations:
        assert reverse("team-conversation", args=[conversation.uuid]) in practice_card
    # The opponent's team does not see it on its dashboard.
    client.force_login(practice.dana)
    page = client.get(reverse("team-dashboard", args=["blue-bastion"])).content.decode()
    assert reverse("practice-match", args=[match.pk]) not in page


def test_it_refuses_a_request_past_the_daily_cap_with_the_reason(practice):
    start(practice)
    start(practice)
    with pytest.raises(PracticeRefused, match="Daily practice cap reached: 4 of 4"):
        start(practice)
    assert PracticeMatch.objects.count() == 2


def test_it_refuses_when_paused_and_starts_again_when_resumed(practice):
    services.practice_pause(competition_id=practice.competition.pk, paused=True)
    with pytest.raises(PracticeRefused, match="paused"):
        start(practice)
    services.practice_pause(competition_id=practice.competition.pk, paused=False)
    assert start(practice).round.status == Round.Status.RUNNING


def test_it_refuses_an_unhealthy_bot_and_accepts_a_healthy_one(practice):
    BotHealthCheck.objects.create(bot=practice.rogue_bot, ok=False, error_kind="timeout")
    with pytest.raises(PracticeRefused, match="failed its last health check"):
        start(practice)
    BotHealthCheck.objects.create(bot=practice.rogue_bot, ok=True)
    assert start(practice)


def test_it_refuses_a_member_who_is_not_an_owner_and_accepts_the_owner(practice):
    with pytest.raises(PracticeRefused, match="owner"):
        start(practice, user=practice.mallory)
    with pytest.raises(PracticeRefused, match="owner"):
        start(practice, user=practice.carl)
    assert start(practice, user=practice.alice)


def test_it_refuses_an_opponent_not_open_for_practice_until_its_team_opts_in(practice):
    with pytest.raises(PracticeRefused, match="not open for practice"):
        start(practice, opponent=practice.aegis_bot)
    services.practice_opt_in_set(
        user=practice.dave, competition_id=practice.competition.pk, bot_id=practice.aegis_bot.pk, opted_in=True
    )
    assert start(practice, opponent=practice.aegis_bot)


def test_it_never_publishes_a_practice_match(practice):
    match = start(practice)
    with pytest.raises(lifecycle.RoundTransitionError, match="never published"):
        lifecycle.round_publish(round_id=match.round.pk)


def test_it_offers_a_rounds_conversations_before_a_practice_matchs(practice, farm):
    from datetime import timedelta

    from django.utils import timezone

    from competition.models import PlayerLease

    # A live lease elsewhere keeps the inline tasks from playing, so both wait to be claimed.
    PlayerLease.objects.create(name="rounds", holder="elsewhere", expires_at=timezone.now() + timedelta(minutes=1))
    match = start(practice)
    lifecycle.round_start(round_id=practice.round.pk)
    candidates = claim_candidates(exclude_ids=[], limit=100)
    kinds = list(
        Conversation.objects.filter(pk__in=[row[0] for row in candidates]).values_list("pk", "match__round__kind")
    )
    by_pk = dict(kinds)
    order = [by_pk[row[0]] for row in candidates]
    assert order == sorted(order, key=lambda kind: kind == Round.Kind.PRACTICE_MATCH)
    assert order[-1] == Round.Kind.PRACTICE_MATCH and order[0] == Round.Kind.ROUND
    assert match.round.pk in Conversation.objects.filter(pk=candidates[-1][0]).values_list("match__round", flat=True)


def test_it_keeps_the_bots_concurrency_limit_with_a_round_beside(practice, farm):
    practice.bastion_bot.max_concurrency = 2
    practice.bastion_bot.save()
    for path in ("/bot/rogue", "/bot/crimson", "/bot/bastion", "/bot/aegis"):
        farm.behaviours[path].latency = 0.03
    from datetime import timedelta

    from django.utils import timezone

    from competition.models import PlayerLease

    lease = PlayerLease.objects.create(
        name="rounds", holder="elsewhere", expires_at=timezone.now() + timedelta(minutes=1)
    )
    practice.round.conversations_per_pair = 3
    practice.round.save()
    lifecycle.round_start(round_id=practice.round.pk)
    start(practice)
    start(practice, user=practice.carl, bot=practice.crimson_bot)
    lease.delete()
    RoundPlayer().run()
    assert farm.peak["/bot/bastion"] == 2
    assert not Conversation.objects.unfinished().exists()


def test_it_claims_a_practice_conversation_only_for_bots_no_rounds_conversation_waits_for():
    from collections import Counter

    from competition.pipeline.player.claiming import candidates_choose

    # (id, attacker, defender, limits, practice): bot 10 has a round's conversation waiting, bot 11 not.
    candidates = [(1, 10, 20, 4, 4, 0), (2, 10, 21, 4, 4, 1), (3, 11, 22, 4, 4, 1)]
    chosen = candidates_choose(candidates=candidates, claimed=Counter(), room=10, slots=lambda bot, limit: limit)
    assert chosen == [1, 3]
    # Without the round's conversation, the practice one of bot 10 is claimed.
    chosen = candidates_choose(candidates=candidates[1:], claimed=Counter(), room=10, slots=lambda bot, limit: limit)
    assert chosen == [2, 3]


def test_it_claims_a_rounds_conversations_whatever_practice_the_player_holds():
    from collections import Counter

    from competition.pipeline.player.claiming import HELD_PER_SLOT, candidates_choose

    # Bot 10 (1 slot) is already in 5 practice conversations, a full share: a round's conversation
    # of it is still claimed, another practice one is not.
    full = Counter({10: HELD_PER_SLOT, 30: HELD_PER_SLOT})
    candidates = [(1, 10, 20, 1, 1, 0), (2, 11, 10, 1, 1, 1)]
    one_slot = lambda bot, limit: 1  # noqa: E731
    chosen = candidates_choose(candidates=candidates, claimed=Counter(), practice_claimed=full, room=10, slots=one_slot)
    assert chosen == [1]
    # And practice is never claimed past the share that the rounds' conversations in hand fill.
    assert candidates_choose(candidates=candidates[1:], claimed=full, room=10, slots=one_slot) == []
    assert candidates_choose(candidates=candidates[1:], claimed=Counter(), room=10, slots=one_slot) == [2]


def test_it_starts_no_practice_call_to_a_bot_while_a_rounds_conversation_of_it_is_in_hand():
    from competition.pipeline.player.dispatch import Dispatcher, InHand, Playing
    from competition.pipeline.player.slots import SlotShare

    share = SlotShare(holder="player", seconds=10)
    share.limits_set({7: 4})
    share.held[7] = {0, 1, 2, 3}
    in_hand = InHand()
    calls = Dispatcher(max_calls_in_flight=8, share=share, in_hand=in_hand)
    share.busy[7] = 3
    assert calls.practice_room(7)  # no round's conversation of bot 7: practice takes its free slot
    share.busy[7] = 4
    assert not calls.practice_room(7)  # and never past its limit
    share.busy[7] = 0
    round_conversation = Playing(state=None, attacker_bot_id=9, defender_bot_id=7)
    in_hand.add(round_conversation)
    assert not calls.practice_room(7) and calls.share.has_room(7)  # the round's, even with every slot free
    in_hand.add(Playing(state=None, attacker_bot_id=9, defender_bot_id=7, practice=True))
    in_hand.remove(round_conversation)
    assert calls.practice_room(7)  # practice in hand does not hold practice back


def test_it_gives_a_rounds_calls_the_bot_before_a_practice_match_already_playing(transactional_db, farm, settings):
    """A practice match is playing when the round starts: once the player holds the round's
    conversations, the defender (one call at a time) serves their calls and no practice call but
    the one it may be answering then, and the practice match plays on after them."""
    import threading
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from competition.models import PlayerLease
    from tests import cast

    settings.ARENA_ALLOW_PRIVATE_URLS = True
    arena = cast.build(bot_url=f"{farm.base_url}/bot")
    arena.bastion_bot.max_concurrency = 1
    arena.bastion_bot.save()
    services.practice_policy_set(
        competition_id=arena.competition.pk, daily_conversations=20, conversations_per_match=6, max_turns=4
    )
    services.practice_opponents_set(competition_id=arena.competition.pk, bot_ids=[arena.bastion_bot.pk])
    arena.round.conversations_per_pair = 2
    arena.round.max_turns = 2
    arena.round.save()
    # Tasks run inline: a lease held elsewhere keeps the start's own player from playing it there.
    lease = PlayerLease.objects.create(
        name="rounds", holder="elsewhere", expires_at=timezone.now() + timedelta(minutes=1)
    )
    match = start(arena)
    lease.delete()

    arrivals: list[tuple[str, int]] = []  # (path, index in farm.requests[path]) in the order calls came
    lock = threading.Lock()

    def arrived(path: str, calls: int) -> None:
        with lock:
            arrivals.append((path, calls - 1))
        if path == "/bot/bastion" and calls == 3:  # the organizer starts the round while the practice match plays
            lifecycle.round_start(round_id=arena.round.pk)
            connection.close()

    for path in ("/bot/rogue", "/bot/crimson", "/bot/bastion", "/bot/aegis"):
        farm.behaviours[path].latency = 0.1 if path == "/bot/bastion" else 0.05
        farm.behaviours[path].on_call = lambda calls, path=path: arrived(path, calls)
    RoundPlayer().run()

    def uuids(**filters) -> set[str]:
        return {str(uuid) for uuid in Conversation.objects.filter(**filters).values_list("uuid", flat=True)}

    practice = uuids(match__round=match.round)
    rounds_at_bastion = uuids(match__round=arena.round, match__defender=arena.bastion_bot)
    calls = [(path, farm.requests[path][index]["conversation_id"]) for path, index in arrivals]
    bastion = [("practice" if c in practice else "round", c) for path, c in calls if path == "/bot/bastion"]
    kinds = [kind for kind, _ in bastion]
    first, last = kinds.index("round"), len(kinds) - 1 - kinds[::-1].index("round")
    assert kinds[first : last + 1] == ["round"] * 8  # 2 attackers x 2 conversations x 2 exchanges, in a row
    # The practice conversations bastion was playing when the round started waited for the round's
    # calls, and played on after them.
    assert {c for _, c in bastion[:first]} & {c for _, c in bastion[last + 1 :]}
    # Once the round's conversations with bastion are in the player's hand (by their first attacker
    # call), bastion answers at most the practice call it was answering then before theirs.
    in_hand = next(i for i, (_, conversation) in enumerate(calls) if conversation in rounds_at_bastion)
    assert kinds.index("round") - sum(1 for path, _ in calls[:in_hand] if path == "/bot/bastion") <= 1
    assert len(calls) == 2 * (8 * 2 + 6 * 4)
    assert farm.peak["/bot/bastion"] == 1
    assert not Conversation.objects.unfinished().exists()
