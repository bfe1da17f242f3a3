"""Calls to a bot that people ask for ("Check health now", "Test this bot") are queued, never made inside a
web request: one at a time per bot, made once by the task, and throttled across processes."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.test import TestCase, override_settings

from teams.apps import cache_table_create
from teams.bot_calls import BotCallBusy, bot_call_request, bot_call_run
from teams.models import BotCall, BotHealthCheck
from tests.webserver import DATABASE_CACHE, gunicorn_serving, session_cookie

# Generous: /healthz answers in milliseconds; a worker held by a silent bot holds it 45 s.
HEALTHZ_SECONDS = 5
POST_SECONDS = 15


class SilentBot:
    """A TCP server that accepts every connection and never answers (the bot that stalls a worker)."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/bot"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.listener.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_bot():
    bot = SilentBot()
    yield bot
    bot.close()


@pytest.mark.slow
def test_it_answers_healthz_at_once_while_three_bot_tests_wait_on_a_silent_bot(transactional_db, tmp_path, silent_bot):
    from tests import cast

    arena = cast.build()
    bots = [arena.rogue_bot, arena.bastion_bot, arena.crimson_bot]
    for bot in bots:
        bot.url = silent_bot.url
        bot.save()
    cookies = session_cookie(arena.olivia)

    with gunicorn_serving(tmp_path, workers=3, env={"ARENA_ALLOW_PRIVATE_URLS": "1"}) as base:
        session = requests.Session()
        session.cookies.update(cookies)
        session.get(f"{base}/teams/bots/{bots[0].pk}/", timeout=POST_SECONDS)
        csrf = {"X-CSRFToken": session.cookies["csrftoken"]}

        def test_this_bot(bot) -> int:
            url = f"{base}/teams/bots/{bot.pk}/test/"
            return session.post(url, headers=csrf, allow_redirects=False, timeout=POST_SECONDS).status_code

        with ThreadPoolExecutor(3) as pool:
            statuses = list(pool.map(test_this_bot, bots))
        health = requests.get(f"{base}/healthz", timeout=HEALTHZ_SECONDS)

    assert statuses == [302, 302, 302]
    assert health.status_code == 200
    assert silent_bot.accepted == []  # no web request called the bot
    assert BotCall.objects.filter(kind=BotCall.Kind.TEST, status=BotCall.Status.QUEUED).count() == 3


def test_it_makes_a_call_once_when_its_task_runs_twice(arena, httpserver, settings):
    settings.ARENA_ALLOW_PRIVATE_URLS = True
    httpserver.expect_request("/bot", method="POST").respond_with_json({"ok": True})
    bot = arena.rogue_bot
    bot.url = httpserver.url_for("/bot")
    bot.save()
    with TestCase.captureOnCommitCallbacks() as queued:
        call = bot_call_request(bot=bot, kind=BotCall.Kind.HEALTH_CHECK, user=arena.alice)

    assert len(queued) == 1
    bot_call_run(call_pk=call.pk)
    bot_call_run(call_pk=call.pk)

    call.refresh_from_db()
    assert call.status == BotCall.Status.DONE and call.health_check.ok
    assert len(httpserver.log) == 1
    assert BotHealthCheck.objects.filter(bot=bot).count() == 1


def test_it_refuses_a_second_call_to_a_bot_while_one_is_queued(arena):
    first = bot_call_request(bot=arena.rogue_bot, kind=BotCall.Kind.TEST, user=arena.alice)

    with pytest.raises(BotCallBusy) as busy:
        bot_call_request(bot=arena.rogue_bot, kind=BotCall.Kind.HEALTH_CHECK, user=arena.alice)

    assert busy.value.call == first
    # Another bot is not held up.
    assert bot_call_request(bot=arena.crimson_bot, kind=BotCall.Kind.TEST, user=arena.carl).in_flight


def test_it_gives_up_a_call_no_worker_took_and_frees_the_bot(arena):
    stale = bot_call_request(bot=arena.rogue_bot, kind=BotCall.Kind.TEST, user=arena.alice)
    BotCall.objects.filter(pk=stale.pk).update(requested_at=stale.requested_at.replace(year=2020))

    fresh = bot_call_request(bot=arena.rogue_bot, kind=BotCall.Kind.TEST, user=arena.alice)

    stale.refresh_from_db()
    assert stale.status == BotCall.Status.EXPIRED and fresh.in_flight
    bot_call_run(call_pk=stale.pk)  # a late task for the expired call does nothing
    stale.refresh_from_db()
    assert stale.status == BotCall.Status.EXPIRED


def test_it_answers_409_in_the_json_shape_while_a_call_is_under_way(arena, api):
    client = api(arena.alice)
    first = client.post(f"/api/bots/{arena.rogue_bot.pk}/test/")

    second = client.post(f"/api/bots/{arena.rogue_bot.pk}/health-check/")

    assert first.status_code == 202
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "call_in_flight"
    assert first.json()["poll_url"] in second.json()["error"]["message"]


def test_it_shows_a_call_only_to_those_who_may_operate_the_bot(arena, api):
    poll_url = api(arena.alice).post(f"/api/bots/{arena.rogue_bot.pk}/test/").json()["poll_url"]

    assert api(arena.alice).get(poll_url).status_code == 200
    assert api(arena.olivia).get(poll_url).status_code == 200
    assert api(arena.mallory).get(poll_url).status_code == 403  # a member, not an owner
    assert api(arena.carl).get(poll_url).status_code == 404  # another team
    other_bot = f"/api/bots/{arena.crimson_bot.pk}/calls/{poll_url.rstrip('/').rsplit('/', 1)[1]}/"
    assert api(arena.carl).get(other_bot).status_code == 404


def test_it_uses_the_database_cache_without_redis():
    from config import settings as production

    if production.REDIS_URL:
        pytest.skip("REDIS_URL is set in this environment: the settings use Redis")
    assert production.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


def test_it_makes_the_cache_table_after_migrate_and_counts_across_processes(db):
    with override_settings(CACHES=DATABASE_CACHE):
        cache_table_create(sender=None, using="default")
        assert "arena_cache" in connection.introspection.table_names()
        caches["default"].set("throttle_user_1", [1.0, 2.0], 60)
        # Another process opens its own cache object on the same table and sees the same count.
        other = DatabaseCache("arena_cache", {})
        assert other.get("throttle_user_1") == [1.0, 2.0]
