"""The bot protocol and the API guide are pages of the site, rendered from docs/, and linked where
the site cites them."""

from __future__ import annotations

from django.urls import reverse


def test_it_serves_the_bot_protocol_rendered_from_docs(client, db):
    html = client.get(reverse("guide-bot-protocol")).content.decode()

    assert "<h1>" in html
    assert "X-Arena-Signature" in html
    assert "<table>" in html


def test_it_serves_the_api_guide_rendered_from_docs(client, db):
    html = client.get(reverse("guide-api")).content.decode()

    assert "The REST API" in html
    assert "Authorization: Token" in html


def test_it_links_the_bot_protocol_from_the_register_page(client, arena):
    client.force_login(arena.alice)

    html = client.get(reverse("teams:bot-register")).content.decode()

    assert f'href="{reverse("guide-bot-protocol")}"' in html
    assert "docs/bot-protocol.md" not in html


def test_it_links_the_api_guide_from_the_api_keys_page(client, arena):
    client.force_login(arena.alice)

    html = client.get(reverse("api-tokens")).content.decode()

    assert f'href="{reverse("guide-api")}"' in html
