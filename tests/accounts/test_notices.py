"""Notices: what teams are told, on the site and by email, and the unsubscribe link."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Notice, NoticeKind, NoticePreference
from competition.entries import services as entry_services
from competition.models import Round, Standing
from competition.pipeline import lifecycle
from teams.models import BotHealthCheck, Side
from tests.cast import PASSWORD, team_make, user_make
from tests.smtp import html_of, link_in, text_of

pytestmark = pytest.mark.django_db


def test_it_tells_a_team_once_per_outage_that_its_bot_fails_health_checks(arena, inbox, on_commit):
    with on_commit():
        for ok in (False, False, False, True, False):
            BotHealthCheck.objects.create(bot=arena.rogue_bot, ok=ok, error_kind="timeout", error="slow")
    notices = Notice.objects.filter(user=arena.alice, kind=NoticeKind.BOT_UNHEALTHY)
    assert notices.count() == 2  # the first outage and the one after the passing check
    assert set(Notice.objects.filter(kind=NoticeKind.BOT_UNHEALTHY).values_list("user__username", flat=True)) == {
        "alice",
        "mallory",
    }
    messages = inbox.to("alice@example.org")
    assert len(messages) == 2
    assert "rogue fails its health checks" in messages[0]["Subject"]
    assert "/teams/bots/" in text_of(messages[0])


def test_it_tells_the_playing_teams_a_round_started_and_their_place_when_published(arena, inbox, on_commit):
    with on_commit():
        lifecycle.round_start(round_id=arena.round.pk)
    started = Notice.objects.filter(kind=NoticeKind.ROUND_STARTED)
    assert set(started.values_list("user__username", flat=True)) == {"alice", "mallory", "carl", "dana", "dave"}
    # (The test settings play the round at once; its standings are set here by hand.)
    Round.objects.filter(pk=arena.round.pk).update(status=Round.Status.SCORED)
    Standing.objects.filter(round=arena.round).delete()
    for rank, bot in enumerate([arena.crimson_bot, arena.rogue_bot], start=1):
        Standing.objects.create(
            round=arena.round, team=bot.team, bot=bot, side=Side.ATTACKER, rank=rank, score=1 / rank, inputs={}
        )
    with on_commit():
        lifecycle.round_publish(round_id=arena.round.pk)
    (published,) = Notice.objects.filter(user=arena.alice, kind=NoticeKind.ROUND_PUBLISHED)
    assert "placed 2" in published.subject
    mail = inbox.to("alice@example.org")[-1]
    assert "placed 2" in mail["Subject"]
    assert "Stop these emails" in html_of(mail)


def test_it_mails_no_kind_a_person_turned_off_through_the_unsubscribe_link(arena, inbox, on_commit):
    with on_commit():
        BotHealthCheck.objects.create(bot=arena.rogue_bot, ok=False, error_kind="timeout")
    mail = inbox.to("alice@example.org")[0]
    assert mail["List-Unsubscribe"]
    path = link_in(mail, "/accounts/unsubscribe/").removeprefix("http://testserver")
    anonymous = Client()
    assert b"Stop getting this by email" in anonymous.get(path).content
    assert not NoticePreference.objects.filter(user=arena.alice).exists()  # a GET changes nothing
    assert b"no longer get this by email" in anonymous.post(path).content
    assert NoticePreference.objects.get(user=arena.alice, kind=NoticeKind.BOT_UNHEALTHY).email is False

    with on_commit():
        BotHealthCheck.objects.create(bot=arena.rogue_bot, ok=True)
        BotHealthCheck.objects.create(bot=arena.rogue_bot, ok=False, error_kind="timeout")
    assert len(inbox.to("alice@example.org")) == 1  # not mailed again
    assert Notice.objects.filter(user=arena.alice, kind=NoticeKind.BOT_UNHEALTHY).count() == 2  # but listed
    assert Client().get(path.replace("/unsubscribe/", "/unsubscribe/x")).status_code == 400


def test_it_tells_the_requester_a_decline_with_its_reason(arena, inbox, on_commit):
    lena = user_make("lena")
    team = team_make("Late Team", "late-team", Side.DEFENDER, lena)
    entry = entry_services.entry_request(competition=arena.competition, team=team, requested_by=lena)
    with on_commit():
        entry_services.entry_decline(entry=entry, reason="The field is full")
    (mail,) = inbox.to("lena@example.org")
    assert "declined" in mail["Subject"]
    assert "The field is full" in text_of(mail)


def test_it_shows_each_person_only_their_own_notices_and_saves_their_choices(arena, inbox, on_commit):
    with on_commit():
        BotHealthCheck.objects.create(bot=arena.bastion_bot, ok=False, error_kind="timeout")
    dana, alice = Client(), Client()
    dana.login(username="dana", password=PASSWORD)
    alice.login(username="alice", password=PASSWORD)
    assert b"bastion fails its health checks" in dana.get("/accounts/notices/").content
    assert b"bastion fails" not in alice.get("/accounts/notices/").content
    wanted = {kind: "on" for kind in NoticeKind.values if kind != NoticeKind.ROUND_STARTED}
    assert alice.post("/accounts/notices/", wanted).status_code == 302
    assert list(NoticePreference.objects.filter(user=arena.alice, email=False).values_list("kind", flat=True)) == [
        "round_started"
    ]
