"""At 1280 px the admin pages an organizer opens first fit the window, and what is wider than its box
(a standings table) scrolls inside that box, so every column can be reached."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from competition.models import Entry, Round
from tests import cast
from tests.browser.screen import clipped_sideways, horizontal_overflow, in_viewport
from tests.test_permissions import admin_url


@pytest.fixture
def standings_round(db) -> cast.Cast:
    """The cast's round, scored, with a standing for each of its four bots."""
    arena = cast.build()
    cast.labelled_conversation_make(arena)
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.SCORED)
    for rank, bot in enumerate(arena.attacker_bots + arena.defender_bots, start=1):
        cast.standing_make(
            arena.round, bot, rank=rank, score=0.5, rating=1000.0, lower=900.0, upper=1100.0, availability=0.75
        )
    return arena


def column_reachable(page, locator) -> bool:
    """Whether a person can bring the element into the window by scrolling (the page or its box)."""
    if clipped_sideways(page, locator):
        return False
    locator.scroll_into_view_if_needed()
    return in_viewport(page, locator)


def test_it_lets_every_standings_column_be_reached_on_the_round_page(page_as, live_server, standings_round):
    page = page_as("olivia")
    page.goto(live_server.url + admin_url(standings_round.round, "change"))
    for header in ("Similarity", "Reference share", "Availability (calls answered / failed)", "Games"):
        assert column_reachable(page, page.locator("th", has_text=header).first), header
    assert horizontal_overflow(page) == 0


def test_it_fits_a_demo_sized_standings_table_in_the_round_page_at_1280_px(page_as, live_server, standings_round):
    """The demo's round (teams named like "Stage Actors / roleplay", two goal categories): its
    standings fit the round's page without scrolling the tables sideways."""
    categories = {
        name: {"conversations": 3, "successes": 1, "counted_successes": 1, "rate": 0.333}
        for name in ("malicious_code", "vulnerable_code")
    }
    for standing in standings_round.round.standings.all():
        standing.inputs = standing.inputs | {"categories": categories, "similarity": 0.132, "games": 6}
        standing.save(update_fields=["inputs"])
    page = page_as("olivia")
    page.goto(live_server.url + admin_url(standings_round.round, "change"))
    boxes = page.evaluate("[...document.querySelectorAll('.arena-wide')].map(box => box.scrollWidth - box.clientWidth)")
    assert boxes and boxes == [0] * len(boxes)


def test_it_fits_the_publish_preview_at_1280_px(page_as, live_server, standings_round):
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:competition_round_changelist"))
    page.locator(f"input[name=_selected_action][value='{standings_round.round.pk}']").check()
    page.select_option("select[name=action]", "publish_rounds")
    page.get_by_role("button", name="Go").click()
    page.get_by_text("Publishing shows these standings to the teams").wait_for()
    assert horizontal_overflow(page) == 0
    assert column_reachable(page, page.locator("th", has_text="Games").first)


def test_it_fits_every_admin_change_page_with_inlines_at_1280_px(page_as, live_server, standings_round):
    labelled = cast.labelled_conversation_make(standings_round, attacker=standings_round.crimson_bot)
    entry = Entry.objects.filter(team=standings_round.rogues).first()  # the cast enters every team
    objects = [standings_round.rogues, standings_round.competition, standings_round.round, labelled.conversation, entry]
    with_inlines = {model for model, model_admin in admin.site._registry.items() if model_admin.inlines}
    assert with_inlines == {type(obj) for obj in objects}, "an admin with inlines has no object in this walk"
    page = page_as("olivia")
    too_wide = {}
    for obj in objects:
        page.goto(live_server.url + admin_url(obj, "change"))
        if horizontal_overflow(page):
            too_wide[type(obj).__name__] = horizontal_overflow(page)
    assert too_wide == {}
