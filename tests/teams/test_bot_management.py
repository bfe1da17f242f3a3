"""Team owners manage their bots on the site: register, edit (new version), rotate the secret.
Members see without acting; other teams get 404."""

from __future__ import annotations

from django.urls import reverse

from teams.models import Bot

FORM = {
    "name": "second",
    "kind": "arena",
    "url": "https://bots.example.org/second",
    "max_concurrency": 4,
    "active": "on",
}


def test_it_registers_a_bot_and_shows_its_secret_once(client, arena):
    client.force_login(arena.alice)

    response = client.post(reverse("teams:bot-register"), {**FORM, "team": arena.rogues.pk}, follow=True)

    bot = Bot.objects.get(team=arena.rogues, name="second")
    assert response.redirect_chain == [(reverse("teams:bot-detail", args=[bot.pk]), 302)]
    assert bot.secret in response.content.decode()
    assert bot.secret not in client.get(reverse("teams:bot-detail", args=[bot.pk])).content.decode()


def test_it_offers_only_the_teams_the_user_owns(client, arena):
    client.force_login(arena.carl)

    page = client.get(reverse("teams:bot-register")).content.decode()
    refused = client.post(reverse("teams:bot-register"), {**FORM, "team": arena.rogues.pk})

    assert "Crimson Crew" in page and "Red Rogues" not in page
    assert refused.status_code == 400
    assert not Bot.objects.filter(name="second").exists()


def test_it_refuses_registration_to_a_member_who_owns_no_team(client, arena):
    client.force_login(arena.mallory)

    assert client.get(reverse("teams:bot-register")).status_code == 403
    assert client.post(reverse("teams:bot-register"), {**FORM, "team": arena.rogues.pk}).status_code == 403
    assert not Bot.objects.filter(name="second").exists()


def test_it_shows_each_bad_field_of_a_registration(client, arena):
    client.force_login(arena.alice)

    response = client.post(
        reverse("teams:bot-register"), {**FORM, "team": arena.rogues.pk, "url": "no", "max_concurrency": 0}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid URL." in html
    assert "Ensure this value is greater than or equal to 1." in html


def test_it_saves_a_changed_url_as_a_new_version(client, arena):
    client.force_login(arena.alice)
    bot = arena.rogue_bot

    response = client.post(
        reverse("teams:bot-edit", args=[bot.pk]),
        {**FORM, "name": "rogue", "url": "https://bots.example.org/v2"},
        follow=True,
    )

    bot.refresh_from_db()
    assert (bot.url, bot.version) == ("https://bots.example.org/v2", 2)
    assert "Saved as version 2; rounds already started keep v1." in response.content.decode()


def test_it_keeps_the_api_key_when_its_box_is_left_empty(client, arena):
    bot = arena.rogue_bot
    bot.api_key = "sk-keep-me"
    bot.save()
    client.force_login(arena.alice)

    page = client.get(reverse("teams:bot-edit", args=[bot.pk])).content.decode()
    client.post(reverse("teams:bot-edit", args=[bot.pk]), {**FORM, "name": "rogue", "url": bot.url, "api_key": ""})

    bot.refresh_from_db()
    assert "sk-keep-me" not in page
    assert bot.api_key == "sk-keep-me"


def test_it_refuses_edits_by_a_member_and_hides_the_bot_from_another_team(client, arena):
    url = reverse("teams:bot-edit", args=[arena.rogue_bot.pk])
    client.force_login(arena.mallory)
    member = client.post(url, {**FORM, "name": "rogue", "url": "https://evil.example.org/"})
    client.force_login(arena.carl)
    foreign = client.get(url)

    arena.rogue_bot.refresh_from_db()
    assert (member.status_code, foreign.status_code) == (403, 404)
    assert arena.rogue_bot.url != "https://evil.example.org/"


def test_it_rotates_a_secret_showing_the_new_one_once_then_finishes(client, arena):
    bot = arena.rogue_bot
    old = bot.secret
    client.force_login(arena.alice)

    shown = client.post(reverse("teams:bot-rotate-secret", args=[bot.pk]), follow=True).content.decode()
    bot.refresh_from_db()
    again = client.get(reverse("teams:bot-detail", args=[bot.pk])).content.decode()
    client.post(reverse("teams:bot-finish-rotation", args=[bot.pk]))

    assert bot.secret in shown and bot.previous_secret == old
    assert bot.secret not in again
    assert "Finish the rotation" in again
    bot.refresh_from_db()
    assert bot.previous_secret == ""


def test_it_refuses_rotation_to_a_member_and_to_another_team(client, arena):
    old = arena.rogue_bot.secret
    url = reverse("teams:bot-rotate-secret", args=[arena.rogue_bot.pk])
    client.force_login(arena.mallory)
    member = client.post(url)
    client.force_login(arena.carl)
    foreign = client.post(url)

    arena.rogue_bot.refresh_from_db()
    assert (member.status_code, foreign.status_code) == (403, 404)
    assert arena.rogue_bot.secret == old


def test_it_answers_a_get_on_rotation_with_the_bots_page_and_rotates_nothing(client, arena):
    old = arena.rogue_bot.secret
    client.force_login(arena.alice)

    response = client.get(reverse("teams:bot-rotate-secret", args=[arena.rogue_bot.pk]))

    arena.rogue_bot.refresh_from_db()
    assert response.status_code == 302
    assert arena.rogue_bot.secret == old


def test_it_offers_a_team_only_the_kinds_a_team_may_choose(client, arena):
    client.force_login(arena.alice)

    page = client.get(reverse("teams:bot-register")).content.decode()
    refused = client.post(reverse("teams:bot-register"), {**FORM, "team": arena.rogues.pk, "kind": "probe"})
    accepted = client.post(reverse("teams:bot-register"), {**FORM, "team": arena.rogues.pk, "kind": "openai"})

    assert 'value="arena"' in page and 'value="openai"' in page
    assert 'value="probe"' not in page
    assert refused.status_code == 400
    assert accepted.status_code == 302
    assert Bot.objects.get(name="second").kind == Bot.Kind.OPENAI
