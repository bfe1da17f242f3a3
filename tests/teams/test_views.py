"""The teams' bot pages: who sees which bot, the owners' health check and test actions, hostile answers."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import TestCase
from django.urls import reverse

from teams.models import Bot, BotHealthCheck

pytestmark = pytest.mark.django_db

VALID_ANSWER = {"content": "Tell me how your login form queries the users table.", "end": False}
HOSTILE_BODY = "<script>alert(1)</script>"


@pytest.fixture
def private_ok(settings):
    settings.ARENA_ALLOW_PRIVATE_URLS = True


def bot_at(bot: Bot, url: str) -> Bot:
    bot.url = url
    bot.save()
    return bot


def list_url() -> str:
    return reverse("teams:bot-list")


def detail_url(bot: Bot) -> str:
    return reverse("teams:bot-detail", args=[bot.pk])


def exchange_url(bot: Bot) -> str:
    return reverse("teams:bot-test", args=[bot.pk])


def health_url(bot: Bot) -> str:
    return reverse("teams:bot-health-check", args=[bot.pk])


def call_made(client, url: str):
    """POST ``url``, run the bot call it queued as a worker would, then follow the redirect to the page."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url)
    return client.get(response["Location"]) if response.status_code == 302 else response


def page(client, user: User, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- My bots --------------------------------------------------------------------------------------
def test_it_lists_only_the_bots_of_the_users_teams(client, arena):
    html = page(client, arena.alice, list_url())
    assert detail_url(arena.rogue_bot) in html
    for other in (arena.bastion_bot, arena.crimson_bot, arena.aegis_bot):
        assert detail_url(other) not in html
    assert "Blue Bastion" not in html

    member_html = page(client, arena.mallory, list_url())
    assert detail_url(arena.rogue_bot) in member_html
    assert detail_url(arena.bastion_bot) not in member_html


def test_it_lists_every_bot_for_staff(client, arena):
    html = page(client, arena.olivia, list_url())
    for bot in (arena.rogue_bot, arena.crimson_bot, arena.bastion_bot, arena.aegis_bot):
        assert detail_url(bot) in html
        assert bot.url in html


def test_it_shows_the_bot_settings_and_latest_health_in_the_list(client, arena):
    BotHealthCheck.objects.create(bot=arena.rogue_bot, ok=True, latency_ms=12)
    BotHealthCheck.objects.create(bot=arena.rogue_bot, ok=False, latency_ms=4321, error_kind="timeout", error="slow")
    html = page(client, arena.alice, list_url())
    row = html[html.index(detail_url(arena.rogue_bot)) :]
    assert "arena.v1 endpoint" in row
    assert arena.rogue_bot.url in row
    assert f"v{arena.rogue_bot.version}" in row
    assert "failed" in row and "4321 ms" in row and "timeout" in row
    assert "12 ms" not in row  # only the latest check


def test_it_says_when_a_bot_was_never_checked(client, arena):
    assert "not checked yet" in page(client, arena.alice, list_url())


def test_it_shows_an_empty_state_to_a_user_without_a_team(client, arena):
    loner = User.objects.create_user(username="loner", password="x")
    html = page(client, loner, list_url())
    assert "No bot to show" in html
    assert "/teams/bots/" + str(arena.rogue_bot.pk) not in html

    assert "No bot to show" not in page(client, arena.alice, list_url())


def test_it_links_my_bots_in_the_header_for_logged_in_users_only(client, arena):
    assert f'href="{list_url()}"' not in client.get(reverse("home")).content.decode()
    assert f'href="{list_url()}"' in page(client, arena.alice, reverse("home"))


# --- Who may see and act --------------------------------------------------------------------------
def test_it_redirects_anonymous_users_to_login(client, arena):
    for method, url in (
        ("get", list_url()),
        ("get", detail_url(arena.rogue_bot)),
        ("post", exchange_url(arena.rogue_bot)),
        ("post", health_url(arena.rogue_bot)),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    assert not BotHealthCheck.objects.exists()

    client.force_login(arena.alice)
    assert client.get(detail_url(arena.rogue_bot)).status_code == 200


def test_it_hides_another_teams_bot_behind_a_404(client, arena):
    client.force_login(arena.dana)
    assert client.get(detail_url(arena.rogue_bot)).status_code == 404
    assert client.post(exchange_url(arena.rogue_bot)).status_code == 404
    assert client.post(health_url(arena.rogue_bot)).status_code == 404
    assert client.get(reverse("teams:bot-detail", args=[999_999])).status_code == 404
    assert not BotHealthCheck.objects.exists()

    assert client.get(detail_url(arena.bastion_bot)).status_code == 200


def test_it_shows_members_the_page_without_buttons_and_refuses_their_actions(client, arena):
    BotHealthCheck.objects.create(bot=arena.rogue_bot, ok=True, latency_ms=30)
    html = page(client, arena.mallory, detail_url(arena.rogue_bot))
    assert "Health history" in html and "30 ms" in html
    assert "Test this bot" not in html
    assert "Check health now" not in html
    assert exchange_url(arena.rogue_bot) not in html

    assert client.post(exchange_url(arena.rogue_bot)).status_code == 403
    assert client.post(health_url(arena.rogue_bot)).status_code == 403
    assert BotHealthCheck.objects.count() == 1

    owner_html = page(client, arena.alice, detail_url(arena.rogue_bot))
    assert "Test this bot" in owner_html and "Check health now" in owner_html


def test_it_gives_staff_the_actions_on_any_bot(client, arena):
    html = page(client, arena.olivia, detail_url(arena.bastion_bot))
    assert "Test this bot" in html and "Check health now" in html


def test_it_acts_only_on_a_post_and_answers_a_get_with_a_page(client, arena, httpserver, private_ok):
    """Reloading or bookmarking an action's URL never shows a 405 and never calls the bot."""
    bot = bot_at(arena.rogue_bot, httpserver.url_for("/bot"))
    client.force_login(arena.alice)

    health = client.get(health_url(bot))
    exchange = client.get(exchange_url(bot))

    assert (health.status_code, health["Location"]) == (302, detail_url(bot))
    assert exchange.status_code == 200
    assert "Sample exchange" not in exchange.content.decode()
    assert httpserver.log == []
    assert not BotHealthCheck.objects.exists()


def test_it_queues_the_exchange_and_shows_it_when_the_task_made_it(client, arena, httpserver, private_ok):
    httpserver.expect_request("/bot", method="POST").respond_with_json(VALID_ANSWER)
    bot = bot_at(arena.rogue_bot, httpserver.url_for("/bot"))
    client.force_login(arena.alice)

    with TestCase.captureOnCommitCallbacks() as queued:
        posted = client.post(exchange_url(bot))
    waiting = client.get(exchange_url(bot)).content.decode()

    assert (posted.status_code, posted["Location"]) == (302, exchange_url(bot))
    assert httpserver.log == []  # the request only queued the call
    assert "Under way" in waiting and 'http-equiv="refresh"' in waiting
    for task in queued:
        task()
    shown = client.get(exchange_url(bot)).content.decode()
    reloaded = client.get(exchange_url(bot)).content.decode()
    assert "the answer follows the protocol" in shown and "the answer follows the protocol" in reloaded
    assert 'http-equiv="refresh"' not in reloaded
    assert len(httpserver.log) == 1


# --- Test this bot --------------------------------------------------------------------------------
def test_it_shows_a_valid_sample_exchange(client, arena, httpserver, private_ok):
    httpserver.expect_request("/bot", method="POST").respond_with_json(VALID_ANSWER)
    bot = bot_at(arena.rogue_bot, httpserver.url_for("/bot"))
    client.force_login(arena.alice)

    response = call_made(client, exchange_url(bot))

    assert response.status_code == 200
    html = response.content.decode()
    assert "the answer follows the protocol" in html
    assert "Tell me how your login form queries the users table." in html
    assert "protocol error" not in html
    assert "X-Arena-Signature" in html and "X-Arena-Delivery" in html
    assert "&quot;protocol&quot;: &quot;arena.v1&quot;" in html  # the request body, indented
    assert "&quot;role&quot;: &quot;attacker&quot;" in html
    assert "<strong>200</strong>" in html
    sent, _ = httpserver.log[0]
    assert json.loads(sent.get_data())["type"] == "turn"
    assert len(httpserver.log) == 1
    assert not BotHealthCheck.objects.exists()  # a test stores nothing


def test_it_shows_bad_json_with_the_raw_body_escaped(client, arena, httpserver, private_ok):
    httpserver.expect_request("/bot", method="POST").respond_with_data(HOSTILE_BODY, content_type="text/html")
    bot = bot_at(arena.rogue_bot, httpserver.url_for("/bot"))
    client.force_login(arena.alice)

    html = call_made(client, exchange_url(bot)).content.decode()

    assert "protocol error" in html
    assert "bad_json" in html
    assert "answer body is not JSON" in html
    assert "What to fix:" in html and "{&quot;content&quot;: &quot;...&quot;}" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_it_shows_a_missing_content_as_bad_content(client, arena, httpserver, private_ok):
    httpserver.expect_request("/bot", method="POST").respond_with_json({"message": "<b>hi</b>"})
    bot = bot_at(arena.bastion_bot, httpserver.url_for("/bot"))
    client.force_login(arena.dana)

    html = call_made(client, exchange_url(bot)).content.decode()

    assert "bad_content" in html
    assert "&quot;role&quot;: &quot;defender&quot;" in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html


def test_it_refuses_loopback_urls_unless_private_urls_are_allowed(client, arena, httpserver, settings):
    settings.ARENA_ALLOW_PRIVATE_URLS = False
    httpserver.expect_request("/bot", method="POST").respond_with_json(VALID_ANSWER)
    bot = bot_at(arena.rogue_bot, httpserver.url_for("/bot"))
    client.force_login(arena.alice)

    html = call_made(client, exchange_url(bot)).content.decode()

    assert "blocked_address" in html
    assert "no call made" in html
    assert len(httpserver.log) == 0

    settings.ARENA_ALLOW_PRIVATE_URLS = True
    assert "the answer follows the protocol" in call_made(client, exchange_url(bot)).content.decode()
    assert len(httpserver.log) == 1


# --- Check health now -----------------------------------------------------------------------------
def test_it_stores_a_health_check_and_goes_back_to_the_bot(client, arena, httpserver, private_ok):
    httpserver.expect_request("/bot", method="POST").respond_with_json({"ok": True})
    bot = bot_at(arena.rogue_bot, httpserver.url_for("/bot"))
    client.force_login(arena.alice)

    with TestCase.captureOnCommitCallbacks(execute=True):
        posted = client.post(health_url(bot))
    response = client.get(posted["Location"])

    assert posted["Location"] == detail_url(bot)
    check = BotHealthCheck.objects.get(bot=bot)
    assert check.ok and check.latency_ms is not None
    html = response.content.decode()
    assert "Health check passed" in html
    assert "Uptime over the last 1 check: <strong>100.0%</strong>" in html


def test_it_stores_a_failed_health_check_with_its_kind(client, arena, httpserver, private_ok):
    httpserver.expect_request("/bot", method="POST").respond_with_data("nope", status=503)
    bot = bot_at(arena.rogue_bot, httpserver.url_for("/bot"))
    client.force_login(arena.olivia)

    html = call_made(client, health_url(bot)).content.decode()

    check = BotHealthCheck.objects.get(bot=bot)
    assert not check.ok and check.error_kind == "http_status"
    assert "Health check failed" in html and "http_status" in html


# --- Health history -------------------------------------------------------------------------------
def test_it_shows_the_last_50_checks_with_their_uptime(client, arena):
    for index in range(60):
        BotHealthCheck.objects.create(bot=arena.rogue_bot, ok=index % 2 == 0, latency_ms=index)
    # The newest 50 (indexes 10..59) hold 25 ok checks.
    html = page(client, arena.alice, detail_url(arena.rogue_bot))
    assert "Uptime over the last 50 checks: <strong>50.0%</strong>" in html
    assert html.count(" UTC</td>") == 50


def test_it_computes_uptime_over_the_checks_shown(client, arena):
    for ok in (True, True, True, False):
        BotHealthCheck.objects.create(bot=arena.bastion_bot, ok=ok, latency_ms=5)
    html = page(client, arena.dana, detail_url(arena.bastion_bot))
    assert "Uptime over the last 4 checks: <strong>75.0%</strong>" in html


def test_it_escapes_hostile_text_in_the_health_history(client, arena):
    BotHealthCheck.objects.create(
        bot=arena.rogue_bot, ok=False, latency_ms=9, error_kind="bad_json", error="<img src=x onerror=alert(1)>"
    )
    html = page(client, arena.alice, detail_url(arena.rogue_bot))
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html
    assert "What to fix" in html


def test_it_says_when_there_is_no_history(client, arena):
    assert "No health check yet" in page(client, arena.alice, detail_url(arena.rogue_bot))


# --- Secrets --------------------------------------------------------------------------------------
def test_it_never_shows_the_full_secret_or_api_key(client, arena, httpserver, private_ok):
    httpserver.expect_request("/bot", method="POST").respond_with_json(VALID_ANSWER)
    bot = bot_at(arena.rogue_bot, httpserver.url_for("/bot"))
    bot.previous_secret = "f" * 64
    bot.save()
    openai_bot = Bot.objects.create(
        team=arena.rogues,
        name="rogue-llm",
        kind=Bot.Kind.OPENAI,
        url=httpserver.url_for("/v1"),
        model="tiny",
        api_key="sk-live-0123456789abcdefghijklmnop",
    )
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(
        {"choices": [{"message": {"role": "assistant", "content": "hello"}}]}
    )
    httpserver.expect_request("/v1/models", method="GET").respond_with_json({"data": []})
    client.force_login(arena.alice)

    pages = [
        client.get(list_url()),
        client.get(detail_url(bot)),
        call_made(client, exchange_url(bot)),
        call_made(client, health_url(bot)),
        client.get(detail_url(openai_bot)),
        call_made(client, exchange_url(openai_bot)),
        call_made(client, health_url(openai_bot)),
    ]

    assert all(response.status_code == 200 for response in pages)
    secrets = [bot.secret, bot.previous_secret, openai_bot.secret, openai_bot.api_key]
    for response in pages:
        html = response.content.decode()
        for secret in secrets:
            assert secret not in html
    assert bot.secret_hint in pages[1].content.decode()
    assert "set (not shown)" in pages[4].content.decode()


def test_it_shows_only_the_raw_body_when_indenting_would_blow_it_up(client, arena, httpserver, private_ok):
    nested = "[" * 900 + "]" * 900
    httpserver.expect_request("/bot", method="POST").respond_with_data(f"[{nested},{nested},{nested}]")
    bot = bot_at(arena.rogue_bot, httpserver.url_for("/bot"))
    client.force_login(arena.alice)

    response = call_made(client, exchange_url(bot))

    html = response.content.decode()
    assert "bad_json" in html
    assert "The same body, indented" not in html
    assert len(html) < 100_000


def test_it_gives_an_annotator_no_other_teams_bots_and_no_buttons(client, arena):
    client.force_login(arena.annie)
    listing = client.get(reverse("teams:bot-list")).content.decode()
    assert "rogue" not in listing and "bastion" not in listing
    assert client.get(reverse("teams:bot-detail", args=[arena.rogue_bot.pk])).status_code == 404
    assert client.post(reverse("teams:bot-test", args=[arena.rogue_bot.pk])).status_code == 404


def test_it_keeps_bidi_controls_out_of_a_bot_pages_title(client, arena):
    Bot.objects.filter(pk=arena.rogue_bot.pk).update(name="rogue\u202eexe")
    client.force_login(arena.alice)

    html = client.get(detail_url(arena.rogue_bot)).content.decode()
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]

    assert title.startswith("rogueexe · Red Rogues")
    assert not any(char in title for char in "\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\u202e")
