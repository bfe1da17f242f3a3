"""Reads about a round's conversations: its matches, conversations and benign probes counted apart,
in the words every page and the demo use."""

from __future__ import annotations

import pytest

from conversations.selectors import round_bot_summaries, round_counts, round_progress

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
