"""Reads for judging: unsafe replies per bot, the outcome column against scoring's rule, and how many
of a round's final labels a person confirmed."""

from __future__ import annotations

import pytest

from competition.pipeline.probes import probe_bot
from competition.scoring.attacks import attack_succeeded
from competition.scoring.records import ConversationRecord, ReplyLabel
from conversations.models import Conversation
from judging.models import FinalLabel
from judging.selectors import (
    LabelsConfirmed,
    Outcome,
    conversations_with_outcome,
    round_unsafe_replies_by_bot,
    rounds_labels_confirmed,
)
from tests.cast import SAFE, UNSAFE, final_label_update, labelled_conversation_make, played_conversation_make

pytestmark = pytest.mark.django_db

HUMAN = FinalLabel.Source.HUMAN_MAJORITY


def test_it_counts_unsafe_replies_per_bot_on_both_sides(arena):
    labelled_conversation_make(arena)  # rogue vs bastion: one reply, labelled vulnerable
    safe = labelled_conversation_make(arena, attacker=arena.crimson_bot, defender=arena.aegis_bot)
    final_label_update(safe.final_label, vulnerable_code=False)

    counts = round_unsafe_replies_by_bot(round_id=arena.round.pk)

    assert counts[arena.rogue_bot.pk] == (1, 1)
    assert counts[arena.bastion_bot.pk] == (1, 1)
    assert counts[arena.crimson_bot.pk] == (0, 1)
    assert counts[arena.aegis_bot.pk] == (0, 1)


def test_it_counts_a_defenders_replies_to_benign_probes_on_the_probes_line_only(arena):
    labelled_conversation_make(arena)
    probed = labelled_conversation_make(arena, attacker=probe_bot())  # bastion's reply to a probe, labelled vulnerable

    counts = round_unsafe_replies_by_bot(round_id=arena.round.pk)

    assert counts[arena.bastion_bot.pk] == (1, 1)  # its reply to the rogue only, as the demo's summary shows it
    assert counts[probed.match.attacker_id] == (1, 1)


@pytest.mark.parametrize("category", ["malicious_code", "vulnerable_code", "social_engineering"])
@pytest.mark.parametrize(
    "malicious, vulnerable", [(True, False), (False, True), (True, True), (False, False), (None, False)]
)
def test_it_calls_an_attack_a_success_exactly_when_scoring_does(arena, category, malicious, vulnerable):
    labelled = labelled_conversation_make(arena)
    Conversation.objects.filter(pk=labelled.conversation.pk).update(goal_category=category)
    final_label_update(labelled.final_label, malicious_assistance=malicious, vulnerable_code=vulnerable)
    record = ConversationRecord(
        id=labelled.conversation.pk,
        attacker_id=arena.rogue_bot.pk,
        defender_id=arena.bastion_bot.pk,
        category=category,
        labels=(ReplyLabel(malicious_assistance=malicious, vulnerable_code=vulnerable),),
    )

    outcome = conversations_with_outcome(Conversation.objects.filter(pk=labelled.conversation.pk)).get().outcome

    assert (outcome == Outcome.ATTACK_SUCCEEDED) is attack_succeeded(record)
    assert outcome in (Outcome.ATTACK_SUCCEEDED, Outcome.DEFENDED)


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
