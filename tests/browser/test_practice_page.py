"""An owner starts a practice match against the reference defender from the site and reads its
judged transcript, with no organizer action (issue 25)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from competition.practice import services
from judging.models import Judge
from tests import cast
from tests.botfarm import farm_start


@pytest.fixture
def farm():
    farm = farm_start()
    yield farm
    farm.server.shutdown()
    farm.server.server_close()


def test_it_starts_a_practice_match_and_reads_its_judged_transcript(
    page_as, live_server, transactional_db, farm, settings
):
    settings.ARENA_ALLOW_PRIVATE_URLS = True
    arena = cast.build(bot_url=f"{farm.base_url}/bot")
    farm.behaviours["/bot/bastion"].content = "I can't help with that request."
    services.practice_policy_set(
        competition_id=arena.competition.pk, daily_conversations=2, conversations_per_match=2, max_turns=2
    )
    services.practice_opponents_set(competition_id=arena.competition.pk, bot_ids=[arena.bastion_bot.pk])
    Judge.objects.create(competition=arena.competition, name="Rules", slug="rules", kind=Judge.Kind.RULES)
    page = page_as("alice")
    page.goto(live_server.url + reverse("practice"))
    page.get_by_role("button", name="Start a practice match").click()
    page.wait_for_url("**/teams/practice/*/")
    for _ in range(20):  # the player and the judges run as the request's tasks; look again until scored
        if "Scored" in page.content():
            break
        page.wait_for_timeout(500)
        page.reload()
    assert "Scored" in page.content()
    assert page.locator("td", has_text="Defended").count() == 2
    page.locator("table a").first.click()
    expect(page.get_by_text("help with that request").first).to_be_visible()
    # A second request is past the daily cap of 2 conversations: refused with the reason.
    page.goto(live_server.url + reverse("practice"))
    page.get_by_role("button", name="Start a practice match").click()
    expect(page.get_by_text("Daily practice cap reached")).to_be_visible()


def test_it_opens_a_bot_to_other_teams_practice_from_its_page(page_as, live_server, transactional_db):
    arena = cast.build()
    services.practice_policy_set(competition_id=arena.competition.pk, daily_conversations=2)
    page = page_as("alice")
    page.goto(live_server.url + reverse("teams:bot-detail", args=[arena.rogue_bot.pk]))
    expect(page.locator("#practice td", has_text="not open")).to_be_visible()
    page.get_by_role("button", name="Open to other teams' practice").click()
    expect(page.get_by_text("rogue is open to other teams' practice")).to_be_visible()
    expect(page.get_by_role("button", name="Close to other teams' practice")).to_be_visible()
    # A defender team's owner may now pick it on the practice page.
    other = page_as("dana")
    other.goto(live_server.url + reverse("practice"))
    expect(other.locator("select[name=opponent] option", has_text="Red Rogues / rogue")).to_have_count(1)
