import csv
import io

import pytest
import tablib
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile

from teams.models import Bot, Membership, Team
from teams.resources import BotResource, TeamResource, spreadsheet_safe
from teams.secrets import bot_secret_rotate, bot_secret_rotation_finish
from tests.cast import labelled_conversation_make, user_make
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def import_upload(client, model, name: str, text: str):
    upload = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(admin_url(model, "import"), {"resource": "0", "format": "0", "import_file": upload})


def import_confirm(client, model, response):
    confirm = response.context["confirm_form"]
    return client.post(admin_url(model, "process_import"), confirm.initial)


def test_it_opens_every_teams_page_for_the_organizer(client, arena):
    labelled = labelled_conversation_make(arena)
    client.force_login(arena.olivia)
    for obj in (arena.rogues, arena.rogues.memberships.first(), arena.rogue_bot, labelled.health_check):
        assert client.get(admin_url(obj, "changelist")).status_code == 200
        assert client.get(admin_url(obj, "change")).status_code == 200
    for model in (Team, Membership, Bot):
        assert client.get(admin_url(model, "add")).status_code == 200
    # Health checks are written by the health-check task only.
    assert client.get(admin_url(labelled.health_check, "add")).status_code == 403


def test_it_never_shows_a_bot_secret_on_its_pages(client, arena):
    bot = arena.rogue_bot
    old = bot.secret
    bot_secret_rotate(bot=bot)
    bot.api_key = "sk-team-private-key"
    bot.save()
    client.force_login(arena.olivia)
    for url in (admin_url(bot, "change"), admin_url(bot, "changelist"), admin_url(arena.rogues, "change")):
        page = client.get(url).content.decode()
        assert bot.secret not in page
        assert old not in page
        assert "sk-team-private-key" not in page
    assert bot.secret_hint in client.get(admin_url(bot, "change")).content.decode()


def test_it_shows_a_new_bots_secret_once_after_adding_it(client, arena):
    client.force_login(arena.olivia)
    response = client.post(
        admin_url(Bot, "add"),
        {
            "team": arena.rogues.pk,
            "name": "rogue-2",
            "kind": "arena",
            "url": "https://rogues.example.org/bot",
            "active": "on",
            "max_concurrency": 4,
        },
        follow=True,
    )
    bot = Bot.objects.get(name="rogue-2")
    shown = messages_of(response)
    assert any(bot.secret in message for message in shown)
    assert client.get(admin_url(bot, "change")).content.decode().count(bot.secret) == 0
    assert all(bot.secret not in message for message in messages_of(client.get(admin_url(bot, "changelist"))))


def test_it_shows_the_secret_of_a_bot_added_with_a_new_team(client, arena):
    client.force_login(arena.olivia)
    response = client.post(
        admin_url(Team, "add"),
        {
            "name": "Scarlet Sparks",
            "slug": "scarlet-sparks",
            "side": "attacker",
            "institution": "",
            "active": "on",
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
            "bots-TOTAL_FORMS": 1,
            "bots-INITIAL_FORMS": 0,
            "bots-0-name": "spark",
            "bots-0-kind": "arena",
            "bots-0-url": "https://sparks.example.org/bot",
            "bots-0-active": "on",
        },
        follow=True,
    )
    bot = Bot.objects.get(team__slug="scarlet-sparks", name="spark")
    assert any(bot.secret in message for message in messages_of(response))


def test_it_escapes_the_secret_message(client, arena):
    client.force_login(arena.olivia)
    response = client.post(
        admin_url(Bot, "add"),
        {
            "team": arena.rogues.pk,
            "name": "<script>alert(1)</script>",
            "kind": "arena",
            "url": "https://rogues.example.org/bot",
            "max_concurrency": 4,
        },
        follow=True,
    )
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_it_rotates_a_secret_and_shows_the_new_one_once(client, arena):
    bot = arena.rogue_bot
    old, version = bot.secret, bot.version
    client.force_login(arena.olivia)
    response = client.post(
        admin_url(Bot, "changelist"), {"action": "rotate_secret", "_selected_action": [bot.pk]}, follow=True
    )
    bot.refresh_from_db()
    assert bot.previous_secret == old
    assert bot.secret != old
    assert bot.version == version
    assert any(bot.secret in message for message in messages_of(response))
    assert bot.secret not in client.get(admin_url(bot, "changelist")).content.decode()


def test_it_finishes_a_rotation(client, arena):
    bot = arena.rogue_bot
    bot_secret_rotate(bot=bot)
    client.force_login(arena.olivia)
    client.post(admin_url(Bot, "changelist"), {"action": "finish_rotation", "_selected_action": [bot.pk]})
    bot.refresh_from_db()
    assert bot.previous_secret == ""
    assert len(bot.secret) == 64


def test_it_keeps_only_the_latest_two_secrets_when_rotating_twice(arena):
    bot = arena.rogue_bot
    first = bot.secret
    second = bot_secret_rotate(bot=bot)
    third = bot_secret_rotate(bot=bot)
    bot.refresh_from_db()
    assert (bot.secret, bot.previous_secret) == (third, second)
    assert first not in (bot.secret, bot.previous_secret)
    bot_secret_rotation_finish(bot=bot)
    bot.refresh_from_db()
    assert (bot.secret, bot.previous_secret) == (third, "")


