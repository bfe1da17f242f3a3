"""Answers that were wrong without an error: a cursor the API never wrote, a filter value it cannot
read, a bot URL holding a password."""

from __future__ import annotations

import pytest
from django.urls import reverse

from teams.models import Bot
from tests.cast import played_conversation_make

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "%%%",
        "bm9wZQ==",
        "cD1ub3QtYS1kYXRl",
        "é",
        "cD05OTk5LTEyLTMxVDIzOjU5OjU5LTIzOjU5",  # p=9999-12-31T23:59:59-23:59: past year 9999 in UTC, a 500
        "cD0yMDI2LTAxLTAxIDAwOjAwOjAw",  # p=2026-01-01 00:00:00: no time zone, never written by the API
    ],
)
def test_it_answers_a_cursor_it_never_wrote_with_a_400(arena, api, cursor):
    played_conversation_make(arena, messages=["ask", "reply"])

    response = api(arena.olivia).get("/api/conversations/", {"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"cursor": ["Invalid cursor"]}


def test_it_follows_the_cursors_it_wrote(arena, api):
    for n in range(3):
        played_conversation_make(arena, messages=[f"ask {n}", "reply"])
    client = api(arena.olivia)

    first = client.get("/api/conversations/", {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert len(first["results"]) == 2 and len(second["results"]) == 1
    assert client.get(second["previous"]).status_code == 200


@pytest.mark.parametrize(
    ("url", "field"), [("/api/rounds/?practice=maybe", "practice"), ("/api/bots/?active=maybe", "active")]
)
def test_it_answers_a_boolean_filter_it_cannot_read_with_a_400_naming_it(arena, api, url, field):
    response = api(arena.olivia).get(url)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_it_still_filters_on_true_and_false(arena, api):
    arena.crimson_bot.active = False
    arena.crimson_bot.save()
    client = api(arena.olivia)

    inactive = client.get("/api/bots/?active=false").json()["results"]
    active = client.get("/api/bots/?active=True").json()["results"]

    assert [bot["id"] for bot in inactive] == [arena.crimson_bot.pk]
    assert arena.crimson_bot.pk not in [bot["id"] for bot in active] and active


def test_it_refuses_a_bot_url_with_a_user_name_or_password_everywhere(arena, api, client):
    url = "https://team:hunter2@bots.example.org/bot"
    response = api(arena.alice).patch(f"/api/bots/{arena.rogue_bot.pk}/", {"url": url}, format="json")
    assert response.status_code == 400
    assert "user name or password" in response.json()["error"]["fields"]["url"][0]
    created = api(arena.alice).post("/api/bots/", {"team": "red-rogues", "name": "x", "url": url}, format="json")
    assert created.status_code == 400

    client.force_login(arena.alice)
    form = client.post(
        reverse("teams:bot-edit", args=[arena.rogue_bot.pk]), {"name": "rogue", "kind": "arena", "url": url}
    )
    assert form.status_code == 400 and "user name or password" in form.content.decode()

    assert not Bot.objects.filter(url__contains="hunter2").exists()
    assert not Bot.history.filter(url__contains="hunter2").exists()
