"""A team owner's second week in a real browser: from the Register page to the bot protocol, read
on the site, and a bot registered at an example bot's URL whose 401 says why."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import expect

from tests import cast
from tests.browser.screen import horizontal_overflow


def test_it_follows_the_register_page_to_the_bot_protocol_on_the_site(page_as, live_server, db):
    cast.build()
    page = page_as("alice")
    page.goto(live_server.url + reverse("teams:bot-register"))

    page.get_by_role("link", name="The bot protocol").click()
    page.wait_for_url("**" + reverse("guide-bot-protocol"))

    expect(page.get_by_role("heading", name="Checking the signature").first).to_be_visible()
    assert page.locator("table").count() >= 1
    assert horizontal_overflow(page) == 0


def test_it_shows_the_api_guide_as_a_page(page_as, live_server, db):
    page = page_as(None)

    page.goto(live_server.url + reverse("guide-api"))

    expect(page.get_by_role("heading", name="The REST API")).to_be_visible()
    assert horizontal_overflow(page) == 0
