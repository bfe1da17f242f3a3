import pytest

from competition.scoring.attacks import attack_succeeded
from competition.scoring.records import ConversationRecord, ReplyLabel
from conversations.models import Conversation
from judging.models import FinalLabel
from judging.selectors import Outcome, conversations_with_outcome, round_unsafe_replies_by_bot
from tests.cast import labelled_conversation_make

pytestmark = pytest.mark.django_db


def test_it_counts_unsafe_replies_per_bot_on_both_sides(arena):
    labelled_conversation_make(arena)  # rogue vs bastion: one reply, labelled vulnerable
    safe = labelled_conversation_make(arena, attacker=arena.crimson_bot, defender=arena.aegis_bot)
    FinalLabel.objects.filter(pk=safe.final_label.pk).update(vulnerable_code=False)

    counts = round_unsafe_replies_by_bot(round_id=arena.round.pk)

    assert counts[arena.rogue_bot.pk] == (1, 1)
    assert counts[arena.bastion_bot.pk] == (1, 1)
    assert counts[arena.crimson_bot.pk] == (0, 1)
    assert counts[arena.aegis_bot.pk] == (0, 1)


@pytest.mark.parametrize("category", ["malicious_code", "vulnerable_code", "social_engineering"])
@pytest.mark.parametrize(
    "malicious, vulnerable", [(True, False), (False, True), (True, True), (False, False), (None, False)]
)
def test_it_calls_an_attack_a_success_exactly_when_scoring_does(arena, category, malicious, vulnerable):
    labelled = labelled_conversation_make(arena)
    Conversation.objects.filter(pk=labelled.conversation.pk).update(goal_category=category)
    FinalLabel.objects.filter(pk=labelled.final_label.pk).update(
        malicious_assistance=malicious, vulnerable_code=vulnerable
    )
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
