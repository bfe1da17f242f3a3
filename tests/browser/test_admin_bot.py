"""The bot page shows the fields of the bot's kind only."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import expect

from tests import cast


def test_it_hides_openai_fields_on_an_arena_bots_page_and_shows_them_for_openai(page_as, live_server, db):
    arena = cast.build()
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:teams_bot_change", args=[arena.rogue_bot.pk]))
    expect(page.locator("#id_url")).to_be_visible()
    expect(page.locator("#id_model")).to_be_hidden()
    expect(page.locator("#id_api_key")).to_be_hidden()
    page.select_option("#id_kind", "openai")
    expect(page.locator("#id_model")).to_be_visible()
    expect(page.locator("#id_api_key")).to_be_visible()
    assert page.locator("label[for=id_api_key]").inner_text() == "API key:"


def test_it_shows_the_kinds_fields_when_adding_a_bot(page_as, live_server, db):
    cast.build()
    page = page_as("olivia")
    page.goto(live_server.url + reverse("admin:teams_bot_add"))
    assert page.locator("#id_kind").input_value() == "arena"
    expect(page.locator("#id_system_prompt")).to_be_hidden()
    page.select_option("#id_kind", "openai")
    expect(page.locator("#id_system_prompt")).to_be_visible()
