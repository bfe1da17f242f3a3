"""One way of naming a turn everywhere: its conversation's short id and its turn number (issue 14,
item 6)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db


def test_it_names_labels_by_their_conversation_and_turn_number(labelled):
    short = labelled.conversation.short_id
    name = f"{short} turn 1 (Defender)"

    assert str(labelled.reply) == name
    assert str(labelled.final_label) == f"Final label of {name}"
    assert str(labelled.verdict).endswith(f"on {name}")
    assert str(labelled.annotation) == f"Annotation by annie on {name}"
    assert str(labelled.reply.pk) not in str(labelled.final_label).replace(short, "")


def test_it_names_the_turn_the_same_way_on_the_label_pages_and_the_transcript(client, arena, labelled):
    client.force_login(arena.olivia)
    short = labelled.conversation.short_id
    final_label_page = client.get(admin_url(labelled.final_label, "change")).content.decode()
    assert f"Final label of {short} turn 1 (Defender)" in final_label_page
    assert f"turn {labelled.reply.pk}" not in final_label_page.replace(f"{short} turn 1", "")

    transcript = client.get(
        reverse("admin:judging_judgedconversation_transcript", args=[labelled.conversation.pk])
    ).content.decode()
    assert "Turn 1 · Defender" in transcript
    assert "Turn 0 · Attacker" in transcript
    assert "Vote (yes-no)" in transcript
    assert "a tie leaves the label to the next source" in transcript
