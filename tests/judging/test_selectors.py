import pytest

from judging.models import FinalLabel
from judging.selectors import round_unsafe_replies_by_bot
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
