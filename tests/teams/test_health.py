"""Bot health: the ping, the stored rows, the schedule, the periodic task and the reads."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django_q.models import Schedule
from werkzeug import Response

from teams.models import BotHealthCheck
from teams.selectors import bot_health_history, bot_list_for_user
from teams.services import bot_health_check
from teams.tasks import bot_health_check_task, bots_health_check_all

SCHEDULE_FUNC = "teams.tasks.bots_health_check_all"


@pytest.fixture(autouse=True)
def private_ok(settings):
    settings.ARENA_ALLOW_PRIVATE_URLS = True


def ping_handler(secrets: dict[str, str]):
    """An arena.v1 ping endpoint for several bots (by path) that checks the signature itself."""

    def handle(request):
        secret = secrets[request.path]
        signed = f"{request.headers['X-Arena-Timestamp']}.".encode() + request.get_data()
        expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if expected not in request.headers.get("X-Arena-Signature", "").split(","):
            return Response(json.dumps({"error": "bad signature"}), status=401)
        if json.loads(request.get_data()) != {"protocol": "arena.v1", "type": "ping"}:
            return Response(json.dumps({"error": "not a ping"}), status=400)
        return Response(json.dumps({"ok": True}), content_type="application/json")

    return handle


def point_at(bot, url: str) -> None:
    bot.url = url
    bot.save()


def test_it_stores_a_passing_health_check_with_its_latency(arena, httpserver):
    bot = arena.rogue_bot
    point_at(bot, httpserver.url_for("/rogue"))
    httpserver.expect_request("/rogue", method="POST").respond_with_handler(ping_handler({"/rogue": bot.secret}))

    check = bot_health_check(bot=bot)

    check.refresh_from_db()
    assert (check.bot, check.ok, check.error_kind, check.error) == (bot, True, "", "")
    assert check.latency_ms is not None
    assert check.latency_ms >= 0


def test_it_stores_a_failing_health_check_with_its_kind(arena, httpserver):
    bot = arena.rogue_bot
    point_at(bot, httpserver.url_for("/rogue"))
    httpserver.expect_request("/rogue").respond_with_handler(ping_handler({"/rogue": "not-the-secret"}))

    check = bot_health_check(bot=bot)

    assert (check.ok, check.error_kind) == (False, "http_status")
    assert "HTTP 401" in check.error
    assert check.latency_ms is not None


@pytest.mark.parametrize(
    ("answer", "kind"), [({"ok": False}, "bad_content"), ({"content": "hi"}, "bad_content"), ([True], "bad_json")]
)
def test_it_fails_a_ping_answered_without_ok_true(arena, httpserver, answer, kind):
    bot = arena.rogue_bot
    point_at(bot, httpserver.url_for("/rogue"))
    httpserver.expect_request("/rogue").respond_with_json(answer)

    check = bot_health_check(bot=bot)

    assert (check.ok, check.error_kind) == (False, kind)


def test_it_signs_the_ping_with_both_secrets_during_a_rotation(arena, httpserver):
    bot = arena.rogue_bot
    old_secret = bot.secret
    bot.previous_secret, bot.secret = old_secret, "e" * 64
    point_at(bot, httpserver.url_for("/rogue"))
    httpserver.expect_request("/rogue").respond_with_handler(ping_handler({"/rogue": old_secret}))

    assert bot_health_check(bot=bot).ok


def test_it_stores_a_blocked_address_without_latency(arena, settings):
    settings.ARENA_ALLOW_PRIVATE_URLS = False

    check = bot_health_check(bot=arena.rogue_bot)

    assert (check.ok, check.error_kind, check.latency_ms) == (False, "blocked_address", None)


def test_it_checks_an_openai_bot_by_listing_its_models(arena, httpserver):
    bot = arena.bastion_bot
    bot.kind, bot.model, bot.api_key = "openai", "tiny-llm", "sk-health"
    point_at(bot, httpserver.url_for("/v1/"))
    httpserver.expect_request(
        "/v1/models", method="GET", headers={"Authorization": "Bearer sk-health"}
    ).respond_with_json({"object": "list", "data": [{"id": "tiny-llm"}]})

    assert bot_health_check(bot=bot).ok


def test_it_fails_an_openai_bot_that_refuses_the_key(arena, httpserver):
    bot = arena.bastion_bot
    bot.kind, bot.api_key = "openai", "sk-wrong"
    point_at(bot, httpserver.url_for("/v1"))
    httpserver.expect_request("/v1/models").respond_with_json({"error": "invalid key"}, status=401)

    check = bot_health_check(bot=bot)

    assert (check.ok, check.error_kind) == (False, "http_status")


def test_it_has_the_health_schedule_after_migrating(db):
    schedules = Schedule.objects.filter(func=SCHEDULE_FUNC)

    assert [(s.schedule_type, s.minutes, s.repeats) for s in schedules] == [(Schedule.MINUTES, 10, -1)]


def test_it_checks_every_active_bot_and_skips_inactive_ones(arena, httpserver, django_capture_on_commit_callbacks):
    secrets = {}
    for bot in (arena.rogue_bot, arena.crimson_bot, arena.bastion_bot, arena.aegis_bot):
        point_at(bot, httpserver.url_for(f"/{bot.name}"))
        secrets[f"/{bot.name}"] = bot.secret
    arena.crimson_bot.active = False
    arena.crimson_bot.save()
    arena.aegis.active = False
    arena.aegis.save()
    httpserver.expect_request("/rogue").respond_with_handler(ping_handler(secrets))
    httpserver.expect_request("/bastion").respond_with_handler(ping_handler(secrets))

    with django_capture_on_commit_callbacks(execute=True):
        enqueued = bots_health_check_all()

    assert enqueued == 2
    checked = {(check.bot.name, check.ok) for check in BotHealthCheck.objects.select_related("bot")}
    assert checked == {("rogue", True), ("bastion", True)}
    assert sorted(request.path for request, _ in httpserver.log) == ["/bastion", "/rogue"]


def test_it_enqueues_nothing_before_the_transaction_commits(arena, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        bots_health_check_all()

    assert len(callbacks) == 4
    assert not BotHealthCheck.objects.exists()


def test_it_skips_a_bot_deactivated_or_deleted_before_its_task_runs(arena, httpserver):
    bot = arena.rogue_bot
    point_at(bot, httpserver.url_for("/rogue"))
    bot.active = False
    bot.save()

    bot_health_check_task(bot.pk)
    bot_health_check_task(999_999)

    assert not BotHealthCheck.objects.exists()
    assert httpserver.log == []


def test_it_runs_the_check_for_an_active_bot(arena, httpserver):
    bot = arena.rogue_bot
    point_at(bot, httpserver.url_for("/rogue"))
    httpserver.expect_request("/rogue").respond_with_handler(ping_handler({"/rogue": bot.secret}))

    bot_health_check_task(bot.pk)

    assert list(BotHealthCheck.objects.values_list("bot_id", "ok")) == [(bot.pk, True)]


def test_it_lists_a_bots_health_newest_first_up_to_the_limit(arena):
    for ok in (True, False, True):
        BotHealthCheck.objects.create(bot=arena.rogue_bot, ok=ok, latency_ms=5)
    BotHealthCheck.objects.create(bot=arena.crimson_bot, ok=True, latency_ms=5)

    history = list(bot_health_history(bot=arena.rogue_bot, limit=2))

    assert [check.ok for check in history] == [True, False]
    assert all(check.bot == arena.rogue_bot for check in history)


def test_it_lists_only_the_bots_of_a_users_teams(arena):
    assert list(bot_list_for_user(user=arena.alice)) == [arena.rogue_bot]
    assert list(bot_list_for_user(user=arena.mallory)) == [arena.rogue_bot]
    assert list(bot_list_for_user(user=arena.dana)) == [arena.bastion_bot]


def test_it_lists_every_bot_for_staff_and_none_for_outsiders(arena):
    everyone = {arena.rogue_bot, arena.crimson_bot, arena.bastion_bot, arena.aegis_bot}

    assert set(bot_list_for_user(user=arena.olivia)) == everyone
    assert list(bot_list_for_user(user=AnonymousUser())) == []
    assert arena.crimson_bot not in bot_list_for_user(user=arena.alice)
