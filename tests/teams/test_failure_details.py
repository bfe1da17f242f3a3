"""A bot that answers 401 says why: the failure detail carries what a 401 usually means and the
start of the bot's own reply (escaped on every page), on the organizer's pages as on the team's."""

from __future__ import annotations

import secrets

import pytest

from examples.bots.server import serve
from examples.bots.strategies import STRATEGIES
from teams.http.status import REPLY_EXCERPT_CHARS, reply_excerpt
from teams.models import BotHealthCheck
from teams.services import bot_health_check
from tests.test_permissions import admin_url

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def private_ok(settings):
    settings.ARENA_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def example_bots():
    server = serve(host="127.0.0.1", port=0, secrets={path: secrets.token_hex(32) for path in STRATEGIES})
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_it_says_why_an_example_bot_refuses_a_bot_registered_at_its_url(arena, example_bots):
    bot = arena.bastion_bot
    bot.url = f"{example_bots}/defenders/careful"
    bot.save()

    check = bot_health_check(bot=bot)

    assert (check.ok, check.error_kind) == (False, "http_status")
    assert "401 means" in check.error
    assert "with the secret it was started with" in check.error
    assert "its reply:" in check.error
    assert "signature" in check.error.split("its reply:")[1]


def test_it_shows_organizers_the_bots_reply_beside_the_status_escaped(client, arena, httpserver):
    bot = arena.bastion_bot
    bot.url = httpserver.url_for("/bot")
    bot.save()
    httpserver.expect_request("/bot").respond_with_data(f'{{"error": "{SCRIPT}"}}', status=401)
    check = bot_health_check(bot=bot)

    client.force_login(arena.olivia)
    html = client.get(admin_url(check, "change")).content.decode()

    assert "answered HTTP 401" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert SCRIPT not in html
    assert BotHealthCheck.objects.get(pk=check.pk).error == check.error


def test_it_keeps_a_long_reply_to_one_line_of_bounded_length():
    text = reply_excerpt(("word \n" * 1000).encode())

    assert len(text) == REPLY_EXCERPT_CHARS
    assert "\n" not in text
    assert text.endswith("…")
