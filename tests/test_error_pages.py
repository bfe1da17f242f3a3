"""The site's own 403, 404 and 500 pages and its favicon."""

from __future__ import annotations

from django.test import Client, RequestFactory
from django.views.defaults import server_error

from tests.cast import PASSWORD


def test_it_answers_an_unknown_page_with_the_sites_404(db):
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()
    assert "arena/favicon.svg" in response.content.decode()


def test_it_answers_another_teams_bot_with_the_same_404(arena):
    client = Client()
    client.login(username="carl", password=PASSWORD)

    response = client.get(f"/teams/bots/{arena.rogue_bot.pk}/")

    assert response.status_code == 404
    assert "not yours to see" in response.content.decode()


def test_it_explains_a_refused_action_on_the_sites_403(arena):
    client = Client()
    client.login(username="mallory", password=PASSWORD)

    response = client.post(f"/teams/bots/{arena.rogue_bot.pk}/health-check/")

    assert response.status_code == 403
    assert "Only the team&#x27;s owners and organizers can check or test this bot." in response.content.decode()


def test_it_renders_the_500_page_without_any_context(db):
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_it_serves_the_favicon_as_a_static_file(db):
    from django.contrib.staticfiles import finders

    assert finders.find("arena/favicon.svg")


def test_it_speaks_of_team_owners_on_the_sites_403_but_not_on_the_admins(arena):
    client = Client()
    client.login(username="mallory", password=PASSWORD)
    site = client.post(f"/teams/bots/{arena.rogue_bot.pk}/health-check/").content.decode()
    assert "Team owners manage their team's bots" in site
    client.login(username="annie", password=PASSWORD)  # an annotator on an organizer's admin page
    answer = client.get("/admin/judging/exportjob/")
    assert answer.status_code == 403
    assert "Team owners" not in answer.content.decode() and "Ask an organizer" in answer.content.decode()
