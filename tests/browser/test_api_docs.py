"""The API's documentation pages (Swagger UI at /api/docs/, ReDoc at /api/redoc/) load under the
site's Content-Security-Policy without one violation: nothing from Google Fonts or a CDN, no inline
script, no worker made from a blob, and no request to another site at all."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests import cast


@pytest.mark.parametrize("name", ["api:docs", "api:redoc"])
def test_it_loads_the_api_docs_with_no_console_error_and_nothing_from_another_site(page_as, live_server, name):
    cast.user_make("alice")
    page = page_as("alice")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(live_server.url + reverse(name))
    # Both UIs draw the schema's operations once they have fetched it.
    page.get_by_text("/api/bots/").first.wait_for()
    page.wait_for_load_state("networkidle")

    assert errors == []
    ours = urlsplit(live_server.url).netloc
    assert [url for url in requested if urlsplit(url).netloc != ours] == []


def test_it_keeps_the_side_menus_text_link_in_place_of_redoclys_logo(page_as, live_server):
    cast.user_make("alice")
    page = page_as("alice")
    page.goto(live_server.url + reverse("api:redoc"))
    link = page.get_by_role("link", name="API docs by Redocly")
    link.wait_for()

    expect(link).to_be_visible()
    assert page.locator("img[alt='redocly logo']").is_hidden()
