"""The transcript as an organizer reads it: turns named by number and side, the vote explained,
safe labels neutral, and nothing to scroll sideways at 1280 px."""

from __future__ import annotations

from django.urls import reverse

from tests import cast
from tests.browser.screen import horizontal_overflow


def test_it_names_turns_and_explains_the_vote_on_a_page_that_fits(page_as, live_server, db):
    labelled = cast.labelled_conversation_make(cast.build())
    labelled.final_label.detail = {
        "vulnerable_code": {
            "value": True,
            "source": "judge_ensemble",
            "rows": ["verdict:1 (rules v1)"],
            "vote": "1-0 weighted",
        }
    }
    labelled.final_label.save()
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:judging_judgedconversation_transcript", args=[labelled.conversation.pk]))

    assert page.locator("#turn-1 .tr-speaker").inner_text() == "Turn 1 · Defender"
    assert page.locator("#turn-0 .tr-speaker").inner_text() == "Turn 0 · Attacker"
    assert page.locator(".tr-vote-note").is_visible()
    assert horizontal_overflow(page) == 0
