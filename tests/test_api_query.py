"""Query parameters the API's schema does not allow are a 400 naming them (config/api_query.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/bots/", "kind=", "kind"),  # an empty value for a parameter with choices
        ("/api/bots/", "kind=nonsense", "kind"),
        ("/api/competitions/", "page=", "page"),  # an empty page was read as the first
        ("/api/competitions/", "page=1&page=2", "page"),  # a repeated one as the last given
        ("/api/practice-matches/", "page=1e-05", "page"),
        ("/api/conversations/", "team=red-rogues", "team"),  # no such filter: was ignored
        ("/api/conversations/", "round=x", "round"),
        ("/api/conversations/", "page_size=false", "page_size"),
        ("/api/conversations/", "page_size=0", "page_size"),  # the schema says from 1 now
        ("/api/competitions/", "page=0", "page"),  # was a 404 (DRF's "Invalid page."), the schema said any integer
        ("/api/rounds/", "page=-1", "page"),
    ],
)
def test_it_refuses_a_query_parameter_the_schema_does_not_allow(arena, api, path, query, field):
    response = api(arena.alice).get(f"{path}?{query}")

    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == [field]
    assert response.json()["error"]["code"] == "invalid"


def test_it_names_the_parameters_an_operation_takes(arena, api):
    message = api(arena.alice).get("/api/conversations/?team=x").json()["error"]["message"]

    assert "team" in message and "competition" in message and "outcome" in message


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/bots/", "kind=arena"),
        ("/api/competitions/", "page=1"),
        ("/api/conversations/", "round=1&outcome=defended&page_size=2"),
        ("/api/conversations/", "cursor="),  # an empty cursor is the first page, as documented
    ],
)
def test_it_answers_a_query_the_schema_allows(arena, api, path, query):
    assert api(arena.alice).get(f"{path}?{query}").status_code == 200


def test_it_leaves_paths_outside_the_schema_to_their_views(arena, api):
    assert api(arena.alice).get("/api/no-such-thing/?page=x").status_code == 404


def test_it_refuses_a_request_without_a_required_query_parameter(arena, api):
    from competition.entries.models import Entry

    entry = Entry.objects.get(competition=arena.competition, team=arena.rogues)
    for query in ("", "?other=1"):
        response = api(arena.alice).delete(f"/api/entries/{entry.pk}/bots/{query}")

        assert response.status_code == 400, response.content
        assert response.json()["error"]["fields"]["bot"] == ["Required."]
    assert arena.rogue_bot.pk in api(arena.alice).get(f"/api/entries/{entry.pk}/").json()["bots"]


def test_it_answers_a_page_past_the_last_with_a_404_as_before(arena, api):
    assert api(arena.alice).get("/api/competitions/?page=2").status_code == 404
