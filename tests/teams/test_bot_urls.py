"""A bot's URL is http:// or https://, wherever it is set: the site's form, the API, an admin import
and the competition file. Anything else (ftp:// passed Django's URLField) would be accepted and then
fail every conversation of a round. And the kinds offered: the platform's probe kind is nobody's to
choose, in the admin either."""

from __future__ import annotations

import pytest
import tablib
from django.urls import reverse

from teams.models import Bot
from teams.resources import BotResource

pytestmark = pytest.mark.django_db

REFUSED = ["ftp://bots.example.org/bot", "ftps://bots.example.org/bot", "file:///etc/passwd", "gopher://example.org/"]
MESSAGE = "must be an http:// or https:// URL"
FORM = {"name": "second", "kind": "arena", "max_concurrency": 4, "active": "on"}


@pytest.mark.parametrize("url", REFUSED)
def test_it_refuses_a_url_that_is_not_http_on_the_site(client, arena, url):
    client.force_login(arena.alice)

    response = client.post(reverse("teams:bot-register"), {**FORM, "team": arena.rogues.pk, "url": url})

    assert response.status_code == 400  # the form again, with the field's error
    assert list(response.context["form"].errors) == ["url"]
    if url.startswith("ftp"):  # URLField alone took these; file:// and gopher:// it calls invalid itself
        assert MESSAGE in response.content.decode()
    assert not Bot.objects.filter(name="second").exists()


def test_it_accepts_http_and_https_on_the_site(client, arena):
    client.force_login(arena.alice)
    for number, url in enumerate(["http://bots.example.org/a", "https://bots.example.org/b"]):
        data = {**FORM, "name": f"bot-{number}", "team": arena.rogues.pk, "url": url}
        assert client.post(reverse("teams:bot-register"), data).status_code == 302
    assert Bot.objects.filter(name__startswith="bot-").count() == 2


@pytest.mark.parametrize("url", REFUSED)
def test_it_refuses_a_url_that_is_not_http_in_the_api(arena, api, url):
    response = api(arena.alice).post("/api/bots/", {"team": "red-rogues", "name": "second", "url": url}, format="json")

    assert response.status_code == 400, response.content
    assert "url" in response.content.decode() and not Bot.objects.filter(name="second").exists()

    changed = api(arena.alice).patch(f"/api/bots/{arena.rogue_bot.pk}/", {"url": url}, format="json")
    assert changed.status_code == 400
    arena.rogue_bot.refresh_from_db()
    assert arena.rogue_bot.url != url


def test_it_refuses_a_url_that_is_not_http_in_an_import_and_keeps_nothing(arena):
    text = (
        "team,name,kind,url,max_concurrency,active\n"
        "red-rogues,fine,arena,https://bots.example.org/fine,4,1\n"
        "red-rogues,ftp-bot,arena,ftp://bots.example.org/bot,4,1\n"
    )
    result = BotResource().import_data(tablib.Dataset().load(text, format="csv"), dry_run=False)

    errors = [(invalid.number, column) for invalid in result.invalid_rows for column in invalid.error_dict]
    assert errors == [(2, "url")]
    assert not Bot.objects.filter(name__in=["fine", "ftp-bot"]).exists()


def test_it_never_offers_the_probe_kind_in_the_admin_but_shows_the_probe_bots_own(client, arena):
    from competition.pipeline.probes import probe_bot
    from tests.test_permissions import admin_url

    client.force_login(arena.olivia)

    add = client.get(admin_url(Bot, "add"))
    probe = client.get(admin_url(probe_bot(), "change"))

    assert [value for value, _ in add.context["adminform"].form.fields["kind"].choices] == ["arena", "openai"]
    assert Bot.Kind.PROBE in [value for value, _ in probe.context["adminform"].form.fields["kind"].choices]