def test_it_refuses_rotation_to_an_annotator(client, arena):
    bot = arena.rogue_bot
    old = bot.secret
    client.force_login(arena.annie)
    response = client.post(admin_url(Bot, "changelist"), {"action": "rotate_secret", "_selected_action": [bot.pk]})
    assert response.status_code == 403
    bot.refresh_from_db()
    assert bot.secret == old


def test_it_keeps_an_api_key_left_empty_and_removes_it_on_request(client, arena):
    bot = arena.bastion_bot
    bot.kind, bot.model, bot.api_key = Bot.Kind.OPENAI, "llama-3", "sk-kept"
    bot.save()
    client.force_login(arena.olivia)
    form = {
        "team": bot.team_id,
        "name": bot.name,
        "kind": "openai",
        "url": bot.url,
        "model": "llama-3",
        "active": "on",
        "max_concurrency": 4,
        "api_key": "",
    }
    client.post(admin_url(bot, "change"), form)
    bot.refresh_from_db()
    assert bot.api_key == "sk-kept"
    client.post(admin_url(bot, "change"), form | {"api_key": "sk-new"})
    bot.refresh_from_db()
    assert bot.api_key == "sk-new"
    client.post(admin_url(bot, "change"), form | {"api_key_clear": "on"})
    bot.refresh_from_db()
    assert bot.api_key == ""


def test_it_exports_team_names_that_cannot_run_as_formulas(client, arena):
    hostile = {
        '=HYPERLINK("http://evil.example","x")': "eq",
        "+cmd|' /C calc'!A0": "plus",
        "-2+3+cmd|' /C calc'!A0": "minus",
        "@SUM(1+1)*cmd|' /C calc'!A0": "at",
        "\t=1+1": "tab",
        "\r=1+1": "cr",
    }
    for name, slug in hostile.items():
        Team.objects.create(name=name, slug=slug, side="attacker")
    client.force_login(arena.olivia)
    fields = {f"teamresource_{name}": "on" for name in ("slug", "name", "institution", "side", "active")}
    response = client.post(admin_url(Team, "export"), {"format": "0", "resource": "0", **fields})
    assert response.status_code == 200
    exported = {row["slug"]: row["name"] for row in csv_rows(response.content)}
    for name, slug in hostile.items():
        assert exported[slug] == "'" + name
    assert exported["red-rogues"] == "Red Rogues"


def test_it_leaves_plain_numbers_and_safe_text_alone():
    assert spreadsheet_safe("-3") == "-3"
    assert spreadsheet_safe("+4.5") == "+4.5"
    assert spreadsheet_safe("-3+cmd") == "'-3+cmd"
    assert spreadsheet_safe("Blue = safe") == "Blue = safe"
    assert spreadsheet_safe(7) == 7


def test_it_exports_bots_without_secrets_or_api_keys(arena):
    arena.rogue_bot.api_key = "sk-private"
    arena.rogue_bot.save()
    dataset = BotResource().export()
    assert "secret" not in dataset.headers
    assert "api_key" not in dataset.headers
    text = dataset.csv
    assert arena.rogue_bot.secret not in text
    assert "sk-private" not in text
    assert {row["team"] for row in dataset.dict} == {"red-rogues", "crimson-crew", "blue-bastion", "azure-aegis"}


def test_it_imports_teams_after_confirmation(client, arena):
    client.force_login(arena.olivia)
    text = "slug,name,institution,side,active\nnova,Nova,Nova U,defender,1\nember,Ember,,attacker,1\n"
    response = import_upload(client, Team, "teams.csv", text)
    assert response.status_code == 200
    assert not Team.objects.filter(slug__in=["nova", "ember"]).exists()
    import_confirm(client, Team, response)
    assert set(Team.objects.filter(slug__in=["nova", "ember"]).values_list("side", flat=True)) == {
        "defender",
        "attacker",
    }


def test_it_imports_nothing_when_one_row_is_invalid(client, arena):
    client.force_login(arena.olivia)
    text = "slug,name,institution,side,active\nnova,Nova,,defender,1\nember,Ember,,spectator,1\n"
    response = import_upload(client, Team, "teams.csv", text)
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert "spectator" in response.content.decode()
    assert not Team.objects.filter(slug__in=["nova", "ember"]).exists()
    # Even a real (not dry) run through the resource keeps nothing.
    result = TeamResource().import_data(tablib.Dataset().load(text, format="csv"), dry_run=False)
    assert result.has_validation_errors()
    assert not Team.objects.filter(slug__in=["nova", "ember"]).exists()


