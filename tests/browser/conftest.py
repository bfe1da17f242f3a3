"""Browser tests: what a person sees, in Debian's chromium driven by Playwright's sync API.

Every test here is marked ``browser`` (select them with ``-m browser``, leave them out with
``-m "not browser"``). They run against pytest-django's ``live_server`` (so the database is
transactional) and skip, saying why, when /usr/bin/chromium is missing; ``.ci/run`` installs it when
it can. Playwright's own browser download does not work on these machines, so the system chromium is
launched with a fresh profile.

Fixtures:
- ``browser_context``: one headless chromium profile per test module, 1280x800, cookies cleared
  before each test.
- ``page_as``: ``page_as(user)`` opens a page signed in as ``user`` (a session cookie made on the
  server side, so no test spends time on the login form); ``page_as(None)`` is an anonymous page.

The database is transactional, and flushing it between tests drops what migrations wrote: the
autouse ``staff_groups`` fixture makes the Organizer and Annotator groups again before each test.
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)
            # The live server serves from another thread: the database is transactional.
            item.add_marker(pytest.mark.django_db(transaction=True))


def chromium_missing_reason() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run browser tests"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the python package playwright is not installed (requirements.txt pins it)"
    return None


@pytest.fixture(autouse=True)
def staff_groups(transactional_db) -> None:
    """The staff groups and their permissions, as competition/migrations/0002_groups.py makes them."""
    migration = importlib.import_module("competition.migrations.0002_groups")
    migration.groups_create(global_apps, SimpleNamespace(connection=connection))


@pytest.fixture(scope="module")
def browser_context() -> Iterator:
    reason = chromium_missing_reason()
    if reason:
        print(f"browser tests skipped: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    profile = tempfile.mkdtemp(prefix="arena-chromium-")
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run beside a
    # running loop unless told to. Told only while this module's browser runs (never left in the
    # environment of later tests or of the processes they start).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        try:
            with sync_playwright() as playwright:
                context = playwright.chromium.launch_persistent_context(
                    profile,
                    executable_path=str(CHROMIUM),
                    headless=True,
                    args=CHROMIUM_ARGS,
                    viewport=VIEWPORT,
                )
                context.set_default_timeout(15_000)
                # Assertions wait for the page as actions do: after a click that navigates, a bare
                # is_visible() read the old page on a loaded machine (CI's accounts journey failed so).
                expect.set_options(timeout=15_000)
                try:
                    yield context
                finally:
                    context.close()
        finally:
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page_as(browser_context, live_server) -> Iterator[Callable]:
    """``page_as(user)``: a new page signed in as ``user`` (None: signed out) on the live server."""
    browser_context.clear_cookies()
    pages = []

    def open_page(user) -> object:
        browser_context.clear_cookies()
        if user is not None:
            client = Client()
            client.force_login(user if not isinstance(user, str) else get_user_model().objects.get(username=user))
            browser_context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                        "url": live_server.url,
                    }
                ]
            )
        page = browser_context.new_page()
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        page.close()
