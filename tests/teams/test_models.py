import pytest
from django.db import IntegrityError, transaction

from teams.models import Bot, Membership, Side, Team, bot_snapshot_label
from teams.protocol import chat_role

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


def test_it_labels_a_bot_and_a_frozen_bot_the_same_way(arena):
    bot = arena.rogue_bot
    assert str(bot) == f"{bot.team.name} / {bot.name}"
    assert bot_snapshot_label(bot.snapshot(), 3) == f"{bot.team.slug} / {bot.name} v3"
    assert bot_snapshot_label(None, 1) == "? / ? v1"


def test_it_maps_the_attacker_to_user_and_the_defender_to_assistant():
    assert [chat_role(side) for side in Side] == ["user", "assistant"]
    with pytest.raises(KeyError):
        chat_role("judge")
