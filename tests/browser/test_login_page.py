"""The site's own login page (not the admin's) as a person sees it: a wrong password says so once,
the fields are styled like the rest of the site, and the lockout page says how to get a new password
(a reset by email)."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import expect

from tests import cast

MISMATCH = "Your username and password did not match"


def log_in(page, live_server, username: str, password: str) -> None:
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def test_it_shows_a_failed_logins_error_once(page_as, live_server, db):
    cast.user_make("alice")
    page = page_as(None)
    log_in(page, live_server, "alice", "wrong-password")

    body = page.locator("main").inner_text()
    assert body.count("did not match") == 1, body
    assert page.get_by_role("alert").inner_text().startswith(MISMATCH)
    assert page.locator(".errorlist").count() == 0


def test_it_lets_a_user_in_with_the_right_password_and_shows_no_error(page_as, live_server, db):
    cast.user_make("alice")
    page = page_as(None)
    log_in(page, live_server, "alice", cast.PASSWORD)

    assert "did not match" not in page.locator("main").inner_text()
    expect(page.locator("header").get_by_text("alice")).to_be_visible()


def test_it_styles_the_login_fields_like_the_site(page_as, live_server, db):
    page = page_as(None)
    page.goto(live_server.url + reverse("login"))

    username = page.get_by_label("Username")
    style = username.evaluate("(el) => { const s = getComputedStyle(el); return [s.borderTopLeftRadius, s.display]; }")
    card = page.locator(".card").bounding_box()
    field = username.bounding_box()
    # A full-width, rounded field on its own line under its label, not the browser's bare inline input.
    assert style[0] == "6px"
    assert field["width"] > card["width"] * 0.8
    button = page.get_by_role("button", name="Log in")
    assert button.evaluate("(el) => getComputedStyle(el).color") == "rgb(255, 255, 255)"


def test_it_tells_a_locked_out_user_how_to_get_a_new_password(page_as, live_server, db, settings):
    cast.user_make("alice")
    page = page_as(None)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(page, live_server, "alice", "wrong-password")
    log_in(page, live_server, "alice", cast.PASSWORD)

    body = page.locator("main").inner_text()
    assert "Too many failed logins" in body
    assert "Reset it by email" in body
    page.get_by_role("link", name="Reset it by email").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
