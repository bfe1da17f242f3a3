"""What every page and command around the site says about itself: the icon an admin page names and
/favicon.ico, and a shell and a demo site that start without complaining."""

from __future__ import annotations

import importlib
import io
import warnings

from django.core.management import call_command
from django.urls import reverse
from whitenoise.middleware import WhiteNoiseMiddleware


def test_it_names_the_icon_on_admin_pages_and_serves_favicon_ico(client, arena):
    client.force_login(arena.olivia)

    admin_page = client.get(reverse("admin:index")).content.decode()
    icon = client.get("/favicon.ico")

    assert 'rel="icon"' in admin_page and "favicon" in admin_page
    assert icon.status_code == 301
    assert icon["Location"].endswith("favicon.svg")


def test_it_starts_the_shell_without_objects_it_cannot_import(db):
    out = io.StringIO()

    call_command("shell", command="pass", verbosity=1, stdout=out)

    assert "could not be automatically imported" not in out.getvalue()


def test_it_starts_the_demos_site_without_a_warning_about_static_files(settings):
    demo = importlib.import_module("config.demo_settings")
    for name in ("DEBUG", "STATIC_ROOT", "WHITENOISE_USE_FINDERS", "WHITENOISE_AUTOREFRESH"):
        setattr(settings, name, getattr(demo, name))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        middleware = WhiteNoiseMiddleware(get_response=lambda request: None)

    assert [str(warning.message) for warning in caught] == []
    assert "/static/arena/favicon.svg" in middleware.files  # served from the apps' folders all the same
