"""The buttons of a round's own admin page: each move the lifecycle allows now, through the service its
bulk action calls, for those who may change rounds; refusals reach the organizer as error messages."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from competition.models import Round
from competition.pipeline import lifecycle
from conversations.models import Conversation
from tests.cast import reader_make

pytestmark = pytest.mark.django_db

BUTTONS = ("start", "pause", "resume", "rerun", "publish", "cancel")


def page_url(round_: Round) -> str:
    return reverse("admin:competition_round_change", args=[round_.pk])


def move_url(round_: Round, button: str) -> str:
    return reverse("admin:competition_round_move", args=[round_.pk, button])


def buttons_on(page: str) -> set[str]:
    """The moves the page offers: the buttons' forms, by the last part of their address."""
    return set(re.findall(r'<form method="post" action="/admin/competition/round/\d+/move/([a-z]+)/"', page))


def status_set(round_: Round, status: str) -> None:
    Round.objects.filter(pk=round_.pk).update(status=status)
    round_.refresh_from_db()


def test_it_starts_a_draft_round_from_its_page(client, arena):
    client.force_login(arena.olivia)
    page = client.get(page_url(arena.round)).content.decode()
    assert buttons_on(page) == {"start", "cancel"}
    answer = client.post(move_url(arena.round, "start"), follow=True)
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.RUNNING
    assert answer.redirect_chain[-1][0] == page_url(arena.round)
    assert "trusted-ai-2026 / Tournament 1 started." in answer.content.decode()
    # Its next moves, now that it runs: pause or cancel, and never start again.
    assert buttons_on(answer.content.decode()) == {"pause", "cancel"}


@pytest.mark.parametrize(
    "status, shown",
    [
        ("draft", {"start", "cancel"}),
        ("scheduled", {"start", "cancel"}),
        ("running", {"pause", "cancel"}),
        ("paused", {"resume", "cancel"}),
        ("judging", {"cancel"}),
        ("scored", {"publish"}),
        ("published", set()),
        ("cancelled", set()),
    ],
)
def test_it_shows_only_the_moves_the_lifecycle_allows_from_each_status(client, arena, status, shown):
    status_set(arena.round, status)
    client.force_login(arena.olivia)
    assert buttons_on(client.get(page_url(arena.round)).content.decode()) == shown


def test_it_shows_every_shown_move_as_one_the_service_makes(client, arena):
    """Shown exactly when possible: from each status, a shown button's move happens, a hidden one's is refused."""
    client.force_login(arena.olivia)
    lifecycle.round_start(round_id=arena.round.pk)
    for status in ("running", "paused", "scored"):
        status_set(arena.round, status)
        shown = buttons_on(client.get(page_url(arena.round)).content.decode())
        for button in set(BUTTONS) - {"rerun"}:
            status_set(arena.round, status)
            client.post(move_url(arena.round, button), {"confirm": "yes"})
            arena.round.refresh_from_db()
            assert (arena.round.status != status) == (button in shown), (status, button)


def test_it_shows_the_services_refusal_as_an_error_when_the_round_moved_on(client, arena):
    """A page left open: the round was started meanwhile, so Start is refused, saying why."""
    client.force_login(arena.olivia)
    lifecycle.round_start(round_id=arena.round.pk)
    answer = client.post(move_url(arena.round, "start"), follow=True)
    page = answer.content.decode()
    refusal = "trusted-ai-2026 / Tournament 1 is running; only draft or scheduled rounds start"
    assert f'<li class="error">{refusal}</li>' in page
    assert "started." not in page
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.RUNNING


def test_it_says_why_a_round_cannot_start_without_bots(client, arena):
    from competition.entries.models import Entry

    Entry.objects.filter(competition=arena.competition, team__side="defender").delete()
    client.force_login(arena.olivia)
    page = client.post(move_url(arena.round, "start"), follow=True).content.decode()
    assert "needs at least one active attacker bot and one active defender bot" in page
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.DRAFT


