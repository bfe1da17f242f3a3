"""The round lifecycle from the admin: each action calls the service; errors reach the organizer."""

import pytest
from django.urls import reverse

from competition.models import Round
from conversations.models import Conversation

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:competition_round_changelist"


def act(client, user, action: str, *rounds):
    client.force_login(user)
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [r.pk for r in rounds]},
        follow=True,
    )


def test_it_starts_a_round_from_the_admin(client, arena):
    answer = act(client, arena.olivia, "start_rounds", arena.round)
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.RUNNING
    assert Conversation.objects.filter(match__round=arena.round).count() == 4
    assert "1 round started." in answer.content.decode()
    assert "(s)" not in answer.content.decode()


def test_it_shows_why_a_round_cannot_resume(client, arena):
    answer = act(client, arena.olivia, "resume_rounds", arena.round)
    assert "only paused rounds resume" in answer.content.decode()
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.DRAFT


def test_it_pauses_cancels_and_links_the_progress_page(client, arena):
    act(client, arena.olivia, "start_rounds", arena.round)
    act(client, arena.olivia, "pause_rounds", arena.round)
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.PAUSED
    page = client.get(reverse("admin:competition_round_change", args=[arena.round.pk])).content.decode()
    assert reverse("round-progress", args=[arena.round.pk]) in page
    act(client, arena.olivia, "cancel_rounds", arena.round)
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.CANCELLED


def test_it_refuses_lifecycle_actions_to_an_annotator(client, arena):
    answer = act(client, arena.annie, "start_rounds", arena.round)
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.DRAFT
    assert answer.status_code == 403


def test_it_shows_the_progress_page_to_organizers_only(client, arena):
    act(client, arena.olivia, "start_rounds", arena.round)
    url = reverse("round-progress", args=[arena.round.pk])
    client.force_login(arena.olivia)
    page = client.get(url)
    assert page.status_code == 200
    assert "0 of 4 conversations finished" in page.content.decode()
    assert client.get(url + "?partial=1").status_code == 200
    client.force_login(arena.alice)
    assert client.get(url).status_code == 302  # team members are sent to the admin login


@pytest.mark.parametrize(
    "status, advice",
    [
        ("judging", "Fix the bot, then re-run the failed conversations"),
        ("scored", "is judged and scored again, its standings revised"),
        ("published", "is published: its conversations are not played again"),
    ],
)
def test_it_advises_on_failed_conversations_what_the_round_allows_now(client, arena, status, advice):
    from django.utils import timezone

    from competition.models import BotCircuit
    from competition.pipeline import lifecycle
    from conversations.models import Conversation

    lifecycle.round_start(round_id=arena.round.pk)
    Conversation.objects.filter(match__defender=arena.aegis_bot).update(
        status="failed", failure_side="defender", failure_kind="circuit_open", failure_detail="401"
    )
    BotCircuit.objects.create(round=arena.round, bot=arena.aegis_bot, opened_at=timezone.now(), reason="401")
    Round.objects.filter(pk=arena.round.pk).update(status=status)
    client.force_login(arena.olivia)
    page = client.get(reverse("round-progress", args=[arena.round.pk])).content.decode()
    assert advice in page
    if status == "published":
        assert "re-run" not in page.lower()
