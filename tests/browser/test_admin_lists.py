"""At 1280 px every admin list fits the screen, and the links organizers need first are on it."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from competition.models import Round
from tests import cast
from tests.browser.screen import element_overflow, horizontal_overflow, in_viewport


@pytest.fixture
def scored_round(db) -> cast.Labelled:
    """The cast with a labelled conversation in a round that has been played and scored."""
    arena = cast.build()
    labelled = cast.labelled_conversation_make(arena)
    now = timezone.now()
    Round.objects.filter(pk=arena.round.pk).update(
        status=Round.Status.SCORED, started_at=now, scheduled_at=now, frozen_settings={"max_turns": 5}
    )
    return labelled


def test_it_shows_watch_progress_on_the_rounds_list_without_sideways_scrolling(page_as, live_server, scored_round):
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:competition_round_changelist"))
    link = page.get_by_role("link", name="Watch progress")
    assert in_viewport(page, link)
    assert horizontal_overflow(page) == 0
    assert element_overflow(page, "#changelist .results") == 0


def test_it_shows_the_transcript_link_on_the_conversations_list_without_sideways_scrolling(
    page_as, live_server, scored_round
):
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:conversations_conversation_changelist"))
    link = page.get_by_role("link", name="Transcript", exact=True)
    assert in_viewport(page, link)
    assert element_overflow(page, "#changelist .results") == 0


def test_it_fits_every_admin_list_an_organizer_opens_at_1280_px(page_as, live_server, scored_round):
    page = page_as("olivia")
    too_wide = {}
    for model in admin.site._registry:
        if model._meta.app_label == "django_q":  # django-q2's own task pages, not the arena's
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        answer = page.goto(live_server.url + url)
        if answer.status != 200:  # not an organizer's page (e.g. django-q2's task lists need more rights)
            continue
        overflow = max(horizontal_overflow(page), element_overflow(page, "#changelist .results"))
        if overflow:
            too_wide[url] = overflow
    assert too_wide == {}
