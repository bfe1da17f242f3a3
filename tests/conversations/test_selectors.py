"""Reads about a round's conversations: its matches, conversations and benign probes counted apart,
in the words every page and the demo use; who reads which conversations (conversations_visible_to)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from competition.models import Round
from conversations import selectors
from conversations.models import Conversation
from conversations.selectors import round_bot_summaries, round_counts, round_progress
from tests.cast import played_conversation_make
from tests.test_isolation import practice_make

pytestmark = pytest.mark.django_db


def test_it_counts_a_rounds_matches_conversations_and_benign_probes_apart(started):
    counts = round_counts(round_id=started.round.pk)

    assert (counts.matches, counts.conversations, counts.probe_matches, counts.probes) == (4, 4, 2, 4)
    assert (counts.conversations_finished, counts.probes_finished) == (2, 2)
    assert counts.text() == "4 matches, 4 conversations and 4 benign probes"
    assert round_progress(round_id=started.round.pk).counted == counts


def test_it_leaves_the_benign_probes_out_of_a_defenders_summary_and_counts_them_on_the_probes_line(started):
    summaries = {(row.bot.name, row.side): row for row in round_bot_summaries(round_id=started.round.pk)}

    assert (summaries["aegis", "defender"].conversations, summaries["aegis", "defender"].completed) == (2, 1)
    assert (summaries["benign-probe", "attacker"].conversations, summaries["benign-probe", "attacker"].failed) == (4, 2)


@pytest.mark.parametrize("listed", [2_000, 0])  # the match ids listed in the query, or too many to list
def test_it_lets_everyone_read_the_same_conversations_when_the_match_ids_come_first(arena, monkeypatch, listed):
    monkeypatch.setattr(selectors, "_MATCH_IDS_LISTED", listed)
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.PUBLISHED)
    practice_make(arena)
    played_conversation_make(arena, messages=["hello", "hi"])
    played_conversation_make(arena, messages=["hello", "hi"], attacker=arena.crimson_bot, defender=arena.aegis_bot)
    played_conversation_make(arena, messages=["hidden", "hi"], moderation=Conversation.Moderation.HIDDEN)
    unpublished = Round.objects.create(competition=arena.competition, number=2, name="Later", slug="later")
    played_conversation_make(arena, messages=["later", "hi"], round_=unpublished)
    seen = {}
    for person in (arena.alice, arena.carl, arena.dana, arena.dave, arena.olivia, AnonymousUser()):
        first = set(selectors.conversations_visible_to(user=person, match_ids_first=True).values_list("pk", flat=True))
        assert first == set(selectors.conversations_visible_to(user=person).values_list("pk", flat=True)), person
        seen[str(person)] = len(first)
    # Each reads some and none reads everything but the organizer (a test that would pass on empty sets fails).
    assert seen == {"alice": 2, "carl": 1, "dana": 1, "dave": 1, "olivia": 5, "AnonymousUser": 0}
