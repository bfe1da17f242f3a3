"""Bot secrets and API keys never appear in pages, logs or exports once their one showing is over.

A whole round is played against the local bot farm with every log record captured, then every admin
page, the teams' own pages, the API and every admin export are read, and each secret is searched for.
"""

from __future__ import annotations

import logging

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from competition.pipeline import lifecycle
from competition.pipeline.player import RoundPlayer
from conversations.models import Conversation, Turn
from teams.models import Bot
from teams.secrets import bot_secret_rotate
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db


def secrets_of_every_bot() -> dict[str, str]:
    """Every secret-like value of every bot: signing secrets (current and previous) and API keys."""
    found = {}
    for bot in Bot.objects.all():
        for field in ("secret", "previous_secret", "api_key"):
            value = getattr(bot, field)
            if value:
                found[value] = f"{bot.name}.{field}"
    return found


def test_it_never_shows_a_bot_secret_in_pages_logs_or_exports(live_arena, client, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    # One bot with an API key and one mid-rotation, so the previous secret is searched for too.
    Bot.objects.filter(pk=live_arena.aegis_bot.pk).update(api_key="sk-test-api-key-0123456789abcdef")
    bot_secret_rotate(bot=live_arena.bastion_bot)
    live_arena.round.conversations_per_pair = 1
    live_arena.round.max_turns = 2
    live_arena.round.save()
    lifecycle.round_start(round_id=live_arena.round.pk)
    assert RoundPlayer().run().turns > 0
    assert Turn.objects.exists()

    client.force_login(live_arena.olivia)
    texts: dict[str, str] = {}
    urls = [reverse("admin:index")]
    as_olivia = _request(live_arena.olivia)
    for model, model_admin in admin.site._registry.items():
        if model_admin.has_view_permission(as_olivia):
            urls.append(admin_url(model, "changelist"))
            for obj in model_admin.get_queryset(as_olivia)[:3]:
                urls.append(admin_url(obj, "change"))
    for conversation in Conversation.objects.all()[:3]:
        urls.append(reverse("admin:judging_judgedconversation_transcript", args=[conversation.pk]))
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        texts[url] = response.content.decode()
    # The teams' own pages, as the owner of every team's bots.
    for owner in (live_arena.alice, live_arena.carl, live_arena.dana, live_arena.dave):
        client.force_login(owner)
        for bot in Bot.objects.filter(team__memberships__user=owner):
            url = reverse("teams:bot-detail", args=[bot.pk])
            texts[f"{owner.username} {url}"] = client.get(url).content.decode()
        texts[f"{owner.username} bot list"] = client.get(reverse("teams:bot-list")).content.decode()
        texts[f"{owner.username} API bots"] = client.get(reverse("api:bot-list")).content.decode()
    # The API as the organizer.
    client.force_login(live_arena.olivia)
    for name in ("api:bot-list", "api:conversation-list", "api:round-list", "api:competition-list"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        texts[name] = response.content.decode()
    # Every export the admin offers, through the resources it would use.
    for model, model_admin in admin.site._registry.items():
        for resource_class in getattr(model_admin, "resource_classes", None) or []:
            dataset = resource_class().export()
            texts[f"export {model.__name__}"] = dataset.csv + dataset.json
    texts["logs"] = "\n".join(f"{record.name}: {record.getMessage()} {record.args!r}" for record in caplog.records)
    captured = capsys.readouterr()
    texts["stdout+stderr"] = captured.out + captured.err

    secrets = secrets_of_every_bot()
    assert len(secrets) >= 6
    leaks = [(name, where) for secret, name in secrets.items() for where, text in texts.items() if secret in text]
    assert leaks == []
    # The search does find a secret where one is: the negative of the check.
    assert any(secret in f"signed with {secret}" for secret in secrets)


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request
