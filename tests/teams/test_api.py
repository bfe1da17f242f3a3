"""The bots API: a team's owners manage its bots; members read; other teams see nothing."""

from __future__ import annotations

import json

import pytest
from django.test import TestCase
from werkzeug import Response

from teams.models import Bot, BotHealthCheck


def test_it_lists_only_the_bots_of_the_users_teams(arena, api):
    names = [bot["name"] for bot in api(arena.alice).get("/api/bots/").json()["results"]]

    assert names == ["rogue"]


def test_it_lists_every_bot_for_organizers(arena, api):
    names = {bot["name"] for bot in api(arena.olivia).get("/api/bots/").json()["results"]}

    assert names == {"rogue", "crimson", "bastion", "aegis"}


def test_it_answers_404_for_another_teams_bot(arena, api):
    response = api(arena.carl).get(f"/api/bots/{arena.rogue_bot.pk}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_it_never_shows_a_secret_or_api_key_in_reads(arena, api):
    arena.rogue_bot.api_key = "sk-very-private-key"
    arena.rogue_bot.save()

    body = api(arena.alice).get(f"/api/bots/{arena.rogue_bot.pk}/").content.decode()

    assert arena.rogue_bot.secret not in body
    assert "sk-very-private-key" not in body
    assert json.loads(body)["has_api_key"] is True


def test_it_registers_a_bot_for_an_owner_and_shows_its_secret_once(arena, api):
    response = api(arena.alice).post(
        "/api/bots/", {"team": "red-rogues", "name": "second", "url": "https://bots.example.org/second"}, format="json"
    )

    assert response.status_code == 201, response.content
    bot = Bot.objects.get(team=arena.rogues, name="second")
    assert response.json()["secret"] == bot.secret
    assert bot.secret not in api(arena.alice).get(f"/api/bots/{bot.pk}/").content.decode()


def test_it_refuses_registration_by_a_member_who_is_not_an_owner(arena, api):
    response = api(arena.mallory).post(
        "/api/bots/", {"team": "red-rogues", "name": "sneaky", "url": "https://bots.example.org/x"}, format="json"
    )

    assert response.status_code == 403
    assert not Bot.objects.filter(name="sneaky").exists()


def test_it_refuses_registration_for_a_team_the_user_is_not_in(arena, api):
    response = api(arena.carl).post(
        "/api/bots/", {"team": "red-rogues", "name": "foreign", "url": "https://bots.example.org/x"}, format="json"
    )

    assert response.status_code == 404
    assert not Bot.objects.filter(name="foreign").exists()


def test_it_reports_every_bad_field_of_a_registration(arena, api):
    response = api(arena.alice).post(
        "/api/bots/",
        {"team": "red-rogues", "name": "bad", "url": "not a url", "max_concurrency": "many"},
        format="json",
    )

    error = response.json()["error"]
    assert response.status_code == 400
    assert set(error["fields"]) == {"url", "max_concurrency"}
    assert "url" in error["message"]


def test_it_makes_a_new_version_when_an_owner_changes_the_url(arena, api):
    bot = arena.rogue_bot
    response = api(arena.alice).patch(f"/api/bots/{bot.pk}/", {"url": "https://bots.example.org/v2"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    bot.refresh_from_db()
    assert (bot.url, bot.version) == ("https://bots.example.org/v2", 2)


def test_it_refuses_changes_by_a_member_who_is_not_an_owner(arena, api):
    response = api(arena.mallory).patch(
        f"/api/bots/{arena.rogue_bot.pk}/", {"url": "https://evil.example.org/"}, format="json"
    )

    assert response.status_code == 403
    arena.rogue_bot.refresh_from_db()
    assert arena.rogue_bot.url != "https://evil.example.org/"


def test_it_rotates_a_secret_showing_the_new_one_once(arena, api):
    old = arena.rogue_bot.secret

    response = api(arena.alice).post(f"/api/bots/{arena.rogue_bot.pk}/rotate-secret/")

    arena.rogue_bot.refresh_from_db()
    assert response.status_code == 200
    assert response.json() == {"bot": arena.rogue_bot.pk, "secret": arena.rogue_bot.secret, "rotating": True}
    assert arena.rogue_bot.previous_secret == old
    finished = api(arena.alice).post(f"/api/bots/{arena.rogue_bot.pk}/finish-rotation/")
    assert finished.json()["rotating"] is False


def test_it_refuses_rotation_by_a_member_and_by_another_team(arena, api):
    old = arena.rogue_bot.secret

    assert api(arena.mallory).post(f"/api/bots/{arena.rogue_bot.pk}/rotate-secret/").status_code == 403
    assert api(arena.carl).post(f"/api/bots/{arena.rogue_bot.pk}/rotate-secret/").status_code == 404
    arena.rogue_bot.refresh_from_db()
    assert arena.rogue_bot.secret == old


def test_it_checks_a_bots_health_over_real_http(arena, api, httpserver, settings):
    settings.ARENA_ALLOW_PRIVATE_URLS = True
    bot = arena.rogue_bot
    bot.url = httpserver.url_for("/rogue")
    bot.save()
    httpserver.expect_request("/rogue", method="POST").respond_with_response(
        Response(json.dumps({"ok": True}), content_type="application/json")
    )

    client = api(arena.alice)
    with TestCase.captureOnCommitCallbacks() as queued:
        response = client.post(f"/api/bots/{bot.pk}/health-check/")

    assert response.status_code == 202
    assert response.json()["status"] == "queued" and response["Location"] == response.json()["poll_url"]
    assert httpserver.log == []  # queued, not called inside the request
    for task in queued:
        task()
    polled = client.get(response["Location"]).json()
    assert polled["status"] == "done" and polled["health_check"]["ok"] is True
    assert BotHealthCheck.objects.filter(bot=bot, ok=True).count() == 1


def test_it_returns_a_test_exchange_with_the_bots_text_as_it_came(arena, api, httpserver, settings):
    settings.ARENA_ALLOW_PRIVATE_URLS = True
    bot = arena.bastion_bot
    bot.url = httpserver.url_for("/bastion")
    bot.save()
    hostile = "<script>alert(1)</script> \u202e evil"
    httpserver.expect_request("/bastion", method="POST").respond_with_response(
        Response(json.dumps({"content": hostile}), content_type="application/json")
    )

    client = api(arena.dana)
    with TestCase.captureOnCommitCallbacks(execute=True):
        queued = client.post(f"/api/bots/{bot.pk}/test/")
    report = client.get(queued["Location"]).json()["report"]

    assert report["ok"] is True
    assert report["content"] == hostile
    assert bot.secret not in json.dumps(report)


def test_it_throttles_calls_that_reach_a_bot(arena, api):
    client = api(arena.alice)

    statuses = [client.post(f"/api/bots/{arena.rogue_bot.pk}/health-check/").status_code for _ in range(21)]

    # One call at a time: the first is queued, the next 19 find it still queued (409), the 21st is throttled.
    assert statuses[:20] == [202] + [409] * 19
    assert statuses[20] == 429
    assert client.get("/api/bots/").status_code == 200


def test_it_reports_every_missing_field_of_a_registration_at_once(arena, api):
    response = api(arena.alice).post("/api/bots/", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"team", "name", "url"}
    assert not Bot.objects.filter(team=arena.rogues).exclude(pk=arena.rogue_bot.pk).exists()


@pytest.mark.parametrize("kind", ["arena.v1", "arena"])
def test_it_registers_an_arena_bot_under_the_kind_the_docs_name(arena, api, kind):
    response = api(arena.alice).post(
        "/api/bots/",
        {"team": "red-rogues", "name": "second", "url": "https://bots.example.org/second", "kind": kind},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "arena"
    assert Bot.objects.get(team=arena.rogues, name="second").kind == Bot.Kind.ARENA


def test_it_refuses_a_kind_the_docs_do_not_list_and_names_the_ones_they_do(arena, api):
    for kind in ("probe", "arena.v2"):
        response = api(arena.alice).post(
            "/api/bots/",
            {"team": "red-rogues", "name": "odd", "url": "https://bots.example.org/odd", "kind": kind},
            format="json",
        )

        assert response.status_code == 400, kind
        assert set(response.json()["error"]["fields"]) == {"kind"}
        assert '"arena"' in response.json()["error"]["message"]
    assert not Bot.objects.filter(name="odd").exists()


def test_it_changes_a_bots_kind_to_the_protocols_name(arena, api):
    bot = arena.rogue_bot
    bot.kind = Bot.Kind.OPENAI
    bot.save()
    response = api(arena.alice).patch(f"/api/bots/{bot.pk}/", {"kind": "arena.v1"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["kind"] == "arena"


def test_it_reports_every_bad_field_of_a_change_at_once(arena, api):
    bot = arena.rogue_bot
    change = {"url": "ftp://bots.example.org/", "timeout_seconds": 0, "max_concurrency": 0, "team": "blue-bastion"}

    response = api(arena.alice).patch(f"/api/bots/{bot.pk}/", change, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"url", "timeout_seconds", "max_concurrency", "team"}
    bot.refresh_from_db()
    assert bot.version == 1
