import pytest
from django.db import IntegrityError, transaction

from teams.models import Bot, Membership, Team

pytestmark = pytest.mark.django_db


def test_it_raises_the_version_when_the_url_changes(arena):
    bot = arena.rogue_bot
    assert bot.version == 1
    bot.url = "https://rogues.example.org/v2"
    bot.save()
    bot.refresh_from_db()
    assert bot.version == 2


def test_it_raises_the_version_when_the_configuration_changes(arena):
    bot = arena.bastion_bot
    bot.kind = Bot.Kind.OPENAI
    bot.model = "llama-3"
    bot.save()
    bot.system_prompt = "Be careful."
    bot.save()
    bot.refresh_from_db()
    assert bot.version == 3


def test_it_keeps_the_version_when_only_the_name_or_activity_changes(arena):
    bot = arena.bastion_bot
    bot.name = "bastion-renamed"
    bot.active = False
    bot.save()
    bot.refresh_from_db()
    assert bot.version == 1


def test_it_generates_a_distinct_64_hex_secret_per_bot(arena):
    secrets = {bot.secret for bot in arena.attacker_bots + arena.defender_bots}
    assert len(secrets) == 4
    assert all(len(secret) == 64 and int(secret, 16) >= 0 for secret in secrets)
    assert arena.rogue_bot.secret_hint.startswith(arena.rogue_bot.secret[:4])
    assert arena.rogue_bot.secret not in arena.rogue_bot.secret_hint


def test_it_refuses_two_bots_with_one_name_in_a_team(arena):
    with pytest.raises(IntegrityError), transaction.atomic():
        Bot.objects.create(team=arena.rogues, name="rogue", url="https://example.org/")


def test_it_refuses_a_duplicate_membership(arena):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(team=arena.rogues, user=arena.alice)


def test_it_refuses_an_unknown_side(arena):
    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.create(name="Grey", slug="grey", side="spectator")