def test_it_pauses_and_resumes_a_round_from_its_page(client, arena):
    client.force_login(arena.olivia)
    lifecycle.round_start(round_id=arena.round.pk)
    assert "Tournament 1 paused." in client.post(move_url(arena.round, "pause"), follow=True).content.decode()
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.PAUSED
    assert "Tournament 1 resumed." in client.post(move_url(arena.round, "resume"), follow=True).content.decode()
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.RUNNING


def test_it_offers_the_rerun_only_while_failed_conversations_wait_and_reruns_them(client, arena):
    client.force_login(arena.olivia)
    lifecycle.round_start(round_id=arena.round.pk)
    status_set(arena.round, "scored")
    assert "rerun" not in buttons_on(client.get(page_url(arena.round)).content.decode())
    Conversation.objects.filter(match__defender=arena.aegis_bot).update(
        status="failed", failure_side="defender", failure_kind="circuit_open", failure_detail="401"
    )
    assert "rerun" in buttons_on(client.get(page_url(arena.round)).content.decode())
    page = client.post(move_url(arena.round, "rerun"), follow=True).content.decode()
    assert "Tournament 1: 2 failed conversations put back to play" in page
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.RUNNING
    assert not Conversation.objects.filter(match__round=arena.round, status="failed").exists()


def test_it_shows_the_standings_before_publishing_and_publishes_on_confirmation(client, scored):
    arena = scored
    client.force_login(arena.olivia)
    question = client.post(move_url(arena.round, "publish"))
    page = question.content.decode()
    assert question.status_code == 200
    assert "Publishing shows these standings to the teams" in page
    assert "Red Rogues" in page and "Attackers" in page  # the standings table the teams will see
    assert 'name="confirm" value="yes"' in page
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.SCORED  # asked, not done
    done = client.post(move_url(arena.round, "publish"), {"confirm": "yes"}, follow=True)
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.PUBLISHED
    assert "Tournament 1 published." in done.content.decode()


def test_it_asks_before_cancelling_a_round(client, arena):
    client.force_login(arena.olivia)
    page = client.post(move_url(arena.round, "cancel")).content.decode()
    assert "Cancel this round? Its unfinished conversations are cancelled" in page
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.DRAFT
    client.post(move_url(arena.round, "cancel"), {"confirm": "yes"})
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.CANCELLED


def test_it_records_the_move_in_the_rounds_history_with_who_made_it(client, arena):
    client.force_login(arena.olivia)
    client.post(move_url(arena.round, "start"))
    record = arena.round.history.order_by("-history_id").first()
    assert record.history_change_reason == "Round action: started"
    assert record.history_user == arena.olivia


def test_it_shows_no_button_to_a_reader_and_refuses_the_move(client, arena):
    reader = reader_make("rita", "competition.view_round")
    client.force_login(reader)
    page = client.get(page_url(arena.round))
    assert page.status_code == 200  # the reader sees the round ...
    assert buttons_on(page.content.decode()) == set()  # ... and no move
    assert client.post(move_url(arena.round, "start")).status_code == 403
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.DRAFT


def test_it_refuses_the_moves_to_an_annotator_and_a_team_member(client, arena):
    for person in (arena.annie, arena.alice):
        client.force_login(person)
        answer = client.post(move_url(arena.round, "start"))
        assert answer.status_code in (302, 403)  # a team member is sent to the admin's login
        if answer.status_code == 302:
            assert answer["Location"].startswith(reverse("admin:login"))
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.DRAFT


def test_it_moves_only_on_a_post_with_the_csrf_token(arena):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(arena.olivia)
    page = browser.get(page_url(arena.round)).content.decode()
    form = r'action="[^"]+/move/start/" class="arena-move"><input type="hidden" name="csrfmiddlewaretoken"'
    assert re.search(form, page)
    assert browser.get(move_url(arena.round, "start")).status_code == 405
    assert browser.post(move_url(arena.round, "start")).status_code == 403  # no token
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.DRAFT


def test_it_answers_404_for_an_unknown_button_or_round(client, arena):
    client.force_login(arena.olivia)
    assert client.post(reverse("admin:competition_round_move", args=[arena.round.pk, "explode"])).status_code == 404
    assert client.post(reverse("admin:competition_round_move", args=[987654, "start"])).status_code == 404