def test_it_imports_bots_through_save_with_a_version_bump_and_without_a_secret(client, arena):
    bot = arena.rogue_bot
    secret = bot.secret
    text = (
        "team,name,kind,url,model,system_prompt,timeout_seconds,max_concurrency,active,secret\n"
        "red-rogues,rogue,arena,https://rogues.example.org/v2,,,,4,1,chosen-by-file\n"
        "crimson-crew,ember,arena,https://crimson.example.org/ember,,,,2,1,chosen-by-file\n"
    )
    client.force_login(arena.olivia)
    response = import_confirm(client, Bot, import_upload(client, Bot, "bots.csv", text))
    bot.refresh_from_db()
    assert bot.url == "https://rogues.example.org/v2"
    assert bot.version == 2
    assert bot.secret == secret
    ember = Bot.objects.get(team=arena.crimson, name="ember")
    assert ember.secret != "chosen-by-file"
    assert len(ember.secret) == 64
    # The new bot's secret is shown once so the organizer can pass it on.
    assert any(ember.secret in message for message in messages_of(response))


def test_it_imports_memberships_by_username_and_team_slug(client, arena):
    client.force_login(arena.olivia)
    nina = user_make("nina")  # on no team yet: a person plays for one team per competition
    text = "user,team,role\nnina,red-rogues,member\n"
    import_confirm(client, Membership, import_upload(client, Membership, "members.csv", text))
    assert Membership.objects.get(user=nina, team=arena.rogues).role == "member"


def test_it_imports_no_membership_when_a_username_is_unknown(client, arena):
    client.force_login(arena.olivia)
    text = "user,team,role\ncarl,red-rogues,member\nnobody,red-rogues,member\n"
    response = import_upload(client, Membership, "members.csv", text)
    assert "confirm_form" not in response.context
    assert not Membership.objects.filter(user=arena.carl, team=arena.rogues).exists()


def test_it_refuses_a_team_file_naming_one_slug_twice(client, arena):
    client.force_login(arena.olivia)
    text = "slug,name,institution,side,active\nnova,Nova,,defender,1\nnova,Nova Two,,attacker,1\n"

    response = import_upload(client, Team, "teams.csv", text)

    assert "confirm_form" not in response.context
    assert "is on an earlier row of this file too" in response.content.decode()
    assert not Team.objects.filter(slug="nova").exists()


def test_it_keeps_the_side_of_a_team_that_played_a_published_round_and_lets_others_change(client, arena):
    from competition.models import Round

    labelled_conversation_make(arena)
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.PUBLISHED)
    played = "slug,name,institution,side,active\nred-rogues,Red Rogues,,defender,1\n"
    fresh = Team.objects.create(slug="nova", name="Nova", side="attacker")
    unplayed = "slug,name,institution,side,active\nnova,Nova,,defender,1\n"

    refused = TeamResource().import_data(tablib.Dataset().load(played, format="csv"), dry_run=False)
    accepted = TeamResource().import_data(tablib.Dataset().load(unplayed, format="csv"), dry_run=False)

    assert refused.has_validation_errors()
    assert Team.objects.get(slug="red-rogues").side == "attacker"
    assert not accepted.has_validation_errors() and not accepted.has_errors()
    fresh.refresh_from_db()
    assert fresh.side == "defender"


def test_it_warns_in_the_preview_and_after_the_import_that_a_team_changes_side(client, arena):
    client.force_login(arena.olivia)
    text = "slug,name,institution,side,active\nred-rogues,Red Rogues,,defender,1\nnova,Nova,,attacker,1\n"

    preview = import_upload(client, Team, "teams.csv", text)

    assert "confirm_form" in preview.context  # allowed: it played no published round
    page = preview.content.decode()
    assert (
        '<li class="warning">Check before confirming: &#x27;red-rogues&#x27; changes side, attacker -&gt; defender'
        in page
    )
    assert "nova" not in " ".join(messages_of(preview))  # a new team changes no side
    assert Team.objects.get(slug="red-rogues").side == "attacker"
    done = import_confirm(client, Team, preview)
    assert Team.objects.get(slug="red-rogues").side == "defender"
    assert any(m.startswith("Side changed: 'red-rogues' changes side") for m in messages_of(done))


def test_it_shows_the_reason_a_team_that_played_a_published_round_keeps_its_side(client, arena):
    from competition.models import Round

    labelled_conversation_make(arena)
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.PUBLISHED)
    client.force_login(arena.olivia)
    text = "slug,name,institution,side,active\nred-rogues,Red Rogues,,defender,1\n"

    preview = import_upload(client, Team, "teams.csv", text)

    assert "confirm_form" not in preview.context
    page = preview.content.decode()
    assert "&#x27;red-rogues&#x27; played a published round as attacker; its side cannot change" in page
    assert "Check before confirming" not in page  # refused, so no warning of a change
    assert Team.objects.get(slug="red-rogues").side == "attacker"


def test_it_names_the_earlier_row_of_a_slug_repeated_in_the_preview(client, arena):
    client.force_login(arena.olivia)
    text = "slug,name,institution,side,active\nred-rogues,Red Rogues,,attacker,1\nred-rogues,Rogues Two,,attacker,1\n"
    preview = import_upload(client, Team, "teams.csv", text)
    assert "confirm_form" not in preview.context
    assert "the team &#x27;red-rogues&#x27; is on an earlier row of this file too: one row per team" in (
        preview.content.decode()
    )
    assert Team.objects.get(slug="red-rogues").name == "Red Rogues"
