"""Loading a competition file from the admin: the loader of `manage.py load_competition`, every problem
listed at once in file order, a check that changes nothing, and only for those who may write it all."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from competition.models import Competition
from teams.models import Bot, Team
from tests.cast import reader_make
from tests.competition.competition_files import GOOD, good_data, row_counts

pytestmark = pytest.mark.django_db

PAGE = "admin:competition_competition_load"


def upload(content: bytes | str, name: str = "cup.yaml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content)


def post(client, button: str, **data):
    """The page's form sent with one of its buttons: "check" (Check) or "load" (Load, Load it)."""
    return client.post(reverse(PAGE), {button: button.capitalize(), **data})


def good_text() -> str:
    return GOOD.read_text()


def test_it_links_the_page_from_the_competitions_list_for_organizers_only(client, arena):
    client.force_login(arena.olivia)
    assert reverse(PAGE) in client.get(reverse("admin:competition_competition_changelist")).content.decode()
    reader = reader_make("rita", "competition.view_competition")
    client.force_login(reader)
    listing = client.get(reverse("admin:competition_competition_changelist"))
    assert listing.status_code == 200
    assert reverse(PAGE) not in listing.content.decode()
    assert client.get(reverse(PAGE)).status_code == 403
    assert post(client, "load", file=upload(good_text())).status_code == 403
    assert not Competition.objects.filter(slug="test-cup").exists()


def test_it_refuses_the_page_to_an_annotator(client, arena):
    client.force_login(arena.annie)
    assert client.get(reverse(PAGE)).status_code == 403


def test_it_checks_a_file_shows_what_it_would_do_and_loads_that_file_on_confirmation(client, arena):
    client.force_login(arena.olivia)
    before = row_counts()
    checked = post(client, "check", file=upload(good_text()))
    page = checked.content.decode()

    assert row_counts() == before  # a check changes nothing
    assert "What loading cup.yaml would do" in page
    assert "team &#x27;red-team&#x27;: created" in page
    assert "Signing secrets" not in page  # no bot exists yet, so no secret
    token = re.search(r'name="checked" value="([^"]+)"', page).group(1)

    # "Load it" sends back only the token: the file checked is the file loaded.
    loaded = post(client, "load", checked=token).content.decode()
    competition = Competition.objects.get(slug="test-cup")
    assert "Loaded cup.yaml: competition" in loaded
    assert Team.objects.filter(slug__in=["red-team", "blue-team", "green-team"]).count() == 3
    secret = Bot.objects.get(team__slug="red-team", name="direct").secret
    assert secret in loaded  # shown this once ...
    assert "shown only this once" in loaded
    assert LogEntry.objects.filter(object_id=str(competition.pk), user=arena.olivia).exists()
    # ... and the token is spent: loading it again asks for the file.
    again = post(client, "load", checked=token).content.decode()
    assert "is no longer kept" in again


def test_it_lists_every_problem_at_once_in_file_order_and_changes_nothing(client, arena):
    data = good_data()
    data["competition"]["scoring_weights"] = {"saftey": 3}
    data["rounds"][0]["max_turns"] = 0
    data["teams"][1]["side"] = "spectator"
    data["judges"][0]["config"] = {"analyzers": ["nonesuch"]}
    import yaml

    client.force_login(arena.olivia)
    before = row_counts()
    for step in ("check", "load"):
        page = post(client, step, file=upload(yaml.safe_dump(data, sort_keys=False))).content.decode()
        assert row_counts() == before
        assert "4 problems in cup.yaml; nothing was changed." in page
        places = re.findall(r"<tr><td><code>([^<]+)</code></td>", page)
        assert places == [
            "competition.scoring_weights.saftey",
            "rounds[0].max_turns",
            "teams[1].side",
            "judges[0].config.analyzers",
        ], places
        assert 'name="checked"' not in page  # nothing to load


def test_it_loads_at_once_and_reports_an_unchanged_file_as_such(client, arena):
    client.force_login(arena.olivia)
    post(client, "load", file=upload(good_text()))
    assert Competition.objects.filter(slug="test-cup").exists()
    page = post(client, "load", file=upload(good_text())).content.decode()
    assert "Nothing changed: the database already matched the file." in page
    checked = post(client, "check", file=upload(good_text())).content.decode()
    assert "loading it would change nothing" in checked


def test_it_names_what_a_check_would_update(client, arena):
    client.force_login(arena.olivia)
    post(client, "load", file=upload(good_text()))
    changed = good_text().replace("institution: Red University", "institution: Red Institute")
    page = post(client, "check", file=upload(changed)).content.decode()
    assert "team &#x27;red-team&#x27;: updated (institution)" in page
    assert Team.objects.get(slug="red-team").institution == "Red University"


def test_it_says_which_file_types_it_reads(client, arena):
    client.force_login(arena.olivia)
    page = post(client, "check", file=upload(good_text(), name="cup.txt")).content.decode()
    assert "unsupported file type &#x27;.txt&#x27;; use .yaml, .yml or .json" in page


def test_it_refuses_a_file_over_the_limit_before_reading_it(client, arena, monkeypatch):
    from competition.competition_file import admin as upload_admin

    monkeypatch.setattr(upload_admin, "MAX_FILE_BYTES", 100)
    client.force_login(arena.olivia)
    page = post(client, "check", file=upload(good_text())).content.decode()
    assert "the limit is 100 bytes" in page
    assert "What loading" not in page


def test_it_asks_for_a_file_when_none_was_chosen(client, arena):
    client.force_login(arena.olivia)
    assert "Choose a competition file." in post(client, "check").content.decode()


def test_it_keeps_a_checked_file_for_its_checker_only(client, arena):
    client.force_login(arena.olivia)
    page = post(client, "check", file=upload(good_text())).content.decode()
    token = re.search(r'name="checked" value="([^"]+)"', page).group(1)
    other = User.objects.create_superuser("root", "root@example.org", "pw-of-root-123")
    client.force_login(other)
    assert "is no longer kept" in post(client, "load", checked=token).content.decode()
    assert not Competition.objects.filter(slug="test-cup").exists()


def test_it_refuses_a_file_naming_a_superusers_account_to_an_organizer(client, arena):
    User.objects.create_superuser("root", "root@example.org", "pw-of-root-123")
    rob = "{username: rob, email: rob@red.example.org}"
    text = good_text().replace(rob, "{username: root, email: me@evil.example}")
    client.force_login(arena.olivia)
    page = post(client, "load", file=upload(text)).content.decode()
    assert "is a superuser&#x27;s account: only a superuser may load a file naming it" in page
    assert User.objects.get(username="root").email == "root@example.org"


def test_it_escapes_what_the_file_and_its_name_say(client, arena):
    text = good_text().replace("name: Red Team", "name: \"<script>alert('team')</script>\"")
    client.force_login(arena.olivia)
    page = post(client, "load", file=upload(text, name="<img src=x onerror=alert(1)>.yaml")).content.decode()
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert Team.objects.get(slug="red-team").name == "<script>alert('team')</script>"
