"""The pages of a round an organizer watches: the competition's rounds list and the progress page."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from competition.models import Round
from tests import cast
from tests.browser.screen import horizontal_overflow


def round_in(round_: Round, status: str) -> Round:
    Round.objects.filter(pk=round_.pk).update(
        status=status, started_at=timezone.now(), frozen_settings={"max_turns": round_.max_turns}
    )
    round_.refresh_from_db()
    return round_


def test_it_shows_a_started_round_read_only_on_a_competition_page_that_fits_1280_px(page_as, live_server, db):
    arena = cast.build()
    round_in(arena.round, Round.Status.PUBLISHED)
    Round.objects.create(competition=arena.competition, number=2, name="Tournament 2", slug="tournament-2")
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:competition_competition_change", args=[arena.competition.pk]))

    assert horizontal_overflow(page) == 0
    assert page.locator("#id_rounds-0-number").is_disabled()
    assert page.locator("#id_rounds-0-practice").is_disabled()
    assert page.locator("#id_rounds-1-number").is_enabled()


def partial_requests(page, seconds: float) -> int:
    seen = []
    page.on("request", lambda request: seen.append(request.url) if "partial=1" in request.url else None)
    page.wait_for_timeout(seconds * 1000)
    return len(seen)


def test_it_stops_refreshing_the_progress_page_of_a_scored_round(page_as, live_server, db):
    arena = cast.build()
    round_in(arena.round, Round.Status.SCORED)
    page = page_as("olivia")
    page.goto(live_server.url + reverse("round-progress", args=[arena.round.pk]))

    assert page.title() == "Trusted AI 2026 · Tournament 1 · progress"
    assert "trusted-ai-2026" not in page.title()
    assert partial_requests(page, 3.5) == 0
    page.get_by_role("link", name="The round's conversations").click()
    assert page.url.endswith(f"?match__round__id__exact={arena.round.pk}")
    assert "Select conversation" in page.content()


def test_it_refreshes_a_running_rounds_progress_until_it_is_scored(page_as, live_server, db):
    arena = cast.build()
    round_in(arena.round, Round.Status.RUNNING)
    page = page_as("olivia")
    page.goto(live_server.url + reverse("round-progress", args=[arena.round.pk]))
    assert partial_requests(page, 3.5) >= 1

    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.SCORED)
    page.locator("[data-settled=true]").wait_for(state="attached", timeout=10_000)
    assert partial_requests(page, 3.5) == 0
    assert "nothing here changes" in page.locator("#refresh-note").inner_text()
