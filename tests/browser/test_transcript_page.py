"""The transcript as an organizer reads it: turns named by number and side, the vote explained,
safe labels neutral, and nothing to scroll sideways at 1280 px."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import expect

from judging.models import final_label_row
from tests import cast
from tests.browser.screen import horizontal_overflow


def test_it_names_turns_people_and_the_vote_on_a_page_that_fits(page_as, live_server, db):
    arena = cast.build()
    labelled = cast.labelled_conversation_make(arena)
    labelled.final_label.detail = {
        "vulnerable_code": {
            "value": True,
            "source": "judge_ensemble",
            "rows": [final_label_row(labelled.verdict)],
            "vote": "1-0 weighted",
        },
        "severity": {"value": 2, "rows": [final_label_row(labelled.annotation)]},
    }
    labelled.final_label.save()
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:judging_judgedconversation_transcript", args=[labelled.conversation.pk]))

    assert page.locator("#turn-1 .tr-speaker").inner_text() == "Turn 1 · Defender"
    assert page.locator("#turn-0 .tr-speaker").inner_text() == "Turn 0 · Attacker"
    expect(page.locator(".tr-vote-note")).to_be_visible()
    decided_by = page.locator(".tr-final").first.inner_text()
    judge = labelled.verdict.judge
    assert f"{judge.slug} v{labelled.verdict.judge_version}, verdict {labelled.verdict.pk}" in decided_by
    # A person by name, never by user id.
    assert f"annotation by {arena.annie.get_full_name() or arena.annie.username}" in decided_by
    assert horizontal_overflow(page) == 0
