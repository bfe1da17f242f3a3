"""The API's contract is what it does: every status documented with the one error shape, no field
documented that is refused, errors outside DRF's views in the same JSON shape, secrets never cached.
(.ci/schemathesis fuzzes the running API against the schema.)"""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command
from django.test import Client, RequestFactory

from config.api_errors import server_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(tmp_path) -> dict:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out))
    return yaml.safe_load(out.read_text())


def test_it_documents_every_error_status_with_the_one_error_shape(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            expected = {"400", "401", "403", "404", "429", "500"}
            expected |= {"413", "415"} if method in ("post", "patch", "put") else set()
            expected |= {"409"} if method == "post" else set()
            assert expected <= statuses, (method, path, expected - statuses)
            for status in expected:
                assert operation["responses"][status]["content"]["application/json"]["schema"] == error
    assert set(schema["components"]["schemas"]["Error"]["properties"]["error"]["required"]) == {
        "status",
        "code",
        "message",
    }


def test_it_documents_the_queued_bot_calls_as_202(schema):
    for path in ("/api/bots/{id}/test/", "/api/bots/{id}/health-check/"):
        assert "202" in schema["paths"][path]["post"]["responses"]
        assert "200" not in schema["paths"][path]["post"]["responses"]


def test_it_documents_no_team_on_a_bot_patch_and_accepts_the_null_it_documents(schema, arena, api):
    ref = schema["paths"]["/api/bots/{id}/"]["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    patch = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert "team" not in patch["properties"]
    assert patch["properties"]["timeout_seconds"]["nullable"] is True
    client = api(arena.alice)
    assert client.patch(f"/api/bots/{arena.rogue_bot.pk}/", {"timeout_seconds": None}).status_code == 200
    moved = client.patch(f"/api/bots/{arena.rogue_bot.pk}/", {"team": "crimson-crew"})
    assert moved.status_code == 400 and "team" in moved.json()["error"]["fields"]


def test_it_answers_errors_outside_drf_in_the_json_shape(arena, api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = Client(enforce_csrf_checks=True)
    client.force_login(arena.alice)

    too_big = api(arena.alice).generic(
        "PATCH", f"/api/bots/{arena.rogue_bot.pk}/", '{"name": "' + "x" * 2000 + '"}', content_type="application/json"
    )
    unknown = client.post("/api/no-such-thing/", {"a": 1})
    newline = client.get("/api/rounds/1%0A/")
    crashed = server_error(RequestFactory().get("/api/bots/"))

    assert (too_big.status_code, too_big.json()["error"]["code"]) == (413, "too_large")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    assert (newline.status_code, newline.json()["error"]["code"]) == (404, "not_found")
    assert crashed.status_code == 500 and crashed["Content-Type"] == "application/json"
    assert "Something went wrong" in server_error(RequestFactory().get("/teams/")).content.decode()


def test_it_answers_a_form_body_with_415(arena, api):
    response = api(arena.alice).patch(f"/api/bots/{arena.rogue_bot.pk}/", {"name": "x"}, format="multipart")
    assert response.status_code == 415
    assert response.json()["error"]["status"] == 415


def test_it_lets_no_cache_keep_a_secret_or_key_shown_once(arena, api, client):
    owner = api(arena.alice)
    created = owner.post("/api/bots/", {"team": "red-rogues", "name": "fresh", "url": "https://bots.example.org/x"})
    rotated = owner.post(f"/api/bots/{arena.rogue_bot.pk}/rotate-secret/")
    listed = owner.get("/api/bots/")

    assert created.status_code == 201 and "no-store" in created["Cache-Control"]
    assert rotated.status_code == 200 and "no-store" in rotated["Cache-Control"]
    assert "no-store" not in listed.get("Cache-Control", "")
    client.force_login(arena.alice)
    made = client.post("/account/tokens/", {"name": "ci"}, follow=True)
    assert "no-store" in made["Cache-Control"]
    assert "no-store" in client.get(f"/teams/bots/{arena.rogue_bot.pk}/")["Cache-Control"]


def test_it_documents_every_request_body_as_an_object(schema):
    # The parser refuses any other top-level JSON value, so the schema must never promise one.
    components = schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            ref = body["schema"].get("$ref")
            documented = components[ref.rsplit("/", 1)[1]] if ref else body["schema"]
            assert documented.get("type", "object") == "object", (method, path)


@pytest.mark.parametrize("body", ["[null, null]", "null", '"start"', "7", "true"])
def test_it_answers_a_body_that_is_not_an_object_with_400(arena, api, body):
    owner = api(arena.alice)
    for method, path in (
        ("POST", "/api/practice-matches/"),
        ("POST", "/api/bots/"),
        ("PATCH", f"/api/bots/{arena.rogue_bot.pk}/"),
    ):
        response = owner.generic(method, path, body, content_type="application/json")
        assert response.status_code == 400, (method, path, response.content)
        assert "must be a JSON object" in response.json()["error"]["message"]


def test_it_refuses_an_object_body_only_when_it_is_wrong(arena, api):
    refused = api(arena.alice).generic("POST", "/api/practice-matches/", "{}", content_type="application/json")
    assert refused.status_code == 400
    assert "must be a JSON object" not in refused.content.decode()
