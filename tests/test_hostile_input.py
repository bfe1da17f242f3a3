"""Hostile input at every door gets a clear error where a person sees it, never a 500 or a traceback:
the one guard for JSON (config/hostile.py) in the API and the imports, ids past 64 bits, NUL in
addresses and names, and import-export's admin views given addresses they do not expect."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from competition.models import Round
from teams.models import ApiToken, Team
from tests.teams.test_admin import messages_of
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000
HUGE_ID = "9223372036854775808"  # 2**63: one past the largest 64-bit integer


def error_of(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return response.json()["error"]


# --- The guard itself ------------------------------------------------------------------------------
def test_it_refuses_deep_nesting_nul_surrogates_nan_and_numbers_out_of_range_and_drops_a_bom():
    from config.hostile import MAX_DEPTH, HostileJson, json_loads

    assert json_loads('\ufeff{"a": [1]}') == {"a": [1]}
    assert json_loads(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    assert json_loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert json_loads("[1e308, -2, 0.5, " + "9" * 4000 + "]")[:3] == [1e308, -2, 0.5]
    for text, said in [
        ("[" * 100_000, "nested too deeply"),
        ('{"a": ["x\\u0000y"]}', "a[0] holds a NUL"),
        ('{"messages": [{"content": "\\ud800"}]}', "messages[0].content holds an unpaired surrogate (U+D800)"),
        ('{"\\udc00": 1}', "the key \udc00 holds an unpaired surrogate"),
        ('{"a": NaN}', "NaN is not a JSON value"),
        ('{"a": [-1e400]}', "the number -1e400 is out of range"),  # Python reads it as -inf
        ('{"a": ' + "7" * 5000 + "}", "an integer of 5,000 digits"),  # Python's int() raises a bare ValueError
        ("{nope", "not JSON"),
    ]:
        with pytest.raises(HostileJson, match=re.escape(said)):
            json_loads(text)
    with pytest.raises(HostileJson, match="not UTF-8"):
        json_loads(b'{"a": "\xff"}')
    with pytest.raises(HostileJson, match="the limit is 10 bytes"):
        json_loads(b'{"a": "long text"}', max_bytes=10)


# --- The API ---------------------------------------------------------------------------------------
def test_it_answers_a_deeply_nested_api_body_with_a_400_in_the_json_shape(arena, api):
    client = api(arena.alice)
    for method, url in [("patch", f"/api/bots/{arena.rogue_bot.pk}/"), ("post", "/api/bots/")]:
        response = getattr(client, method)(url, DEEP, content_type="application/json")
        assert response.status_code == 400
        assert "nested too deeply" in error_of(response)["message"]


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" * 4301])
def test_it_answers_a_number_out_of_range_in_an_api_body_with_a_400(arena, api, number):
    # 1e400 was read as infinity and int(inf) crashed the practice match's start (a 500).
    client = api(arena.alice)
    for method, url in [("post", "/api/practice-matches/"), ("patch", f"/api/bots/{arena.rogue_bot.pk}/")]:
        body = f'{{"competition": {number}, "bot": 1, "opponent": 1, "timeout_seconds": {number}}}'
        response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 400, (url, response.content)
        assert "JSON parse error" in error_of(response)["message"]


def test_it_answers_nul_and_surrogates_in_an_api_body_with_a_400(arena, api):
    client = api(arena.alice)
    for body in ['{"name": "a\\u0000b"}', '{"name": "\\ud800"}']:
        response = client.patch(f"/api/bots/{arena.rogue_bot.pk}/", body, content_type="application/json")
        assert response.status_code == 400
        assert "cannot store" in error_of(response)["message"]
    arena.rogue_bot.refresh_from_db()
    assert arena.rogue_bot.name == "rogue"


def test_it_answers_an_id_past_64_bits_without_an_overflow(arena, api, client):
    api_response = api(arena.alice).get(f"/api/conversations/?round={HUGE_ID}")
    assert api_response.status_code == 400
    assert "round" in error_of(api_response)["fields"]
    assert api(arena.alice).get(f"/api/bots/{HUGE_ID}/").status_code == 404
    assert api(arena.alice).get(f"/api/rounds/{HUGE_ID}/").status_code == 404
    client.force_login(arena.alice)
    assert client.get(f"/conversations/?round={HUGE_ID}").status_code == 200
    assert client.get("/conversations/?round=²&category=a%00b").status_code == 200
    assert client.get(f"/teams/bots/{HUGE_ID}/").status_code == 404


def test_it_answers_a_nul_in_a_competition_slug_with_a_404(arena, api):
    response = api(arena.alice).get("/api/competitions/a%00b/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert api(arena.alice).get(f"/api/competitions/{arena.competition.slug}/").status_code == 200


def test_it_refuses_an_api_key_name_with_nul_or_over_100_characters(arena, client):
    client.force_login(arena.alice)
    for name, said in [("ci\x00key", "NUL character"), ("k" * 101, "at most 100 characters")]:
        response = client.post(reverse("api-tokens"), {"name": name})
        assert response.status_code == 400
        assert said in response.content.decode()
    assert not ApiToken.objects.exists()
    assert client.post(reverse("api-tokens"), {"name": "k" * 100}).status_code == 302


# --- Chat JSONL imports --------------------------------------------------------------------------------
GOOD = json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})


def test_it_names_a_lone_surrogate_and_a_deep_line_in_the_import_command(arena, tmp_path):
    path = tmp_path / "in.jsonl"
    surrogate = '{"messages": [{"role": "user", "content": "a\\ud800"}]}'
    path.write_text("\n".join([GOOD, surrogate, "[" * 100_000 + "]" * 100_000]))

    with pytest.raises(CommandError) as raised:
        call_command("import_dataset", str(path), competition=arena.competition.slug, round_slug="bad")

    message = str(raised.value)
    assert "line 2: messages[0].content holds an unpaired surrogate (U+D800)" in message
    assert "line 3: nested too deeply" in message
    assert not Round.objects.filter(slug="bad").exists()


def test_it_accepts_a_byte_order_mark_at_the_start_of_a_chat_jsonl(arena, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode() + b"\n")

    call_command("import_dataset", str(path), competition=arena.competition.slug, round_slug="bom")

    assert Round.objects.get(slug="bom").imported


def test_it_refuses_a_chat_jsonl_over_the_size_limit_before_reading_it(arena, tmp_path, settings):
    settings.ARENA_DATASET_IMPORT_MAX_BYTES = 1000
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([GOOD] * 20))

    with pytest.raises(CommandError, match="the limit is 1,000 bytes"):
        call_command("import_dataset", str(path), competition=arena.competition.slug, round_slug="big")


def test_it_shows_import_problems_in_the_admin_instead_of_a_500(arena, client, settings):
    url = reverse("admin:judging_datasetconversation_import_chat")
    client.force_login(arena.olivia)
    form = {"competition": arena.competition.pk, "round_name": "Old data", "round_slug": "old-data"}
    surrogate = SimpleUploadedFile("in.jsonl", b'{"messages": [{"role": "user", "content": "\\udfff"}]}')

    page = client.post(url, form | {"file": surrogate})

    assert page.status_code == 200
    assert "line 1: messages[0].content holds an unpaired surrogate (U+DFFF)" in page.content.decode()
    settings.ARENA_DATASET_IMPORT_MAX_BYTES = 10
    big = client.post(url, form | {"file": SimpleUploadedFile("in.jsonl", GOOD.encode())})
    assert "the limit is 10 bytes" in big.content.decode()
    assert not Round.objects.filter(slug="old-data").exists()


# --- import-export's admin views ----------------------------------------------------------------------
def test_it_answers_an_export_url_with_a_filter_the_list_refuses_with_a_message(arena, client):
    client.force_login(arena.olivia)

    response = client.get(admin_url(Team, "export") + "?nonsense=1")

    assert (response.status_code, response["Location"]) == (302, admin_url(Team, "changelist"))
    assert any("filter this list does not offer" in message for message in messages_of(response))
    assert client.get(admin_url(Team, "export")).status_code == 200


def test_it_answers_an_import_confirm_naming_no_kept_file_with_a_message(arena, client):
    client.force_login(arena.olivia)
    confirm = {"import_file_name": "tmp-not-there", "original_file_name": "teams.csv", "format": "0", "resource": "0"}

    for name in ("tmp-not-there", "/etc/passwd", "", "../../etc/passwd"):
        response = client.post(admin_url(Team, "process_import"), confirm | {"import_file_name": name})
        assert (response.status_code, response["Location"]) == (302, admin_url(Team, "import")), name
        assert any("upload it again" in message for message in messages_of(response))
    client.force_login(arena.alice)
    assert client.post(admin_url(Team, "process_import"), confirm).status_code in (302, 403)
