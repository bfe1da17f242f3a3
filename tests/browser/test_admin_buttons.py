"""The organizer's second week in the admin, in a browser: a competition file checked then loaded from
the Competitions list, a round moved by the buttons on its own page, a campaign built from its page."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import expect

from competition.models import Competition, Round
from judging.models import AnnotationCampaign
from tests import cast
from tests.browser.screen import horizontal_overflow
from tests.competition.competition_files import GOOD
from tests.judging.annotation.campaign_cast import annotators_make, campaign_make, replies_make


def move_buttons(page) -> list[str]:
    """The buttons of the object's page, as written (CSS draws them in capitals)."""
    return [text.strip() for text in page.locator("form.arena-move button").all_text_contents()]


def said(page, text: str, kind: str = "success") -> None:
    """The admin message of the page a click led to (waits for that page, as actions do)."""
    expect(page.locator(f".messagelist .{kind}")).to_have_text(text)


def test_it_walks_an_organizer_from_a_competition_file_to_a_cancelled_round(page_as, live_server, settings):
    # No player runs, so the started round stays running while the organizer pauses and resumes it.
    settings.ARENA_PLAYERS = 0
    arena = cast.build()
    page = page_as(arena.olivia)
    page.goto(live_server.url + reverse("admin:competition_competition_changelist"))
    page.get_by_role("link", name="Load a competition file").click()

    page.set_input_files("input[type=file]", str(GOOD))
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name="What loading good.yaml would do")).to_be_visible()
    expect(page.locator("#competition-file-report")).to_contain_text("team 'red-team': created")
    assert not Competition.objects.filter(slug="test-cup").exists()  # a check changes nothing
    page.get_by_role("button", name="Load it").click()
    expect(page.locator("h2").first).to_have_text("Loaded good.yaml: competition Test Cup")
    expect(page.locator("#competition-file-secrets tbody tr")).to_have_count(4)  # each new bot's secret, once

    warm_up = Round.objects.get(competition__slug="test-cup", number=1)
    page.goto(live_server.url + reverse("admin:competition_round_change", args=[warm_up.pk]))
    assert move_buttons(page) == ["Start", "Cancel round"]
    assert horizontal_overflow(page) == 0
    page.get_by_role("button", name="Start", exact=True).click()
    said(page, "test-cup / Warm-up started.")
    assert move_buttons(page) == ["Pause", "Cancel round"]
    page.get_by_role("button", name="Pause").click()
    said(page, "test-cup / Warm-up paused.")
    assert move_buttons(page) == ["Resume", "Cancel round"]
    page.get_by_role("button", name="Resume").click()
    said(page, "test-cup / Warm-up resumed.")

    page.get_by_role("button", name="Cancel round").click()  # asks first
    expect(page.locator(".move-question")).to_contain_text("Its unfinished conversations are cancelled")
    warm_up.refresh_from_db()
    assert warm_up.status == Round.Status.RUNNING
    page.get_by_role("button", name="Cancel round").click()
    said(page, "test-cup / Warm-up cancelled.")
    assert move_buttons(page) == []
    warm_up.refresh_from_db()
    assert warm_up.status == Round.Status.CANCELLED


def test_it_publishes_a_scored_round_from_its_page_after_showing_the_standings(page_as, live_server):
    arena = cast.build()
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.SCORED)
    page = page_as(arena.olivia)
    page.goto(live_server.url + reverse("admin:competition_round_change", args=[arena.round.pk]))
    assert move_buttons(page) == ["Publish"]
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".move-question")).to_contain_text("Publishing shows these standings to the teams")
    page.get_by_role("button", name="Publish").click()
    said(page, "trusted-ai-2026 / Tournament 1 published.")
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.PUBLISHED


def test_it_shows_a_reader_the_round_without_a_button(page_as, live_server):
    arena = cast.build()
    reader = cast.reader_make("rita", "competition.view_round")
    page = page_as(reader)
    page.goto(live_server.url + reverse("admin:competition_round_change", args=[arena.round.pk]))
    expect(page.get_by_role("heading", name="trusted-ai-2026 / Tournament 1")).to_be_visible()
    assert move_buttons(page) == []


def test_it_builds_a_campaign_from_its_page_and_says_why_when_it_cannot(page_as, live_server):
    arena = cast.build()
    replies_make(arena, per_stratum=1)
    campaign = campaign_make(arena, [arena.annie, *annotators_make("ann2")], overlap=3)
    page = page_as(arena.olivia)
    page.goto(live_server.url + reverse("admin:judging_annotationcampaign_change", args=[campaign.pk]))
    page.get_by_role("button", name="Build").click()
    refusal = "has 2 active annotator(s): add annotators or lower the overlap"
    expect(page.locator(".messagelist .error")).to_contain_text(refusal)
    AnnotationCampaign.objects.filter(pk=campaign.pk).update(overlap=2)
    page.get_by_role("button", name="Build").click()
    said(page, "Human check: 4 item(s), 8 assignment(s).")
    assert move_buttons(page) == ["Hand inactive annotators' items to others", "Close"]
