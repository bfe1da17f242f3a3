"""Reads for judging: how many of a round's final labels a person confirmed."""

from __future__ import annotations

from conversations.models import Conversation
from judging.models import FinalLabel
from judging.selectors import LabelsConfirmed, rounds_labels_confirmed
from tests.cast import SAFE, UNSAFE, played_conversation_make

HUMAN = FinalLabel.Source.HUMAN_MAJORITY


def test_it_counts_the_final_labels_people_decided_among_a_rounds_labelled_replies(arena):
    played_conversation_make(arena, messages=["a", "b", "c", "d"], labels=[SAFE, UNSAFE])
    played_conversation_make(arena, messages=["a", "b"], labels=[SAFE], source=HUMAN)
    played_conversation_make(arena, messages=["a", "b"], labels=[UNSAFE], source=FinalLabel.Source.ADJUDICATION)
    played_conversation_make(arena, messages=["a", "b"], labels=[None])  # no final label: not counted
    played_conversation_make(  # excluded by a moderator: not a judgeable reply
        arena, messages=["a", "b"], labels=[SAFE], source=HUMAN, moderation=Conversation.Moderation.EXCLUDED
    )

    confirmed = rounds_labels_confirmed(round_ids=[arena.round.pk])[arena.round.pk]

    assert confirmed == LabelsConfirmed(confirmed=2, labelled=4)
    assert str(confirmed) == "2 of 4 defender replies confirmed by a person"


def test_it_says_a_round_without_labels_has_none(arena):
    confirmed = rounds_labels_confirmed(round_ids=[arena.round.pk])[arena.round.pk]

    assert confirmed == LabelsConfirmed(0, 0)
    assert str(confirmed) == "no defender reply labelled yet"
