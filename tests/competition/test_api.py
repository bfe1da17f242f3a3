"""The competitions and rounds API; organizers move rounds through their lifecycle, teams only read."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from rest_framework.test import APIClient

from competition.models import Round
from teams.services import api_token_create
from tests.cast import standing_make


def test_it_lists_competitions_and_their_rounds_to_a_team_member(arena, api):
    competitions = api(arena.alice).get("/api/competitions/").json()["results"]
    rounds = api(arena.alice).get("/api/rounds/", {"competition__slug": "trusted-ai-2026"}).json()["results"]

    assert [competition["slug"] for competition in competitions] == ["trusted-ai-2026"]
    assert [(round_["number"], round_["status"]) for round_ in rounds] == [(1, "draft")]


def test_it_publishes_a_scored_round_for_an_organizer_and_records_who(arena, api):
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.SCORED)

    response = api(arena.olivia).post(f"/api/rounds/{arena.round.pk}/publish/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    entry = LogEntry.objects.get(object_id=str(arena.round.pk))
    assert (entry.user, entry.change_message) == (arena.olivia, "Published the round through the API.")


def test_it_names_the_organizer_in_the_rounds_history_for_every_move_made_through_the_api(arena, api):
    _token, key = api_token_create(user=arena.olivia, name="ops")
    by_key = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    for client, move in ((api(arena.olivia), "start"), (by_key, "pause"), (api(arena.olivia), "resume")):
        assert client.post(f"/api/rounds/{arena.round.pk}/{move}/").status_code == 200, move
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.SCORED)
    assert by_key.post(f"/api/rounds/{arena.round.pk}/publish/").status_code == 200

    moves = arena.round.history.order_by("history_id").values_list("history_change_reason", "history_user__username")
    assert list(moves)[1:] == [
        ("Round action: started", "olivia"),
        ("Round action: paused", "olivia"),
        ("Round action: resumed", "olivia"),
        ("Round action: published", "olivia"),
    ]


def test_it_refuses_round_actions_to_team_owners(arena, api):
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.SCORED)

    response = api(arena.alice).post(f"/api/rounds/{arena.round.pk}/publish/")

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Only organizers can start, pause, resume or publish rounds."
    assert Round.objects.get(pk=arena.round.pk).status == Round.Status.SCORED
    assert not arena.round.history.filter(history_change_reason__startswith="Round action").exists()


def test_it_answers_409_with_the_reason_when_a_round_cannot_move(arena, api):
    response = api(arena.olivia).post(f"/api/rounds/{arena.round.pk}/pause/")

    assert response.status_code == 409
    assert "only running rounds pause" in response.json()["error"]["message"]
    assert Round.objects.get(pk=arena.round.pk).status == Round.Status.DRAFT


def test_it_answers_unknown_api_paths_with_a_json_404(arena, api):
    response = api(arena.alice).get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_it_refuses_writes_to_read_only_resources_with_a_json_405(arena, api):
    response = api(arena.olivia).delete(f"/api/rounds/{arena.round.pk}/")

    assert response.status_code == 405
    assert response.json()["error"]["status"] == 405


def test_it_gives_a_published_rounds_standings_to_a_team_member(arena, api):
    standing_make(
        arena.round, arena.rogue_bot, rank=1, score=0.6, rating=1100, lower=1050, upper=1150, success_rate=0.6
    )
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.PUBLISHED)

    body = api(arena.carl).get(f"/api/rounds/{arena.round.pk}/standings/").json()

    assert [(row["bot"], row["rank"], row["rating_lower"], row["rating_upper"]) for row in body["bots"]] == [
        ("rogue", 1, 1050, 1150)
    ]


def test_it_keeps_a_scored_rounds_standings_from_teams_until_published(arena, api):
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.SCORED)

    assert api(arena.alice).get(f"/api/rounds/{arena.round.pk}/standings/").status_code == 404
    assert api(arena.olivia).get(f"/api/rounds/{arena.round.pk}/standings/").status_code == 200
