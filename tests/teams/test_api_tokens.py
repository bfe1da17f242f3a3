"""API keys: made on the account page (shown once), stored as a hash, revoked by their owner only."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from teams.models import ApiToken
from teams.services import api_token_create
from tests.cast import PASSWORD


@pytest.fixture
def site(arena) -> Client:
    client = Client()
    client.login(username="alice", password=PASSWORD)
    return client


def test_it_shows_a_new_key_once_and_stores_only_its_hash(arena, site):
    response = site.post("/account/tokens/", {"name": "uploader"}, follow=True)

    token = ApiToken.objects.get(user=arena.alice, name="uploader")
    shown = response.context["messages"]
    key = next(message.message for message in shown if "new-api-key" in message.tags)
    assert ApiToken.hash_of(key) == token.key_hash
    assert key not in {token.key_hash, token.prefix}
    assert key not in site.get("/account/tokens/").content.decode()


def test_it_refuses_a_second_key_with_the_same_name(arena, site):
    site.post("/account/tokens/", {"name": "uploader"})

    response = site.post("/account/tokens/", {"name": "uploader"})

    assert response.status_code == 400
    assert "already have a key named" in response.content.decode()
    assert ApiToken.objects.filter(user=arena.alice).count() == 1


def test_it_authenticates_api_requests_with_a_key(arena):
    _token, key = api_token_create(user=arena.alice, name="ci")
    client = APIClient()

    response = client.get("/api/bots/", HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 200
    assert [bot["name"] for bot in response.json()["results"]] == ["rogue"]


def test_it_refuses_a_revoked_key(arena, site):
    token, key = api_token_create(user=arena.alice, name="ci")

    site.post("/account/tokens/", {"revoke": token.pk})

    response = APIClient().get("/api/bots/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Unknown or revoked API key."


def test_it_never_revokes_another_users_key(arena, site):
    token, key = api_token_create(user=arena.carl, name="carl-ci")

    site.post("/account/tokens/", {"revoke": token.pk})

    assert ApiToken.objects.filter(pk=token.pk).exists()
    assert APIClient().get("/api/bots/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token not-a-key", "Bearer \u00e9t\u00e9"])
def test_it_refuses_a_malformed_or_unknown_authorization_header(arena, header):
    response = APIClient().get("/api/bots/", HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin-1"))

    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401


def test_it_asks_anonymous_requests_to_authenticate(db):
    response = APIClient().get("/api/competitions/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_it_sends_anonymous_visitors_of_the_keys_page_to_log_in(db):
    response = Client().get("/account/tokens/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
