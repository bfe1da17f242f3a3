"""Hostile admin imports: unknown yes/no words, text the database cannot store, oversized files.

teams-active-maybe.csv comes from the team's shared cases (tests/cases/README.md says where).
"""

from pathlib import Path

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile

from teams.models import Bot, Team
from teams.resources import BotResource, TeamResource
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db

CASES = Path(__file__).resolve().parents[1] / "cases"


def import_upload(client, model, name: str, data: bytes):
    upload = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(admin_url(model, "import"), {"resource": "0", "format": "0", "import_file": upload})


def row_errors(result) -> list[tuple[int, str, list[str]]]:
    """(row number, column, messages) for every row validation error of an import result."""
    return [
        (invalid.number, column, list(messages))
        for invalid in result.invalid_rows
        for column, messages in invalid.error_dict.items()
    ]


def test_it_refuses_a_maybe_in_the_active_column_and_keeps_the_team_as_it_was(client, arena):
    team = Team.objects.create(slug="bool-team", name="Bool Team", side="attacker", active=True)
    client.force_login(arena.olivia)
    response = import_upload(client, Team, "teams.csv", (CASES / "teams-active-maybe.csv").read_bytes())
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    page = response.content.decode()
    assert "column &#x27;active&#x27;" in page or "column 'active'" in page
    assert "maybe" in page
    team.refresh_from_db()
    assert team.active is True
    # A real (not dry) run through the resource keeps nothing either.
    dataset = tablib.Dataset().load((CASES / "teams-active-maybe.csv").read_text(), format="csv")
    result = TeamResource().import_data(dataset, dry_run=False)
    assert [(number, column) for number, column, _ in row_errors(result)] == [(1, "active")]
    assert "'maybe' is not a yes/no value" in row_errors(result)[0][2][0]
    team.refresh_from_db()
    assert team.active is True


def test_it_refuses_an_unknown_yes_no_word_for_a_new_team_too(arena):
    text = "slug,name,institution,side,active\nnova,Nova,,defender,1\nember,Ember,,attacker,perhaps\n"
    result = TeamResource().import_data(tablib.Dataset().load(text, format="csv"), dry_run=False)
    assert [(number, column) for number, column, _ in row_errors(result)] == [(2, "active")]
    assert not Team.objects.filter(slug__in=["nova", "ember"]).exists()


@pytest.mark.parametrize(
    ("word", "expected"),
    [("1", True), ("yes", True), ("TRUE", True), ("0", False), ("No", False), ("false", False)],
)
def test_it_reads_the_yes_no_words_it_knows(arena, word, expected):
    text = f"slug,name,institution,side,active\nnova,Nova,,defender,{word}\n"
    result = TeamResource().import_data(tablib.Dataset().load(text, format="csv"), dry_run=False)
    assert not result.has_validation_errors()
    assert Team.objects.get(slug="nova").active is expected


def test_it_refuses_a_bot_row_whose_cell_holds_a_nul_or_a_lone_surrogate(arena):
    text = (
        "team,name,kind,url,model,system_prompt,timeout_seconds,max_concurrency,active\n"
        "red-rogues,nul-bot,arena,https://rogues.example.org/n,,be\x00nice,,2,1\n"
        "red-rogues,sur-bot,arena,https://rogues.example.org/s,,ok,,2,maybe\n"
        "red-rogues,sur\ud800bot,arena,https://rogues.example.org/t,,ok,,2,1\n"
    )
    dataset = tablib.Dataset().load(text, format="csv")
    result = BotResource().import_data(dataset, dry_run=False)
    errors = {(number, column): messages for number, column, messages in row_errors(result)}
    assert set(errors) == {(1, "system_prompt"), (2, "active"), (3, "name")}
    assert "NUL character" in errors[(1, "system_prompt")][0]
    assert "unpaired surrogate (U+D800)" in errors[(3, "name")][0]
    assert not Bot.objects.filter(name__in=["nul-bot", "sur-bot"]).exists()


def test_it_refuses_an_import_file_over_the_size_limit(client, arena, settings):
    settings.ARENA_IMPORT_MAX_BYTES = 100
    client.force_login(arena.olivia)
    text = "slug,name,institution,side,active\n" + "".join(f"t{i},T {i},,attacker,1\n" for i in range(20))
    response = import_upload(client, Team, "teams.csv", text.encode())
    assert response.status_code == 200
    assert "the limit is 100 bytes" in response.content.decode()
    assert not Team.objects.filter(slug="t0").exists()


def test_it_accepts_an_import_file_under_the_size_limit(client, arena, settings):
    settings.ARENA_IMPORT_MAX_BYTES = 10_000
    client.force_login(arena.olivia)
    text = "slug,name,institution,side,active\nt0,T 0,,attacker,1\n"
    response = import_upload(client, Team, "teams.csv", text.encode())
    assert "confirm_form" in response.context
