"""Practice on the site, the API and the admin: an owner starts one, the team reads it, another
team gets a 404, a refusal says why, organizers pause practice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from competition.models import PlayerLease, PracticeMatch, PracticePolicy
from competition.practice import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice(arena):
    """Practice open, bastion the reference defender; a live lease elsewhere keeps the inline tasks
    from playing (the bots' addresses answer nothing here)."""
    services.practice_policy_set(competition_id=arena.competition.pk, daily_conversations=2, conversations_per_match=2)
    services.practice_opponents_set(competition_id=arena.competition.pk, bot_ids=[arena.bastion_bot.pk])
    PlayerLease.objects.create(name="rounds", holder="elsewhere", expires_at=timezone.now() + timedelta(minutes=5))
    return arena


def form(arena, bot=None) -> dict:
    return {"competition": arena.competition.pk, "bot": (bot or arena.rogue_bot).pk, "opponent": arena.bastion_bot.pk}


def test_it_starts_a_practice_match_from_the_page_and_shows_it_to_the_team(practice, client):
    client.force_login(practice.alice)
    page = client.get(reverse("practice")).content.decode()
    assert "Start a practice match" in page and "0 of 2" in page
    response = client.post(reverse("practice"), form(practice))
    match = PracticeMatch.objects.get()
    assert response.status_code == 302 and response.url == reverse("practice-match", args=[match.pk])
    assert client.get(response.url).status_code == 200
    client.force_login(practice.mallory)  # a member who is not an owner reads it too
    assert client.get(reverse("practice-match", args=[match.pk])).status_code == 200
    dashboard = client.get(reverse("team-dashboard", args=["red-rogues"])).content.decode()
    assert reverse("practice-match", args=[match.pk]) in dashboard


def test_it_shows_the_refusal_past_the_daily_cap_on_the_page(practice, client):
    client.force_login(practice.alice)
    client.post(reverse("practice"), form(practice))
    response = client.post(reverse("practice"), form(practice))
    assert response.status_code == 400
    assert "Daily practice cap reached: 2 of 2" in response.content.decode()
    assert PracticeMatch.objects.count() == 1


def test_it_hides_a_practice_match_from_another_team_and_refuses_its_bot(practice, client):
    match = services.practice_match_start(
        user=practice.alice,
        competition_id=practice.competition.pk,
        bot_id=practice.rogue_bot.pk,
        opponent_id=practice.bastion_bot.pk,
    )
    for outsider in (practice.carl, practice.dana):  # another attacker team; the opponent's own team
        client.force_login(outsider)
        assert client.get(reverse("practice-match", args=[match.pk])).status_code == 404
        assert client.get(f"/api/practice-matches/{match.pk}/").status_code == 404
        assert client.get("/api/practice-matches/").json()["results"] == []
    client.force_login(practice.carl)
    response = client.post("/api/practice-matches/", form(practice), content_type="application/json")
    assert response.status_code == 400 and "owner" in response.json()["error"]["message"]


def test_it_starts_and_lists_practice_matches_through_the_api(practice, client):
    client.force_login(practice.alice)
    response = client.post("/api/practice-matches/", form(practice), content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["team"] == "red-rogues" and body["status"] == "running" and len(body["conversations"]) == 2
    assert client.get("/api/practice-matches/").json()["results"][0]["id"] == body["id"]
    refused = client.post("/api/practice-matches/", form(practice), content_type="application/json")
    assert refused.status_code == 400 and "Daily practice cap" in refused.json()["error"]["message"]


def test_it_lets_an_organizer_pause_practice_from_the_admin(practice, client):
    client.force_login(practice.olivia)
    policy = PracticePolicy.objects.get()
    response = client.post(
        reverse("admin:competition_practicepolicy_changelist"),
        {"action": "pause_practice", "_selected_action": [policy.pk]},
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.paused
    client.force_login(practice.alice)
    response = client.post("/api/practice-matches/", form(practice), content_type="application/json")
    assert response.status_code == 400 and "paused" in response.json()["error"]["message"]


def test_it_refuses_the_pause_to_a_team_owner_in_the_admin(practice, client):
    client.force_login(practice.alice)
    policy = PracticePolicy.objects.get()
    client.post(
        reverse("admin:competition_practicepolicy_changelist"),
        {"action": "pause_practice", "_selected_action": [policy.pk]},
    )
    policy.refresh_from_db()
    assert not policy.paused


def test_it_lists_every_practice_match_to_organizers_in_the_admin(practice, client):
    services.practice_match_start(
        user=practice.alice,
        competition_id=practice.competition.pk,
        bot_id=practice.rogue_bot.pk,
        opponent_id=practice.bastion_bot.pk,
    )
    client.force_login(practice.olivia)
    page = client.get(reverse("admin:competition_practicematch_changelist"))
    assert page.status_code == 200 and "rogue" in page.content.decode()


def opt_in(client, arena, bot, value: str):
    return client.post(reverse("practice-opt-in", args=[arena.competition.pk, bot.pk]), {"open": value}, follow=True)


def test_it_lets_an_owner_open_the_bot_to_other_teams_practice_from_its_page_and_close_it(practice, client):
    from competition.models import PracticeOpponent
    from competition.practice.selectors import practice_offers

    bot_page = reverse("teams:bot-detail", args=[practice.rogue_bot.pk])
    client.force_login(practice.alice)
    page = client.get(bot_page).content.decode()
    assert "Practice opponent" in page and "not open" in page and "Open to other teams' practice" in page
    response = opt_in(client, practice, practice.rogue_bot, "1")
    assert response.redirect_chain[-1][0] == bot_page + "#practice"
    assert "rogue is open to other teams&#x27; practice" in response.content.decode()
    assert PracticeOpponent.objects.filter(bot=practice.rogue_bot, reference=False).exists()
    assert "Close to other teams' practice" in response.content.decode()
    # A defender team's owner may now pick it as the opponent of a practice match.
    assert practice.rogue_bot in practice_offers(user=practice.dana)[0].opponents
    response = opt_in(client, practice, practice.rogue_bot, "0")
    assert "rogue is closed to other teams&#x27; practice" in response.content.decode()
    assert not PracticeOpponent.objects.filter(bot=practice.rogue_bot).exists()
    assert practice.rogue_bot not in practice_offers(user=practice.dana)[0].opponents


def test_it_shows_a_member_who_is_not_an_owner_the_state_without_a_button_and_refuses_their_request(practice, client):
    from competition.models import PracticeOpponent

    client.force_login(practice.mallory)  # a member of Red Rogues, not an owner
    page = client.get(reverse("teams:bot-detail", args=[practice.rogue_bot.pk])).content.decode()
    assert "Practice opponent" in page and "not open" in page
    assert "/teams/practice/open/" not in page and "Open to other teams" not in page
    response = opt_in(client, practice, practice.rogue_bot, "1")
    assert "Not changed: Only an owner of the bot&#x27;s team opens it for practice." in response.content.decode()
    assert not PracticeOpponent.objects.filter(bot=practice.rogue_bot).exists()
    # Another team's owner cannot learn the bot exists.
    client.force_login(practice.carl)
    assert opt_in(client, practice, practice.rogue_bot, "1").status_code == 404
    assert not PracticeOpponent.objects.filter(bot=practice.rogue_bot).exists()


def test_it_shows_a_reference_bot_as_open_by_the_organizers_without_a_button(practice, client):
    client.force_login(practice.dana)
    page = client.get(reverse("teams:bot-detail", args=[practice.bastion_bot.pk])).content.decode()
    assert "open: a reference bot named by the organizers" in page
    assert "Close to other teams" not in page and "Open to other teams" not in page
