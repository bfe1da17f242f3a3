"""The bot page shows the fields of the bot's kind only."""

from __future__ import annotations

from django.urls import reverse

from tests import cast


def test_it_hides_openai_fields_on_an_arena_bots_page_and_shows_them_for_openai(page_as, live_server, db):
    arena = cast.build()
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:teams_bot_change", args=[arena.rogue_bot.pk]))
    assert page.locator("#id_url").is_visible()
    assert not page.locator("#id_model").is_visible()
    assert not page.locator("#id_api_key").is_visible()
    page.select_option("#id_kind", "openai")
    assert page.locator("#id_model").is_visible()
    assert page.locator("#id_api_key").is_visible()
    assert page.locator("label[for=id_api_key]").inner_text() == "API key:"


def test_it_shows_the_kinds_fields_when_adding_a_bot(page_as, live_server, db):
    cast.build()
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:teams_bot_add"))
    assert page.locator("#id_kind").input_value() == "arena"
    assert not page.locator("#id_system_prompt").is_visible()
    page.select_option("#id_kind", "openai")
    assert page.locator("#id_system_prompt").is_visible()
