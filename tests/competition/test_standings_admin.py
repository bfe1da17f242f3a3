"""Standings in the organizers' admin: the round page with their inputs, a preview before Publish,
round actions in the admin history, and who may see the rows."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from competition.models import Round, Standing, StandingRevision
from competition.pipeline.scoring import round_score
from judging.models import FinalLabel
from judging.services import conversations_outcome_refresh
from teams.models import Bot
from tests.test_permissions import admin_url

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:competition_round_changelist"
HOSTILE = "<script>alert('bot')</script>"


def act(client, user, action: str, round_, **extra):
    client.force_login(user)
    return client.post(reverse(CHANGELIST), {"action": action, "_selected_action": [round_.pk], **extra}, follow=True)


def test_it_shows_the_standings_with_their_inputs_on_the_round_page(client, scored):
    Bot.objects.filter(pk=scored.rogue_bot.pk).update(name=HOSTILE)
    round_score(round_id=scored.round.pk, reason="test", resamples=50)
    client.force_login(scored.olivia)
    page = client.get(admin_url(scored.round, "change")).content.decode()
    assert "Standings with their inputs" in page
    assert "malicious_code: 1/2" in page  # bastion lost 1 of its 2 malicious_code attacks
    assert "Rating [95% interval]" in page
    assert HOSTILE not in page and "&lt;script&gt;alert(&#x27;bot&#x27;)&lt;/script&gt;" in page


def test_it_says_on_the_round_page_how_many_labels_a_person_confirmed(client, scored):
    round_score(round_id=scored.round.pk, reason="test", resamples=50)
    labelled = FinalLabel.objects.filter(turn__conversation__match__round=scored.round)
    first = labelled.order_by("pk").first()
    FinalLabel.objects.filter(pk=first.pk).update(source=FinalLabel.Source.HUMAN_MAJORITY)
    conversations_outcome_refresh(conversation_ids=[first.turn.conversation_id])  # as the label services would
    client.force_login(scored.olivia)

    page = client.get(admin_url(scored.round, "change")).content.decode()

    assert f"1 of {labelled.count()} defender replies confirmed by a person" in page


def test_it_calls_the_standings_a_preview_until_the_round_is_published(client, scored):
    round_score(round_id=scored.round.pk, reason="test", resamples=50)
    client.force_login(scored.olivia)
    before = client.get(admin_url(scored.round, "change")).content.decode()
    Round.objects.filter(pk=scored.round.pk).update(status=Round.Status.PUBLISHED, published_at="2026-12-08T01:47Z")

    after = client.get(admin_url(scored.round, "change")).content.decode()

    assert "A preview: the teams see these standings once the round is published." in before
    assert "preview" not in re.sub(r"<[^>]*>", "", after).lower()  # in words; a field's class may say it
    assert "Published 2026-12-08 01:47: the teams see these standings" in after


def test_it_previews_the_standings_before_publishing_and_records_who_published(client, scored):
    preview = act(client, scored.olivia, "publish_rounds", scored.round).content.decode()
    scored.round.refresh_from_db()
    assert scored.round.status == Round.Status.SCORED  # nothing published yet
    assert "Publishing shows these standings to the teams" in preview
    assert "bastion" in preview and "Publish 1 round" in preview
    assert Standing.objects.filter(round=scored.round).count() == 8  # computed for the preview
    act(client, scored.olivia, "publish_rounds", scored.round, confirm="yes")
    scored.round.refresh_from_db()
    assert scored.round.status == Round.Status.PUBLISHED
    entry = LogEntry.objects.get(object_id=str(scored.round.pk), change_message="Round action: published")
    assert entry.user == scored.olivia


def test_it_refuses_to_publish_a_round_that_is_not_scored(client, arena):
    preview = act(client, arena.olivia, "publish_rounds", arena.round).content.decode()
    assert "only scored rounds are published" in preview
    assert "Publish 0 rounds" in preview
    refused = act(client, arena.olivia, "publish_rounds", arena.round, confirm="yes").content.decode()
    arena.round.refresh_from_db()
    assert arena.round.status == Round.Status.DRAFT
    # The message names the round as written: the admin's capitalisation of messages would make the
    # slug read "Demo-...", a name that does not exist.
    slug = arena.round.competition.slug
    assert slug != slug.capitalize()
    assert f"{slug} / {arena.round.name} is draft" in refused
    assert slug.capitalize() not in refused
    assert not LogEntry.objects.filter(object_id=str(arena.round.pk)).exists()


def test_it_lets_organizers_and_not_annotators_read_standings(client, scored):
    round_score(round_id=scored.round.pk, reason="test", resamples=50)
    Round.objects.filter(pk=scored.round.pk).update(status=Round.Status.PUBLISHED)
    standing = Standing.objects.filter(bot=scored.bastion_bot).first()
    StandingRevision.objects.create(round=scored.round, team=scored.bastion, reason="test", changes={"score": [1, 0]})
    revision = StandingRevision.objects.first()
    client.force_login(scored.olivia)
    for obj in (standing, revision):
        assert client.get(admin_url(obj, "changelist")).status_code == 200
        assert client.get(admin_url(obj, "change")).status_code == 200
    client.force_login(scored.annie)
    for obj in (standing, revision):
        assert client.get(admin_url(obj, "changelist")).status_code == 403
